package countproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProxyCountsBilledUnits sends requests of known sizes through the
// proxy and checks the billed units it derives from their bodies and
// answers, and that upstream saw each body whole.
func TestProxyCountsBilledUnits(t *testing.T) {
	const answerBytes = 3*readUnitBytes + 1 // a Query reading 4 blocks of 4 KiB
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.Query" {
			w.Write([]byte(strings.Repeat("x", answerBytes)))
			return
		}
		w.Write([]byte("{}"))
	}))
	defer up.Close()
	p, err := New(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ep, err := p.Listen("fn")
	if err != nil {
		t.Fatal(err)
	}
	send := func(service, target, method, path, body string) {
		req, err := http.NewRequest(method, ep+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth(service))
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	put := `{"PutRequest":{"Item":{}}}`
	send("dynamodb", "DynamoDB_20120810.BatchWriteItem", "POST", "/", `{"RequestItems":{"T1":[`+put+`,`+put+`],"T2":[`+put+`]}}`)
	send("dynamodb", "DynamoDB_20120810.BatchWriteItem", "POST", "/", `{"RequestItems":{"T1":[`+put+`]}}`)
	send("dynamodb", "DynamoDB_20120810.UpdateItem", "POST", "/", `{}`)
	send("dynamodb", "DynamoDB_20120810.Query", "POST", "/", `{}`)
	send("sqs", "AmazonSQS.SendMessageBatch", "POST", "/", `{"Entries":[{"MessageBody":"`+strings.Repeat("a", 2*sqsChunk)+`"}]}`)
	send("sqs", "AmazonSQS.DeleteMessageBatch", "POST", "/", `{}`)
	send("events", "AWSEvents.PutEvents", "POST", "/", `{"Entries":[{},{},{},{}]}`)
	send("s3", "", "GET", "/bucket/key.csv", "")

	want := map[string]float64{
		"dynamodb BatchWriteItem": 4, "dynamodb UpdateItem": 1, "dynamodb Query": 0.5 * 4,
		"sqs SendMessageBatch": 3, "sqs DeleteMessageBatch": 1, "events PutEvents": 4, "s3 GetObject": 1,
	}
	// A request's units are added once the proxy has relayed its whole
	// answer, which the client may have read a moment before.
	var got map[Key]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if got = p.Units(); len(got) == len(want) || time.Now().After(deadline) {
			break
		}
	}
	for k, v := range got {
		if k.Caller != "fn" {
			t.Errorf("caller %q", k.Caller)
		}
		if want[k.Service+" "+k.Operation] != v {
			t.Errorf("%s %s: %v units, want %v", k.Service, k.Operation, v, want[k.Service+" "+k.Operation])
		}
		delete(want, k.Service+" "+k.Operation)
	}
	if len(want) != 0 {
		t.Errorf("not counted: %v", want)
	}
	if c := p.Counts()[Key{"fn", "dynamodb", "BatchWriteItem"}]; c != 2 {
		t.Errorf("%d BatchWriteItem requests counted, want 2", c)
	}
}
