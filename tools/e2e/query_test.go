//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
)

// expectedBuckets computes the aggregates of pts at iv directly from the
// points, independently of the services' merge: per bucket, open and close
// of the first and last point by time (dayPoints gives each window's first
// and last millisecond one point), the extremes, the sums, Σ p·v / Σ v.
func expectedBuckets(pts []marketdata.Point, iv marketdata.Interval) map[int64]marketdata.Aggregate {
	by := map[int64][]marketdata.Point{}
	for _, p := range pts {
		by[iv.Start(p.Timestamp)] = append(by[iv.Start(p.Timestamp)], p)
	}
	out := map[int64]marketdata.Aggregate{}
	for b, ps := range by {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Timestamp < ps[j].Timestamp })
		first, last := ps[0], ps[len(ps)-1]
		a := marketdata.Aggregate{Symbol: first.Symbol, WindowStart: b, WindowEnd: iv.End(b), Open: first.Price, Close: last.Price,
			High: first.Price, Low: first.Price, FirstTs: first.Timestamp, LastTs: last.Timestamp, Trades: int64(len(ps))}
		var pv, vol float64
		a.Volume = "0"
		for _, p := range ps {
			a.High, a.Low = math.Max(a.High, p.Price), math.Min(a.Low, p.Price)
			a.Volume = a.Volume.Add(p.Volume)
			v, _ := p.Volume.Float64()
			pv += p.Price * v
			vol += v
		}
		a.VWAP = pv / vol
		out[b] = a
	}
	return out
}

// api sends a signed request to the stage and decodes a 2xx answer into v.
func api(ctx context.Context, t *testing.T, method, u string, body any, v any) localclient.Response {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := localclient.Do(ctx, method, u, b, "application/json", true)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status/100 == 2 && v != nil {
		if err := json.Unmarshal(resp.Body, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, resp.Body)
		}
	}
	return resp
}

// want400 checks a 400 answer whose message contains msg.
func want400(t *testing.T, what string, resp localclient.Response, msg string) {
	t.Helper()
	var e marketdata.ErrorResponse
	if resp.Status != http.StatusBadRequest || json.Unmarshal(resp.Body, &e) != nil || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: %d %s, want 400 saying %q", what, resp.Status, resp.Body, msg)
	}
}

