package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// apiEvent loads a fixture and applies edit to it.
func apiEvent(t *testing.T, name string, edit func(*events.APIGatewayProxyRequest)) json.RawMessage {
	t.Helper()
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(fixture(t, name), &req); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&req)
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invokeAPI runs an API event and returns the proxy response; a Go error or
// another result type fails the test (API Gateway would answer 502).
func invokeAPI(t *testing.T, e *env, event json.RawMessage) events.APIGatewayProxyResponse {
	t.Helper()
	out, err := e.h.Invoke(context.Background(), event)
	if err != nil {
		t.Fatalf("API invocation returned an error (a 502): %v", err)
	}
	resp, ok := out.(events.APIGatewayProxyResponse)
	if !ok {
		t.Fatalf("API invocation returned %T", out)
	}
	if resp.Headers["Content-Type"] != "application/json" || !json.Valid([]byte(resp.Body)) {
		t.Fatalf("response is not JSON: %+v", resp)
	}
	return resp
}

func setBody(body string) func(*events.APIGatewayProxyRequest) {
	return func(r *events.APIGatewayProxyRequest) { r.Body, r.IsBase64Encoded = body, false }
}

func setHeader(name, value string) func(*events.APIGatewayProxyRequest) {
	return func(r *events.APIGatewayProxyRequest) {
		for k := range r.Headers {
			if strings.EqualFold(k, name) {
				delete(r.Headers, k)
			}
		}
		for k := range r.MultiValueHeaders {
			if strings.EqualFold(k, name) {
				delete(r.MultiValueHeaders, k)
			}
		}
		if value != "" {
			r.Headers[name] = value
		}
	}
}

const onePoint = `{"symbol":"AAPL","timestamp":1717243200000,"price":1.5,"volume":3}`

