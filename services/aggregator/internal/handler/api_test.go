package handler

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// stored seeds aggregates of AAPL at 14:20, 14:25, 14:30 and 14:35.
func stored() *fakeStore {
	s := seeded()
	for _, start := range []int64{w1420, w1425, w1430, w1435} {
		a := wantAAPL1430
		a.WindowStart, a.WindowEnd = start, start+300_000
		s.aggs[marketdata.WindowRef{Symbol: "AAPL", Start: start}] = a
	}
	return s
}

func TestAPI(t *testing.T) {
	tests := []struct {
		fixture    string
		status     int
		wantStarts []int64  // for 200
		wantMsg    string   // substring of the error message
		wantQuery  [2]int64 // range-key bounds asked of the store, when not zero
	}{
		// [14:25, 14:35): 14:20 ends where the range starts and 14:35 starts
		// where it ends; neither overlaps.
		{fixture: "api_get_aggregates.json", status: 200, wantStarts: []int64{w1425, w1430}, wantQuery: [2]int64{w1425, w1435 - 1}},
		// from 14:27:30 lies inside the 14:25 window, which overlaps.
		{fixture: "api_get_aggregates_rfc3339.json", status: 200, wantStarts: []int64{w1425, w1430}, wantQuery: [2]int64{w1425, w1435 - 1}},
		// to = now (14:37:12), from = a day earlier.
		{fixture: "api_get_aggregates_defaults.json", status: 200, wantStarts: []int64{w1420, w1425, w1430, w1435},
			wantQuery: [2]int64{marketdata.WindowStart(now.UnixMilli() - 86_400_000), now.UnixMilli() - 1}},
		{fixture: "api_get_known_no_data.json", status: 200, wantStarts: []int64{}},
		{fixture: "api_get_unknown_symbol.json", status: 404, wantMsg: `unknown symbol "ZZZZ"`},
		{fixture: "api_get_bad_symbol.json", status: 400, wantMsg: `invalid symbol "aapl"`},
		{fixture: "api_get_bad_from.json", status: 400, wantMsg: `parameter "from": "yesterday" is neither epoch milliseconds nor an RFC 3339 time`},
		{fixture: "api_get_from_after_to.json", status: 400, wantMsg: `"from" (1709649300000) must be before "to" (1709648700000)`},
		{fixture: "api_get_range_too_wide.json", status: 400, wantMsg: "wider than the maximum of 168h0m0s"},
		{fixture: "api_get_repeated_param.json", status: 400, wantMsg: `parameter "from" given more than once`},
		{fixture: "api_post_aggregates.json", status: 405, wantMsg: "method POST not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s, m := stored(), &fakeMetrics{}
			resp := invokeAPI(t, newHandler(s, m), fixture(t, tt.fixture))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.status == 200 {
				var got []marketdata.Aggregate
				if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || got == nil {
					t.Fatalf("body %s is not a JSON array of aggregates: %v", resp.Body, err)
				}
				var starts []int64
				for _, a := range got {
					starts = append(starts, a.WindowStart)
					if want := s.aggs[marketdata.WindowRef{Symbol: "AAPL", Start: a.WindowStart}]; a != want {
						t.Errorf("aggregate %+v, want the stored %+v", a, want)
					}
				}
				if !slices.Equal(starts, tt.wantStarts) && len(starts)+len(tt.wantStarts) > 0 {
					t.Errorf("windows %v, want %v", starts, tt.wantStarts)
				}
			} else {
				var e marketdata.ErrorResponse
				if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
					t.Fatalf("body %s is not an ErrorResponse: %v", resp.Body, err)
				}
				if !strings.Contains(e.Message, tt.wantMsg) {
					t.Errorf("message %q, want it to contain %q", e.Message, tt.wantMsg)
				}
				if e.RequestID != "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" {
					t.Errorf("requestId %q", e.RequestID)
				}
			}
			if tt.wantQuery != [2]int64{} && (len(s.aggCalls) != 1 || s.aggCalls[0] != tt.wantQuery) {
				t.Errorf("store queried %v, want %v", s.aggCalls, tt.wantQuery)
			}
			if tt.status == 400 && len(s.aggCalls) != 0 {
				t.Error("a bad request reached the store")
			}
			if len(m.calls) != 0 {
				t.Error("an API request published metrics")
			}
		})
	}
}

func invokeAPI(t *testing.T, h *Handler, ev json.RawMessage) events.APIGatewayProxyResponse {
	t.Helper()
	out, err := h.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatalf("Invoke returned an error (API Gateway would answer 502): %v", err)
	}
	resp, ok := out.(events.APIGatewayProxyResponse)
	if !ok {
		t.Fatalf("output %T, want an APIGatewayProxyResponse", out)
	}
	return resp
}

