package handler

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// FuzzInvoke feeds arbitrary events to the handler: it must never panic, an
// API Gateway answer must never come with an error (API Gateway would turn
// it into a 502) and must be a well-formed JSON response with a 2xx/4xx/5xx
// status from the documented set.
func FuzzInvoke(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"httpMethod":"GET","requestContext":{},"pathParameters":{"symbol":"AAPL"},"queryStringParameters":{"from":"0","to":"1"}}`))
	f.Add([]byte(`{"source":"aws.events","detail-type":"Scheduled Event","time":"2024-03-05T14:35:00Z"}`))
	f.Fuzz(func(t *testing.T, ev []byte) {
		h := newHandler(stored(), &fakeMetrics{})
		out, err := h.Invoke(context.Background(), json.RawMessage(ev))
		resp, isAPI := out.(events.APIGatewayProxyResponse)
		if !isAPI {
			return
		}
		if err != nil {
			t.Fatalf("API answer with an error: %v", err)
		}
		switch resp.StatusCode {
		case 200, 400, 404, 405:
		default:
			t.Fatalf("status %d for %s", resp.StatusCode, ev)
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Fatalf("body is not JSON: %q", resp.Body)
		}
		if resp.StatusCode != 200 {
			var e marketdata.ErrorResponse
			if json.Unmarshal([]byte(resp.Body), &e) != nil || e.Message == "" {
				t.Fatalf("error body %q is not an ErrorResponse", resp.Body)
			}
		}
	})
}

// FuzzParseInstant checks that accepted instants are in range and that
// epoch milliseconds read back as themselves.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"0", "1709649000000", "2024-03-05T14:30:00Z", "2024-03-05T15:30:00.123+01:00", "253402300799999", "", "-1", "1e12", "2024-03-05 14:30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseInstant(s)
		if err != nil {
			return
		}
		if ms < 0 || ms > maxMillis {
			t.Fatalf("parseInstant(%q) = %d, out of range", s, ms)
		}
		if v, perr := strconv.ParseInt(s, 10, 64); perr == nil && v != ms {
			t.Fatalf("parseInstant(%q) = %d, want %d", s, ms, v)
		}
	})
}
