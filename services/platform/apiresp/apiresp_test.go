package apiresp

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func TestJSON(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		v          any
		wantStatus int
		wantBody   string
	}{
		{"object", http.StatusAccepted, map[string]int{"accepted": 2}, http.StatusAccepted, `{"accepted":2}`},
		{"array", http.StatusOK, []int{1, 2}, http.StatusOK, `[1,2]`},
		{"unencodable becomes a 500", http.StatusOK, math.NaN(), http.StatusInternalServerError, `{"message":"internal error"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := JSON(tc.status, tc.v)
			if r.StatusCode != tc.wantStatus || r.Body != tc.wantBody || r.Headers["Content-Type"] != "application/json" {
				t.Errorf("got %d %v %s, want %d %s", r.StatusCode, r.Headers, r.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
	if _, err := Encode(http.StatusOK, math.Inf(1)); err == nil {
		t.Error("Encode hid an encoding error")
	}
	// Each answer has its own headers: adding to one leaves the next alone.
	a := Error(http.StatusMethodNotAllowed, "no", "r")
	a.Headers["Allow"] = http.MethodGet
	if b := Error(http.StatusMethodNotAllowed, "no", "r"); len(b.Headers) != 1 {
		t.Errorf("headers shared between answers: %v", b.Headers)
	}
}

func TestError(t *testing.T) {
	tests := []struct {
		status     int
		msg, reqID string
	}{
		{http.StatusBadRequest, `invalid symbol "x"`, "req-1"},
		{http.StatusInternalServerError, "internal error", ""},
		{http.StatusNotFound, "quote \" and <tag> & unicode é", "id"},
	}
	for _, tc := range tests {
		r := Error(tc.status, tc.msg, tc.reqID)
		var body marketdata.ErrorResponse
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		if r.StatusCode != tc.status || body.Message != tc.msg || body.RequestID != tc.reqID {
			t.Errorf("got %d %+v, want %d %q %q", r.StatusCode, body, tc.status, tc.msg, tc.reqID)
		}
		if tc.reqID == "" && strings.Contains(r.Body, "requestId") {
			t.Errorf("empty request id serialised: %s", r.Body)
		}
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		req  events.APIGatewayProxyRequest
		want string
	}{
		{"exact", events.APIGatewayProxyRequest{Headers: map[string]string{"Content-Type": "a"}}, "a"},
		{"lower case", events.APIGatewayProxyRequest{Headers: map[string]string{"content-type": "b"}}, "b"},
		{"upper case", events.APIGatewayProxyRequest{Headers: map[string]string{"CONTENT-TYPE": "c"}}, "c"},
		{"multi-value only", events.APIGatewayProxyRequest{MultiValueHeaders: map[string][]string{"content-TYPE": {"d", "e"}}}, "d"},
		{"single-value first", events.APIGatewayProxyRequest{Headers: map[string]string{"Content-Type": "f"},
			MultiValueHeaders: map[string][]string{"Content-Type": {"g"}}}, "f"},
		{"empty multi-value", events.APIGatewayProxyRequest{MultiValueHeaders: map[string][]string{"Content-Type": {}}}, ""},
		{"absent", events.APIGatewayProxyRequest{Headers: map[string]string{"Accept": "x"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Header(tc.req, "Content-Type"); got != tc.want {
				t.Errorf("Header = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg..."},
		{"ééééé", 8, "éé..."}, // a cut inside a rune moves back to its start
		{"abcdef", 2, "..."},
		{"", 0, ""},
	}
	for _, tc := range tests {
		got := Clip(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q is not valid UTF-8", tc.s, tc.n, got)
		}
		if tc.n >= 3 && len(got) > tc.n {
			t.Errorf("Clip(%q, %d) = %q is longer than %d bytes", tc.s, tc.n, got, tc.n)
		}
	}
}