func TestAPIStoreFailureHidesInternals(t *testing.T) {
	s := stored()
	s.failAll = errBoom
	resp := invokeAPI(t, newHandler(s, &fakeMetrics{}), fixture(t, "api_get_aggregates.json"))
	if resp.StatusCode != 500 {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	var e marketdata.ErrorResponse
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Message != "internal error" {
		t.Errorf("body %s, want a generic ErrorResponse", resp.Body)
	}
	if strings.Contains(resp.Body, "arn:") || strings.Contains(resp.Body, "boom") {
		t.Errorf("body leaks internals: %s", resp.Body)
	}
}

// TestAPIParameters covers the parameter parsing edge cases on top of the
// fixtures.
func TestAPIParameters(t *testing.T) {
	tests := []struct {
		name   string
		query  map[string]string
		status int
		from   int64 // wanted store lower bound (window start of from)
	}{
		{"RFC 3339 with fractional seconds", map[string]string{"from": "2024-03-05T14:25:00.500Z", "to": "2024-03-05T14:35:00Z"}, 200, w1425},
		{"RFC 3339 with offset", map[string]string{"from": "2024-03-05T15:25:00+01:00", "to": "2024-03-05T14:35:00Z"}, 200, w1425},
		{"unescaped + arrives as a space", map[string]string{"from": "2024-03-05T15:25:00 01:00", "to": "1709649300000"}, 200, w1425},
		{"only to", map[string]string{"to": "1709649300000"}, 200, marketdata.WindowStart(1709649300000 - 86_400_000)},
		{"empty from", map[string]string{"from": "", "to": "1709649300000"}, 400, 0},
		{"negative epoch", map[string]string{"from": "-5", "to": "1709649300000"}, 400, 0},
		{"before 1970", map[string]string{"from": "1969-12-31T23:59:59Z", "to": "1709649300000"}, 400, 0},
		{"epoch overflows", map[string]string{"from": "99999999999999999999", "to": "1709649300000"}, 400, 0},
		{"epoch seconds with a fraction", map[string]string{"from": "1709648700.5", "to": "1709649300000"}, 400, 0},
		{"date only", map[string]string{"from": "2024-03-05", "to": "1709649300000"}, 400, 0},
		{"from equals to", map[string]string{"from": "1709649300000", "to": "1709649300000"}, 400, 0},
		{"exactly the maximum range", map[string]string{"from": "1709044500000", "to": "1709649300000"}, 200, 1709044500000},
		{"one millisecond over the maximum", map[string]string{"from": "1709044499999", "to": "1709649300000"}, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stored()
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal(fixture(t, "api_get_aggregates.json"), &ev); err != nil {
				t.Fatal(err)
			}
			ev.QueryStringParameters = tt.query
			ev.MultiValueQueryStringParameters = nil
			raw, _ := json.Marshal(ev)
			resp := invokeAPI(t, newHandler(s, &fakeMetrics{}), raw)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status == 200 && (len(s.aggCalls) != 1 || s.aggCalls[0][0] != tt.from) {
				t.Errorf("store queried %v, want lower bound %d", s.aggCalls, tt.from)
			}
		})
	}
}

func TestAPIWrongResource(t *testing.T) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(fixture(t, "api_get_aggregates.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Resource, ev.Path, ev.PathParameters = "/ingest", "/ingest", nil
	raw, _ := json.Marshal(ev)
	if resp := invokeAPI(t, newHandler(stored(), &fakeMetrics{}), raw); resp.StatusCode != 404 {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}

// TestAPIResourceLenient accepts an event without "resource" (as simpler
// proxies send) when the symbol path parameter is there.
func TestAPIResourceLenient(t *testing.T) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(fixture(t, "api_get_aggregates.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Resource = ""
	raw, _ := json.Marshal(ev)
	if resp := invokeAPI(t, newHandler(stored(), &fakeMetrics{}), raw); resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, resp.Body)
	}
}

// panicStore panics on every read.
type panicStore struct{ *fakeStore }

func (panicStore) Aggregates(context.Context, string, int64, int64) ([]marketdata.Aggregate, error) {
	panic("index out of range [3] with length 3")
}

func TestAPIPanicIsA500(t *testing.T) {
	h := newHandler(stored(), &fakeMetrics{})
	h.Store = panicStore{stored()}
	resp := invokeAPI(t, h, fixture(t, "api_get_aggregates.json"))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "index out of range") {
		t.Fatalf("status %d body %s, want a generic 500", resp.StatusCode, resp.Body)
	}
}