func TestAPI(t *testing.T) {
	type rej struct {
		index  int64
		reason string
	}
	cases := []struct {
		name         string
		fixture      string
		edit         func(*events.APIGatewayProxyRequest)
		wantStatus   int
		wantAccepted int
		wantRejected []rej
		wantMessage  string
	}{
		{"fixture: wrapped points, one invalid", "api-post.json", nil, 202, 2, []rej{{1, "invalid symbol"}}, ""},
		{"fixture: base64 bare array", "api-post-base64.json", nil, 202, 2, []rej{{1, "invalid symbol"}}, ""},
		{"bare array", "api-post.json", setBody(`[` + onePoint + `,` + onePoint + `]`), 202, 2, nil, ""},
		{"all rejected", "api-post.json", setBody(`[{"symbol":"A"},{"price":1,"price":2}]`), 202, 0,
			[]rej{{0, "missing timestamp, price, volume"}, {1, `"price" appears twice`}}, ""},
		{"content type with other case and params", "api-post.json", setHeader("content-type", "Application/JSON; charset=UTF-8"), 202, 2, []rej{{1, ""}}, ""},
		{"content type only in multi-value headers", "api-post.json", func(r *events.APIGatewayProxyRequest) {
			delete(r.Headers, "Content-Type")
		}, 202, 2, []rej{{1, ""}}, ""},
		{"missing content type", "api-post.json", setHeader("Content-Type", ""), 400, 0, nil, "missing Content-Type"},
		{"wrong content type", "api-post.json", setHeader("Content-Type", "text/plain"), 400, 0, nil, `unsupported Content-Type "text/plain"`},
		{"json-like content type", "api-post.json", setHeader("Content-Type", "application/jsonx"), 400, 0, nil, "unsupported Content-Type"},
		{"wrong charset", "api-post.json", setHeader("Content-Type", "application/json; charset=latin1"), 400, 0, nil, "unsupported charset"},
		{"malformed JSON", "api-post.json", setBody(`{"points":[` + onePoint + `,{"symbol":]}`), 400, 0, nil, "malformed JSON in element 1"},
		{"truncated JSON", "api-post.json", setBody(`[` + onePoint), 400, 0, nil, "malformed JSON"},
		{"empty body", "api-post.json", setBody(""), 400, 0, nil, "empty body"},
		{"white space body", "api-post.json", setBody(" \n "), 400, 0, nil, "empty body"},
		{"empty array", "api-post.json", setBody(`[]`), 400, 0, nil, "no points"},
		{"object without points", "api-post.json", setBody(`{"data":[]}`), 400, 0, nil, `unknown member "data"`},
		{"scalar body", "api-post.json", setBody(`"AAPL"`), 400, 0, nil, "the body is a string"},
		{"trailing garbage", "api-post.json", setBody(`[` + onePoint + `]]`), 400, 0, nil, "malformed JSON"},
		{"bad base64", "api-post.json", func(r *events.APIGatewayProxyRequest) { r.Body, r.IsBase64Encoded = "%%%", true }, 400, 0, nil, "not valid base64"},
		{"GET", "api-post.json", func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = "GET" }, 405, 0, nil, "method GET not allowed"},
		{"too large", "api-post.json", setBody(`[` + strings.Repeat(" ", limits.APIMaxBodyBytes) + `]`), 413, 0, nil, "exceeds the limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			resp := invokeAPI(t, e, apiEvent(t, tc.fixture, tc.edit))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tc.wantStatus)
			}
			if tc.wantStatus != 202 {
				var er marketdata.ErrorResponse
				if err := json.Unmarshal([]byte(resp.Body), &er); err != nil || !strings.Contains(er.Message, tc.wantMessage) || er.RequestID == "" {
					t.Fatalf("error body %s, want a message containing %q and a request id", resp.Body, tc.wantMessage)
				}
				if e.sqs.calls != 0 {
					t.Fatal("a refused request queued points")
				}
				if tc.wantStatus == 405 && resp.Headers["Allow"] != "POST" {
					t.Fatalf("405 without Allow: %v", resp.Headers)
				}
				return
			}
			var ir marketdata.IngestResponse
			if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil {
				t.Fatal(err)
			}
			if ir.Accepted != tc.wantAccepted || len(ir.Rejected) != len(tc.wantRejected) || ir.RejectedCount != len(tc.wantRejected) || ir.RequestID == "" {
				t.Fatalf("response %s", resp.Body)
			}
			for i, w := range tc.wantRejected {
				if ir.Rejected[i].Index != w.index || !strings.Contains(ir.Rejected[i].Reason, w.reason) {
					t.Fatalf("rejection %d = %+v, want index %d and %q", i, ir.Rejected[i], w.index, w.reason)
				}
			}
			if _, all, _ := e.sqs.queued(t); len(all) != tc.wantAccepted {
				t.Fatalf("queued %d points, accepted %d", len(all), tc.wantAccepted)
			}
		})
	}
}

func TestAPIRequestIDAndOrigin(t *testing.T) {
	e := newEnv()
	resp := invokeAPI(t, e, fixture(t, "api-post.json"))
	var ir marketdata.IngestResponse
	_ = json.Unmarshal([]byte(resp.Body), &ir)
	if ir.RequestID != "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" {
		t.Fatalf("request id %q, want API Gateway's", ir.RequestID)
	}
	var req events.APIGatewayProxyRequest
	_ = json.Unmarshal(fixture(t, "api-post.json"), &req)
	_, all, origins := e.sqs.queued(t)
	origin := APIOrigin([]byte(req.Body))
	if !origins[origin] || !strings.HasPrefix(origin, "api:") || len(origin) != len("api:")+24 {
		t.Fatalf("origins %v, want %s", origins, origin)
	}
	// Keys derive from the origin and the index in the body.
	if all[0].Key != string(marketdata.AppendSortKey(nil, all[0].Point, origin, 0)) || all[1].Key != string(marketdata.AppendSortKey(nil, all[1].Point, origin, 2)) {
		t.Fatalf("keys %+v", all)
	}
}