// TestReadRoutes covers GET /aggregates?interval=, POST /query (with its
// paging), GET /symbols and GET /symbols/{symbol}/latest through the local
// API: answers equal to a computation from the points ingested, the 400s,
// the 404s, and 403 unsigned.
func TestReadRoutes(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	// Three windows from hh:10: two 15-minute buckets, one hour.
	start := time.Now().Add(-5 * time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	syms := []string{"E2EQA", "E2EQB"}
	pts := map[string][]marketdata.Point{}
	for _, s := range syms {
		pts[s] = dayPoints(s, start, 60)
		body, _ := json.Marshal(map[string]any{"points": pts[s]})
		if resp, err := localclient.PostIngest(ctx, stage, body); err != nil || resp.Status != http.StatusAccepted {
			t.Fatalf("POST /ingest %s: %v %d %s", s, err, resp.Status, resp.Body)
		}
	}
	for _, s := range syms {
		if err := waitAggregated(ctx, p, s, expectedAggregates(pts[s]), 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	from, to := fmt.Sprint(start.UnixMilli()), fmt.Sprint(start.Add(time.Hour).UnixMilli())
	aggURL := func(sym string, q url.Values) string {
		return stage + "/" + marketdata.APIAggregatesPart + "/" + sym + "?" + q.Encode()
	}

	t.Run("GET /aggregates at each interval", func(t *testing.T) {
		for _, iv := range marketdata.Intervals {
			var got []marketdata.Aggregate
			q := url.Values{marketdata.APIQueryFrom: {from}, marketdata.APIQueryTo: {to}, marketdata.APIQueryInterval: {iv.Name}}
			if resp := api(ctx, t, http.MethodGet, aggURL("E2EQA", q), nil, &got); resp.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", iv.Name, resp.Status, resp.Body)
			}
			want := expectedBuckets(pts["E2EQA"], iv)
			if err := checkAggregates(got, want); err != nil {
				t.Errorf("interval %s: %v", iv.Name, err)
			}
		}
		q := url.Values{marketdata.APIQueryInterval: {"2h"}}
		want400(t, "interval 2h", api(ctx, t, http.MethodGet, aggURL("E2EQA", q), nil, nil), "unknown interval")
	})

	query := marketdata.QueryRequest{Symbols: []string{"E2EQB", "E2EQNEVER", "E2EQA"}, From: from, To: to, Interval: "15m"}
	t.Run("POST /query", func(t *testing.T) {
		var whole marketdata.QueryResponse
		if resp := api(ctx, t, http.MethodPost, stage+marketdata.APIQueryResource, query, &whole); resp.Status != http.StatusOK {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		if whole.Next != "" || !slices.Equal(whole.Unknown, []string{"E2EQNEVER"}) || len(whole.Results) != 3 {
			t.Fatalf("answer %+v, want three results, E2EQNEVER unknown, no next", whole)
		}
		for i, r := range whole.Results {
			if r.Symbol != query.Symbols[i] {
				t.Errorf("result %d is %s, want %s (request order)", i, r.Symbol, query.Symbols[i])
			}
			if r.Symbol == "E2EQNEVER" {
				if len(r.Aggregates) != 0 {
					t.Errorf("unknown symbol with aggregates %+v", r.Aggregates)
				}
				continue
			}
			if err := checkAggregates(r.Aggregates, expectedBuckets(pts[r.Symbol], marketdata.Intervals[1])); err != nil {
				t.Errorf("%s: %v", r.Symbol, err)
			}
		}

		// Paged one aggregate at a time: the pages hold the whole answer.
		req := query
		req.Limit = 1
		var paged []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			var page marketdata.QueryResponse
			if resp := api(ctx, t, http.MethodPost, stage+marketdata.APIQueryResource, req, &page); resp.Status != http.StatusOK {
				t.Fatalf("page %d: %d %s", pages, resp.Status, resp.Body)
			}
			for _, r := range page.Results {
				if len(r.Aggregates) > 1 {
					t.Fatalf("page %d holds %d aggregates of %s, above the limit 1", pages, len(r.Aggregates), r.Symbol)
				}
				for _, a := range r.Aggregates {
					paged = append(paged, fmt.Sprintf("%s@%d:%d", r.Symbol, a.WindowStart, a.Trades))
				}
			}
			if page.Next == "" {
				break
			}
			req.Next = page.Next
		}
		var want []string
		for _, r := range whole.Results {
			for _, a := range r.Aggregates {
				want = append(want, fmt.Sprintf("%s@%d:%d", r.Symbol, a.WindowStart, a.Trades))
			}
		}
		if len(want) != 4 || !slices.Equal(paged, want) {
			t.Errorf("pages hold %v, want %v (two 15-minute buckets of two symbols)", paged, want)
		}

		many := make([]string, limits.QueryMaxSymbols+1)
		for i := range many {
			many[i] = fmt.Sprintf("E2EQ%d", i)
		}
		bad := []struct {
			name string
			body any
			msg  string
		}{
			{"too many symbols", marketdata.QueryRequest{Symbols: many}, fmt.Sprintf("at most %d", limits.QueryMaxSymbols)},
			{"no symbols", marketdata.QueryRequest{}, `"symbols" is empty`},
			{"bad interval", marketdata.QueryRequest{Symbols: []string{"E2EQA"}, Interval: "7m"}, "unknown interval"},
			{"bad symbol", marketdata.QueryRequest{Symbols: []string{"e2eqa"}}, "invalid symbol"},
			{"bad token", marketdata.QueryRequest{Symbols: []string{"E2EQA"}, Next: "nope"}, `"next"`},
			{"not a query", map[string]any{"tickers": []string{"E2EQA"}}, "unknown field"},
		}
		for _, b := range bad {
			want400(t, b.name, api(ctx, t, http.MethodPost, stage+marketdata.APIQueryResource, b.body, nil), b.msg)
		}
	})

	t.Run("GET /symbols and latest", func(t *testing.T) {
		// The index lists every symbol the pipeline stored: page through it
		// two at a time.
		var all []marketdata.Latest
		q := url.Values{marketdata.APIQueryLimit: {"2"}}
		for pages := 0; ; pages++ {
			if pages > 500 {
				t.Fatal("paging does not end")
			}
			var page marketdata.SymbolsResponse
			if resp := api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"?"+q.Encode(), nil, &page); resp.Status != http.StatusOK {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			if len(page.Symbols) > 2 {
				t.Fatalf("a page of %d, limit 2", len(page.Symbols))
			}
			all = append(all, page.Symbols...)
			if page.Next == "" {
				break
			}
			q.Set(marketdata.APIQueryNext, page.Next)
		}
		names := make([]string, len(all))
		for i, l := range all {
			names[i] = l.Symbol
		}
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Errorf("symbols %v are not each once in order", names)
		}
		indexed, err := table(p).Symbols(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, indexed) {
			t.Errorf("GET /symbols lists %v, the index holds %v", names, indexed)
		}
		for _, s := range syms {
			// The latest point: the last by time (dayPoints' last window ends
			// with one point).
			last := slices.MaxFunc(pts[s], func(a, b marketdata.Point) int { return int(a.Timestamp - b.Timestamp) })
			i := slices.Index(names, s)
			if i < 0 {
				t.Errorf("%s not listed", s)
				continue
			}
			if l := all[i]; l.Price != last.Price || l.Timestamp != last.Timestamp {
				t.Errorf("GET /symbols: %s latest %+v, want price %v at %d", s, l, last.Price, last.Timestamp)
			}
			var l marketdata.Latest
			if resp := api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"/"+s+"/latest", nil, &l); resp.Status != http.StatusOK ||
				l.Symbol != s || l.Price != last.Price || l.Timestamp != last.Timestamp {
				t.Errorf("GET /symbols/%s/latest: %d %s, want price %v at %d", s, resp.Status, resp.Body, last.Price, last.Timestamp)
			}
		}
		if resp := api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"/E2EQNEVER/latest", nil, nil); resp.Status != http.StatusNotFound {
			t.Errorf("latest of an unknown symbol: %d %s, want 404", resp.Status, resp.Body)
		}
		want400(t, "latest of a bad symbol", api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"/e2eqa/latest", nil, nil), "invalid symbol")
		want400(t, "limit 0", api(ctx, t, http.MethodGet, stage+marketdata.APISymbolsResource+"?limit=0", nil, nil), "limit")
	})

	t.Run("unsigned is 403", func(t *testing.T) {
		body, _ := json.Marshal(query)
		for _, r := range []struct {
			method, path string
			body         []byte
		}{
			{http.MethodGet, "/" + marketdata.APIAggregatesPart + "/E2EQA?interval=1h", nil},
			{http.MethodPost, marketdata.APIQueryResource, body},
			{http.MethodGet, marketdata.APISymbolsResource, nil},
			{http.MethodGet, marketdata.APISymbolsResource + "/E2EQA/latest", nil},
		} {
			resp, err := localclient.Do(ctx, r.method, stage+r.path, r.body, "application/json", false)
			if err != nil || resp.Status != http.StatusForbidden {
				t.Errorf("unsigned %s %s: %d %s %v, want 403", r.method, r.path, resp.Status, resp.Body, err)
			}
		}
	})
}
