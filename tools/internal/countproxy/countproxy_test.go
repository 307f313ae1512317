package countproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func auth(service string) string {
	return "AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=00"
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, method, url, service, target, ctype, body string
		wantSvc, wantOp                                 string
	}{
		{"json target", "POST", "/", "dynamodb", "DynamoDB_20120810.BatchWriteItem", "", "", "dynamodb", "BatchWriteItem"},
		{"sqs json", "POST", "/", "sqs", "AmazonSQS.SendMessageBatch", "", "", "sqs", "SendMessageBatch"},
		{"query protocol", "POST", "/", "monitoring", "", "application/x-www-form-urlencoded", "Action=PutMetricData&Version=2010-08-01", "monitoring", "PutMetricData"},
		{"rpc v2", "POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData", "monitoring", "", "", "", "monitoring", "PutMetricData"},
		{"s3 get", "GET", "/bucket/key.csv", "s3", "", "", "", "s3", "GetObject"},
		{"s3 put", "PUT", "/bucket/key.csv", "s3", "", "", "", "s3", "PutObject"},
		{"s3 versioning", "PUT", "/bucket?versioning", "s3", "", "", "", "s3", "PUT bucket"},
		{"unsigned", "GET", "/moto-api/", "", "", "", "", "unknown", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://x"+tt.url, strings.NewReader(tt.body))
			if tt.service != "" {
				r.Header.Set("Authorization", auth(tt.service))
			}
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			svc, op := Classify(r)
			if svc != tt.wantSvc || op != tt.wantOp {
				t.Fatalf("Classify = %s %s, want %s %s", svc, op, tt.wantSvc, tt.wantOp)
			}
			if b, _ := io.ReadAll(r.Body); string(b) != tt.body {
				t.Fatalf("the body was consumed: %q", b)
			}
		})
	}
}

func TestProxyCountsPerCaller(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Host))
	}))
	defer up.Close()
	p, err := New(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := p.Listen("a")
	b, _ := p.Listen("b")
	for i, u := range []string{a, a, b} {
		req, _ := http.NewRequest("POST", u+"/", nil)
		req.Header.Set("Authorization", auth("sqs"))
		req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		host, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := strings.TrimPrefix(u, "http://"); string(host) != want {
			t.Fatalf("request %d reached upstream with Host %q, want the client's %q (SigV4 signs it)", i, host, want)
		}
	}
	c := p.Counts()
	if c[Key{"a", "sqs", "ReceiveMessage"}] != 2 || c[Key{"b", "sqs", "ReceiveMessage"}] != 1 || len(c) != 2 {
		t.Fatalf("counts %v", c)
	}
	p.Reset()
	if len(p.Counts()) != 0 {
		t.Fatal("Reset kept counts")
	}
}