// A client retrying the same body produces the same messages: the
// processor's writes of the retry overwrite the first ones.
func TestAPIRetryIsIdempotent(t *testing.T) {
	e := newEnv()
	ev := fixture(t, "api-post.json")
	invokeAPI(t, e, ev)
	first, _, _ := e.sqs.queued(t)
	invokeAPI(t, e, ev)
	both, all, _ := e.sqs.queued(t)
	if len(all) != 4 || len(both) != 2 || len(first) != 2 {
		t.Fatalf("%d points queued under %d keys", len(all), len(both))
	}
	// The same points in a different body are different requests.
	invokeAPI(t, e, apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) { r.Body += " " }))
	if keys, _, _ := e.sqs.queued(t); len(keys) != 4 {
		t.Fatalf("%d keys after a different body", len(keys))
	}
}

func TestAPIQueueFailures(t *testing.T) {
	secret := "arn:aws:sqs:us-east-1:123456789012:processing is throttled (internal detail)"
	for _, tc := range []struct {
		name       string
		respond    func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
		wantStatus int
	}{
		{"SQS down: 503, retry", func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			return nil, errors.New(secret)
		}, 503},
		{"retryable entry failures exhausted: 503", func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			return &sqs.SendMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{Id: in.Entries[0].Id, Code: aws.String("InternalError"), Message: aws.String(secret)}}}, nil
		}, 503},
		{"non-retryable entry failure: 500", func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			return &sqs.SendMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{Id: in.Entries[0].Id, SenderFault: true, Code: aws.String("InvalidMessageContents"), Message: aws.String(secret)}}}, nil
		}, 500},
		{"SQS client panics: 503", func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			panic(secret)
		}, 503},
		{"retryable entry failure, then success: 202", func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			if call == 1 {
				return &sqs.SendMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{Id: in.Entries[0].Id, Code: aws.String("InternalError")}}}, nil
			}
			return &sqs.SendMessageBatchOutput{Successful: []types.SendMessageBatchResultEntry{{Id: in.Entries[0].Id}}}, nil
		}, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			e.sqs.respond = tc.respond
			resp := invokeAPI(t, e, fixture(t, "api-post.json"))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
			}
			if strings.Contains(resp.Body, "throttled") || strings.Contains(resp.Body, "arn:") || strings.Contains(resp.Body, "goroutine") {
				t.Fatalf("internal error text leaked: %s", resp.Body)
			}
			if tc.wantStatus == 503 && resp.Headers["Retry-After"] == "" {
				t.Fatal("503 without Retry-After")
			}
			if tc.wantStatus != 202 && !strings.Contains(e.logs.String(), `"level":"ERROR"`) {
				t.Fatal("failure not logged")
			}
		})
	}
}

func TestAPIPanicIs500(t *testing.T) {
	e := newEnv()
	e.h.Publisher = nil
	resp := invokeAPI(t, e, fixture(t, "api-post.json"))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "nil pointer") || !strings.Contains(e.logs.String(), "stack") {
		t.Fatalf("response %+v", resp)
	}
}

