package marketdata

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestRoutesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Routes {
		if seen[r.String()] {
			t.Errorf("route %s twice", r)
		}
		seen[r.String()] = true
		if r.Method == "" || r.Service == "" || len(r.Parts()) == 0 {
			t.Errorf("route %+v lacks a method, a service or a path", r)
		}
		// The mux pattern must parse (ServeMux panics on a malformed one).
		http.NewServeMux().Handle(r.Pattern("/prod"), http.NotFoundHandler())
	}
}

func TestRouteParts(t *testing.T) {
	tests := []struct {
		route          Route
		parts, params  []string
		prefix, mux    string
		get            string
		wantParamValue map[string]string
	}{
		{RouteIngest, []string{"ingest"}, nil, "/ingest", "POST /prod/ingest", "/prod/ingest", nil},
		{RouteAggregates, []string{"aggregates", "{symbol}"}, []string{"symbol"}, "/aggregates", "GET /prod/aggregates/{symbol}",
			"/prod/aggregates/BRK.B", map[string]string{"symbol": "BRK.B"}},
		{Route{Method: "GET", Path: "/files/{proxy+}"}, []string{"files", "{proxy+}"}, []string{"proxy"}, "/files", "GET /prod/files/{proxy...}",
			"/prod/files/a/b", map[string]string{"proxy": "a/b"}},
		{Route{Method: "GET", Path: "/"}, nil, nil, "/", "GET /prod/{$}", "/prod/", nil},
	}
	for _, tt := range tests {
		r := tt.route
		if got := r.Parts(); !reflect.DeepEqual(got, tt.parts) {
			t.Errorf("%s: parts %q, want %q", r, got, tt.parts)
		}
		if got := r.PathParams(); !reflect.DeepEqual(got, tt.params) {
			t.Errorf("%s: path params %q, want %q", r, got, tt.params)
		}
		if got := r.Prefix(); got != tt.prefix {
			t.Errorf("%s: prefix %q, want %q", r, got, tt.prefix)
		}
		if got := r.Pattern("/prod"); got != tt.mux {
			t.Errorf("%s: pattern %q, want %q", r, got, tt.mux)
		}
		// The pattern routes a request of the route's method and path, with its parameters.
		mux := http.NewServeMux()
		var got map[string]string
		mux.HandleFunc(r.Pattern("/prod/"), func(_ http.ResponseWriter, req *http.Request) {
			got = map[string]string{}
			for _, name := range r.PathParams() {
				got[name] = req.PathValue(name)
			}
		})
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.Method, tt.get, nil))
		if got == nil {
			t.Errorf("%s: pattern %q does not route %s %s", r, r.Pattern("/prod/"), r.Method, tt.get)
			continue
		}
		for k, v := range tt.wantParamValue {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", r, k, got[k], v)
			}
		}
	}
}

func TestPathParam(t *testing.T) {
	tests := []struct {
		part, name     string
		greedy, isParm bool
	}{
		{"{symbol}", "symbol", false, true},
		{"{proxy+}", "proxy", true, true},
		{"ingest", "", false, false},
		{"{}", "", false, false},
		{"{+}", "", true, false},
	}
	for _, tt := range tests {
		name, greedy, ok := PathParam(tt.part)
		if name != tt.name || greedy != tt.greedy || ok != tt.isParm {
			t.Errorf("PathParam(%q) = %q, %v, %v; want %q, %v, %v", tt.part, name, greedy, ok, tt.name, tt.greedy, tt.isParm)
		}
	}
}

func TestCanonical(t *testing.T) {
	a := []Route{{Method: "POST", Path: "/x", Query: []string{"b", "a"}}, {Method: "GET", Path: "/x"}}
	b := []Route{{Method: "GET", Path: "/x"}, {Method: "POST", Path: "/x", Query: []string{"a", "b"}}}
	if !reflect.DeepEqual(Canonical(a), Canonical(b)) {
		t.Errorf("Canonical(%v) = %v, Canonical(%v) = %v; want equal", a, Canonical(a), b, Canonical(b))
	}
	if a[0].Query[0] != "b" {
		t.Error("Canonical changed its argument")
	}
	if c := Canonical([]Route{{Method: "GET", Path: "/y"}}); reflect.DeepEqual(Canonical(a), c) {
		t.Error("different APIs compare equal")
	}
}