// The rejected list is capped; rejectedCount still counts every rejection.
func TestAPIResponseBudget(t *testing.T) {
	e := newEnv()
	e.h.ResponseBudget = 4 << 10
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"symbol":"x"},`, 5000), ",") + "]"
	resp := invokeAPI(t, e, apiEvent(t, "api-post.json", setBody(body)))
	var ir marketdata.IngestResponse
	if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || ir.RejectedCount != 5000 || len(ir.Rejected) == 0 || len(ir.Rejected) >= 5000 || len(resp.Body) > 8<<10 {
		t.Fatalf("status %d, %d listed of %d, body %d bytes", resp.StatusCode, len(ir.Rejected), ir.RejectedCount, len(resp.Body))
	}
}

// Base64 bodies are decoded before the origin is computed: the same points
// sent either way are the same request.
func TestAPIBase64SameOrigin(t *testing.T) {
	e := newEnv()
	body := `[` + onePoint + `]`
	invokeAPI(t, e, apiEvent(t, "api-post.json", setBody(body)))
	invokeAPI(t, e, apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) {
		r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	}))
	if keys, all, _ := e.sqs.queued(t); len(all) != 2 || len(keys) != 1 {
		t.Fatalf("%d points under %d keys", len(all), len(keys))
	}
}

// The largest body accepted still reaches the function: its proxy event, as
// API Gateway sends it for a SigV4-signed request with headers at API
// Gateway's 10 KiB cap (carried twice, in headers and multiValueHeaders),
// with the body's worst-case escaping for valid JSON (every byte a '"' or '\'
// inside a string, which the event's JSON encoding doubles), fits Lambda's
// synchronous payload limit; one byte more is answered 413.
func TestBodyLimitFitsLambdaPayload(t *testing.T) {
	sigv4 := func(r *events.APIGatewayProxyRequest) {
		add := func(name, value string) {
			r.Headers[name] = value
			r.MultiValueHeaders[name] = []string{value}
		}
		add("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12/20240601/us-east-1/execute-api/aws4_request, "+
			"SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="+strings.Repeat("f", 64))
		add("X-Amz-Date", "20240601T120000Z")
		add("X-Amz-Content-Sha256", strings.Repeat("e", 64))
		add("X-Amz-Security-Token", strings.Repeat("T", 1500))
		add("CloudFront-Viewer-Country", "US")
		add("Via", "1.1 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)")
		add("X-Amz-Cf-Id", strings.Repeat("c", 56))
		used := 0
		for k, v := range r.Headers {
			used += len(k) + len(v)
		}
		add("X-Padding", strings.Repeat("p", 10<<10-used-len("X-Padding"))) // API Gateway's header cap
		r.RequestContext.Identity.AccessKey = "ASIAEXAMPLEEXAMPLE12"
		r.RequestContext.Identity.Caller = "AROAEXAMPLEEXAMPLE123:session-name-of-the-caller"
		r.RequestContext.Identity.User = r.RequestContext.Identity.Caller
		r.RequestContext.Identity.UserArn = "arn:aws:sts::123456789012:assumed-role/market-data-ingest-client/session-name-of-the-caller"
		r.RequestContext.Identity.AccountID = "123456789012"
	}
	worstBody := func(n int) string { // ["\"\"…"] of n bytes, valid JSON
		inner := strings.Repeat(`\"`, (n-4)/2)
		return `["` + inner + strings.Repeat(" ", n-4-len(inner)) + `"]`
	}
	envelope := len(apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) { sigv4(r); r.Body = "" }))
	if envelope > limits.APIProxyEnvelopeBytes {
		t.Errorf("proxy event without body is %d bytes, more than limits.APIProxyEnvelopeBytes %d", envelope, limits.APIProxyEnvelopeBytes)
	}
	atLimit := apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) { sigv4(r); r.Body = worstBody(limits.APIMaxBodyBytes) })
	if len(atLimit) > limits.LambdaPayloadBytes {
		t.Errorf("event with a %d-byte body is %d bytes, over Lambda's %d", limits.APIMaxBodyBytes, len(atLimit), limits.LambdaPayloadBytes)
	}
	t.Logf("envelope %d bytes; event at the limit %d of %d bytes", envelope, len(atLimit), limits.LambdaPayloadBytes)
	if resp := invokeAPI(t, newEnv(), atLimit); resp.StatusCode == 413 {
		t.Errorf("a body at the limit was answered 413: %s", resp.Body)
	}
	over := apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) { sigv4(r); r.Body = worstBody(limits.APIMaxBodyBytes + 1) })
	resp := invokeAPI(t, newEnv(), over)
	if resp.StatusCode != 413 || !strings.Contains(resp.Body, "exceeds the limit of 3129344 bytes") {
		t.Errorf("a body over the limit: %d %s, want 413 naming the limit", resp.StatusCode, resp.Body)
	}
}
