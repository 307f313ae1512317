package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// request is an API Gateway proxy event of route, as API Gateway sends it.
func request(route marketdata.Route, params, query map[string]string, body string) json.RawMessage {
	path := route.Path
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	mq := map[string][]string{}
	for k, v := range query {
		mq[k] = []string{v}
	}
	ev := events.APIGatewayProxyRequest{Resource: route.Path, Path: path, HTTPMethod: route.Method,
		PathParameters: params, QueryStringParameters: query, MultiValueQueryStringParameters: mq, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-1", ResourcePath: route.Path, HTTPMethod: route.Method}}
	b, _ := json.Marshal(ev)
	return b
}

// aaplNoPrices is the window of ticksStore's AAPL whose trades are all
// average-price trades (14:30).
const aaplNoPrices = w1420 + 10*60_000

// ticksStore holds, for AAPL and MSFT, the aggregates of points spread over
// 14:00-16:00 (every 5-minute window but 15:10's), computed window by window
// with ohlcv; ticks returns the points of a symbol, for the tests' direct
// computation of wider buckets.
func ticksStore() (*fakeStore, map[string][]ohlcv.Tick) {
	s := newFakeStore()
	ticks := map[string][]ohlcv.Tick{}
	base := w1420 - 20*60_000 // 14:00
	for si, sym := range []string{"AAPL", "MSFT"} {
		for i := range 240 {
			ms := base + int64(i)*30_000 + int64(si)
			if marketdata.WindowStart(ms) == base+70*60_000 {
				continue // an empty window
			}
			vol := marketdata.Units(uint64(i%7) * 10) // some points without volume
			if sym == "MSFT" && i%7 != 0 {
				vol = marketdata.Decimal(strconv.Itoa(i%7) + ".0" + strconv.Itoa(i%3) + "5") // crypto-like sizes
			}
			t := tk(ms, "1", 100+float64(si*50)+math.Sin(float64(i)/9)*3, vol)
			// AAPL's trades carry sale conditions: odd lots and
			// out-of-sequence trades among regular ones, and only
			// average-price trades in the 14:30 window (no price fields).
			if sym == "AAPL" {
				t.Conditions = [...]string{"", "37", "", "33", "0"}[i%5]
				if marketdata.WindowStart(ms) == aaplNoPrices {
					t.Conditions = "2"
				}
			}
			ticks[sym] = append(ticks[sym], t)
		}
		byWindow := map[int64]*ohlcv.Accumulator{}
		for _, t := range ticks[sym] {
			w := marketdata.WindowStart(t.Millis)
			if byWindow[w] == nil {
				byWindow[w] = &ohlcv.Accumulator{}
			}
			if err := byWindow[w].Add(t); err != nil {
				panic(err)
			}
		}
		for w, acc := range byWindow {
			sum, _ := acc.Summary()
			ref := marketdata.WindowRef{Symbol: sym, Start: w}
			s.aggs[ref] = NewAggregate(ref, sum, now)
		}
		s.state[sym] = true
	}
	s.state["GOOG"] = true // known, without aggregates
	return s, ticks
}

// direct is the aggregate of the ticks in [start, end), computed from them.
func direct(ticks []ohlcv.Tick, sym string, start, end int64) (marketdata.Aggregate, bool) {
	var acc ohlcv.Accumulator
	for _, t := range ticks {
		if t.Millis >= start && t.Millis < end {
			if err := acc.Add(t); err != nil {
				panic(err)
			}
		}
	}
	sum, ok := acc.Summary()
	a := NewAggregate(marketdata.WindowRef{Symbol: sym, Start: start}, sum, now)
	a.WindowEnd = end
	return a, ok
}

func decode[T any](t *testing.T, resp events.APIGatewayProxyResponse, status int) T {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return v
}

func sameAggs(t *testing.T, got, want []marketdata.Aggregate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d aggregates, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		// Every field to the last digit, VWAP included: the windows carry
		// their exact sums, so a bucket merged from them is exact too. The
		// sums themselves are not part of the answer.
		g, w := got[i], want[i]
		w.PV, w.Prices = "", ""
		if g != w {
			t.Errorf("bucket %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestAggregatesAtIntervals: every interval's buckets overlapping [from, to)
// are served whole, equal to the aggregate computed from their points.
func TestAggregatesAtIntervals(t *testing.T) {
	from, to := w1420+90_000, w1420+100*60_000 // 14:21:30 to 16:00
	for _, iv := range marketdata.Intervals {
		t.Run(iv.Name, func(t *testing.T) {
			s, ticks := ticksStore()
			q := map[string]string{"from": fmt.Sprint(from), "to": fmt.Sprint(to), "interval": iv.Name}
			got := decode[[]marketdata.Aggregate](t, invokeAPI(t, newHandler(s, &fakeMetrics{}),
				request(marketdata.RouteAggregates, map[string]string{"symbol": "AAPL"}, q, "")), 200)
			var want []marketdata.Aggregate
			for b := iv.Start(from); b < to; b = iv.End(b) {
				if a, ok := direct(ticks["AAPL"], "AAPL", b, iv.End(b)); ok {
					want = append(want, a)
				}
			}
			sameAggs(t, got, want)
			if iv == marketdata.DefaultInterval {
				// The window of average-price trades only: its answer has
				// no price fields, and counts its excluded trades.
				i := slices.IndexFunc(got, func(a marketdata.Aggregate) bool { return a.WindowStart == aaplNoPrices })
				if i < 0 || got[i].Open != 0 || got[i].High != 0 || got[i].Excluded != got[i].Trades || got[i].Trades != 10 || got[i].Volume.IsZero() {
					t.Errorf("window without prices: %+v", got)
				}
			}
			if lo := s.aggCalls[0][0]; lo != iv.Start(from) {
				t.Errorf("read windows from %d, want %d (the start of from's bucket)", lo, iv.Start(from))
			}
		})
	}
}

func TestAggregatesBadInterval(t *testing.T) {
	for _, bad := range []string{"2h", "", "1H", "5"} {
		resp := invokeAPI(t, newHandler(stored(), &fakeMetrics{}),
			request(marketdata.RouteAggregates, map[string]string{"symbol": "AAPL"}, map[string]string{"interval": bad}, ""))
		e := decode[marketdata.ErrorResponse](t, resp, 400)
		if !strings.Contains(e.Message, "unknown interval; want one of 5m, 15m, 1h, 1d") {
			t.Errorf("interval %q: message %q", bad, e.Message)
		}
	}
}

func postQuery(t *testing.T, h *Handler, body any) events.APIGatewayProxyResponse {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return invokeAPI(t, h, request(marketdata.RouteQuery, nil, nil, string(b)))
}

// TestQueryPages: the pages of an answer, followed by their tokens, hold
// exactly the whole answer, each within its limit, and each symbol's
// aggregates are GET /aggregates' for it.
func TestQueryPages(t *testing.T) {
	s, _ := ticksStore()
	h := newHandler(s, &fakeMetrics{})
	h.Concurrency = 2
	base := marketdata.QueryRequest{Symbols: []string{"MSFT", "ZZZZ", "AAPL", "GOOG"}, From: fmt.Sprint(w1420), To: fmt.Sprint(w1420 + 3_600_000), Interval: "15m"}
	whole := decode[marketdata.QueryResponse](t, postQuery(t, h, base), 200)
	if whole.Next != "" || !slices.Equal(whole.Unknown, []string{"ZZZZ"}) {
		t.Fatalf("unpaged answer: next %q, unknown %v", whole.Next, whole.Unknown)
	}
	for _, r := range whole.Results {
		if r.Symbol == "ZZZZ" {
			if len(r.Aggregates) != 0 {
				t.Errorf("unknown symbol with aggregates %+v", r.Aggregates)
			}
			continue
		}
		get := decode[[]marketdata.Aggregate](t, invokeAPI(t, h, request(marketdata.RouteAggregates, map[string]string{"symbol": r.Symbol},
			map[string]string{"from": base.From, "to": base.To, "interval": base.Interval}, "")), 200)
		if !reflect.DeepEqual(r.Aggregates, get) {
			t.Errorf("%s: query %+v, GET %+v", r.Symbol, r.Aggregates, get)
		}
	}
	flat := func(rs []marketdata.SymbolAggregates) (out []string) {
		for _, r := range rs {
			for _, a := range r.Aggregates {
				out = append(out, fmt.Sprintf("%s@%d:%d", r.Symbol, a.WindowStart, a.Trades))
			}
		}
		return out
	}
	want := flat(whole.Results)
	if len(want) != 10 { // 14:15 to 15:15, 5 buckets of 15 minutes, for each of 2 symbols
		t.Fatalf("whole answer %v", want)
	}
	for _, limit := range []int{1, 3, 4, 5, 8} {
		req := base
		req.Limit = limit
		var got []string
		for pages := 0; ; pages++ {
			if pages > len(want)+2 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			page := decode[marketdata.QueryResponse](t, postQuery(t, h, req), 200)
			if n := len(flat(page.Results)); n > limit {
				t.Fatalf("limit %d: a page of %d", limit, n)
			}
			got = append(got, flat(page.Results)...)
			if page.Next == "" {
				break
			}
			req.Next = page.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: pages hold %v, want %v", limit, got, want)
		}
	}
}

func TestQueryBadRequests(t *testing.T) {
	many := make([]string, limits.QueryMaxSymbols+1)
	for i := range many {
		many[i] = fmt.Sprintf("S%d", i)
	}
	ok := marketdata.QueryRequest{Symbols: []string{"AAPL"}, From: fmt.Sprint(w1420), To: fmt.Sprint(w1435)}
	with := func(f func(*marketdata.QueryRequest)) marketdata.QueryRequest { r := ok; f(&r); return r }
	tests := []struct {
		name string
		body any
		msg  string
	}{
		{"not JSON", "AAPL", "body is not a query"},
		{"unknown field", map[string]any{"symbols": []string{"AAPL"}, "symbol": "AAPL"}, `unknown field "symbol"`},
		{"no symbols", with(func(r *marketdata.QueryRequest) { r.Symbols = nil }), `"symbols" is empty`},
		{"too many symbols", with(func(r *marketdata.QueryRequest) { r.Symbols = many }), "101 symbols; at most 100"},
		{"bad symbol", with(func(r *marketdata.QueryRequest) { r.Symbols = []string{"AAPL", "aapl"} }), `symbols[1]: invalid symbol "aapl"`},
		{"symbol twice", with(func(r *marketdata.QueryRequest) { r.Symbols = []string{"AAPL", "AAPL"} }), `symbols[1]: "AAPL" named twice`},
		{"bad interval", with(func(r *marketdata.QueryRequest) { r.Interval = "2h" }), "unknown interval"},
		{"bad from", with(func(r *marketdata.QueryRequest) { r.From = "yesterday" }), `parameter "from"`},
		{"from after to", with(func(r *marketdata.QueryRequest) { r.From, r.To = r.To, r.From }), "must be before"},
		{"limit too large", with(func(r *marketdata.QueryRequest) { r.Limit = limits.QueryMaxAggregates + 1 }), `"limit" 5001`},
		{"negative limit", with(func(r *marketdata.QueryRequest) { r.Limit = -1 }), `"limit" -1`},
		{"garbage token", with(func(r *marketdata.QueryRequest) { r.Next = "%%%" }), `"next" "%%%" is not a token`},
		{"token of another symbol", with(func(r *marketdata.QueryRequest) { r.Next = queryCursor{"MSFT", w1420}.token() }), "not a token of this query"},
		{"token outside the range", with(func(r *marketdata.QueryRequest) { r.Next = queryCursor{"AAPL", w1435 + 300_000}.token() }), "not a token of this query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := stored()
			var resp events.APIGatewayProxyResponse
			if str, isStr := tc.body.(string); isStr {
				resp = invokeAPI(t, newHandler(s, &fakeMetrics{}), request(marketdata.RouteQuery, nil, nil, str))
			} else {
				resp = postQuery(t, newHandler(s, &fakeMetrics{}), tc.body)
			}
			e := decode[marketdata.ErrorResponse](t, resp, 400)
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q, want it to contain %q", e.Message, tc.msg)
			}
			if len(s.aggCalls) != 0 {
				t.Error("a bad request reached the store")
			}
		})
	}
}

// TestQueryAnswerFitsLambda: the largest aggregate, as a full answer of
// them carries it (JSON, then escaped as the proxy response's body string),
// stays within limits.QueryAggregateMaxBytes, so a full answer fits Lambda's
// response payload.
func TestQueryAnswerFitsLambda(t *testing.T) {
	long := -1.2345678901234567e-300 // the longest float64 text
	a := marketdata.Aggregate{Symbol: strings.Repeat("W", limits.MaxSymbolLen), WindowStart: math.MinInt64, WindowEnd: math.MinInt64,
		Open: long, High: long, Low: long, Close: long, VWAP: long, Volume: "9223372036854775807.999999999999999999", Trades: math.MinInt64,
		FirstTs: math.MinInt64, LastTs: math.MinInt64, UpdatedAt: math.MinInt64}
	one, _ := json.Marshal(a)
	escaped, _ := json.Marshal(string(one) + ",")
	if len(escaped) > limits.QueryAggregateMaxBytes {
		t.Fatalf("an aggregate takes %d bytes in an answer, above QueryAggregateMaxBytes %d", len(escaped), limits.QueryAggregateMaxBytes)
	}
	// The rest of the answer: per symbol its name and keys, the token, the
	// unknown list, the response's envelope.
	rest := limits.QueryMaxSymbols*(2*limits.MaxSymbolLen+64) + 4096
	if total := limits.QueryMaxAggregates*limits.QueryAggregateMaxBytes + rest; total > limits.LambdaPayloadBytes {
		t.Errorf("a full answer may take %d bytes, above Lambda's %d", total, limits.LambdaPayloadBytes)
	}
}

// fakeCatalog serves the symbols index from a sorted list.
type fakeCatalog struct {
	latest map[string]marketdata.Latest
	calls  []string
}

func (c *fakeCatalog) Symbols(_ context.Context, after string, limit int) ([]marketdata.Latest, string, error) {
	c.calls = append(c.calls, fmt.Sprintf("%s/%d", after, limit))
	var syms []string
	for s := range c.latest {
		if s > after {
			syms = append(syms, s)
		}
	}
	slices.Sort(syms)
	var page []marketdata.Latest
	next := ""
	for i, s := range syms {
		if i == limit {
			next = syms[i-1]
			break
		}
		page = append(page, c.latest[s])
	}
	return page, next, nil
}

func (c *fakeCatalog) Latest(_ context.Context, symbol string) (marketdata.Latest, bool, error) {
	l, ok := c.latest[symbol]
	return l, ok, nil
}

func catalog() *fakeCatalog {
	c := &fakeCatalog{latest: map[string]marketdata.Latest{}}
	for i, s := range []string{"AAPL", "BRK.B", "BTC-USD", "MSFT", "TSLA"} {
		c.latest[s] = marketdata.Latest{Symbol: s, Price: float64(100 + i), Timestamp: w1430 + int64(i), UpdatedAt: w1435}
	}
	return c
}

func TestSymbols(t *testing.T) {
	c := catalog()
	h := newHandler(stored(), &fakeMetrics{})
	h.Catalog = c
	var got []marketdata.Latest
	q := map[string]string{"limit": "2"}
	for pages := 0; ; pages++ {
		page := decode[marketdata.SymbolsResponse](t, invokeAPI(t, h, request(marketdata.RouteSymbols, nil, q, "")), 200)
		got = append(got, page.Symbols...)
		if page.Next == "" || pages > 5 {
			break
		}
		q = map[string]string{"limit": "2", "next": page.Next}
	}
	if len(got) != 5 || got[0] != c.latest["AAPL"] || got[4] != c.latest["TSLA"] {
		t.Errorf("pages hold %+v, want the five symbols in order", got)
	}
	c.calls = nil
	decode[marketdata.SymbolsResponse](t, invokeAPI(t, h, request(marketdata.RouteSymbols, nil, nil, "")), 200)
	if want := fmt.Sprintf("/%d", limits.DynamoBatchGetItems); !slices.Equal(c.calls, []string{want}) {
		t.Errorf("default page read as %v, want %s", c.calls, want)
	}
	for _, bad := range []map[string]string{{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"next": "brk.b"}, {"next": ""}} {
		e := decode[marketdata.ErrorResponse](t, invokeAPI(t, h, request(marketdata.RouteSymbols, nil, bad, "")), 400)
		if !strings.Contains(e.Message, "parameter") {
			t.Errorf("%v: message %q", bad, e.Message)
		}
	}
}

func TestLatest(t *testing.T) {
	h := newHandler(stored(), &fakeMetrics{})
	h.Catalog = catalog()
	got := decode[marketdata.Latest](t, invokeAPI(t, h, request(marketdata.RouteLatest, map[string]string{"symbol": "BRK.B"}, nil, "")), 200)
	if got != h.Catalog.(*fakeCatalog).latest["BRK.B"] {
		t.Errorf("latest %+v", got)
	}
	e := decode[marketdata.ErrorResponse](t, invokeAPI(t, h, request(marketdata.RouteLatest, map[string]string{"symbol": "ZZZZ"}, nil, "")), 404)
	if e.Message != `unknown symbol "ZZZZ"` {
		t.Errorf("message %q", e.Message)
	}
	decode[marketdata.ErrorResponse](t, invokeAPI(t, h, request(marketdata.RouteLatest, map[string]string{"symbol": "zz"}, nil, "")), 400)
}

// TestEveryReadRouteIsServed: each route of the table whose service is the
// aggregator reaches a handler (no "no such resource"), and another method
// on it is a 405.
func TestEveryReadRouteIsServed(t *testing.T) {
	body := `{"symbols":["AAPL"]}`
	n := 0
	for _, r := range marketdata.Routes {
		if r.Service != serviceName {
			continue
		}
		n++
		h := newHandler(stored(), &fakeMetrics{})
		h.Catalog = catalog()
		resp := invokeAPI(t, h, request(r, map[string]string{"symbol": "AAPL"}, nil, body))
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d, body %s", r, resp.StatusCode, resp.Body)
		}
		other := r
		other.Method = map[string]string{"GET": "DELETE", "POST": "GET"}[r.Method]
		if resp := invokeAPI(t, h, request(other, map[string]string{"symbol": "AAPL"}, nil, body)); resp.StatusCode != 405 || resp.Headers["Allow"] != r.Method {
			t.Errorf("%s on %s: status %d, Allow %q", other.Method, r.Path, resp.StatusCode, resp.Headers["Allow"])
		}
	}
	if n != 4 {
		t.Errorf("%d routes served by the aggregator, want 4", n)
	}
}

// TestAggregatesWithoutPrices: a window whose trades' conditions exclude
// them from every price field is answered without open, high, low, close
// and their times, with trades, excludedTrades, volume and vwap.
func TestAggregatesWithoutPrices(t *testing.T) {
	s, _ := ticksStore()
	q := map[string]string{"from": fmt.Sprint(aaplNoPrices), "to": fmt.Sprint(aaplNoPrices + 300_000)}
	resp := invokeAPI(t, newHandler(s, &fakeMetrics{}), request(marketdata.RouteAggregates, map[string]string{"symbol": "AAPL"}, q, ""))
	got := decode[[]map[string]any](t, resp, 200)
	if len(got) != 1 {
		t.Fatalf("answer %s", resp.Body)
	}
	for _, k := range []string{"open", "high", "low", "close", "firstTimestamp", "lastTimestamp"} {
		if _, ok := got[0][k]; ok {
			t.Errorf("%s in %s", k, resp.Body)
		}
	}
	for _, k := range []string{"trades", "excludedTrades", "volume", "vwap"} {
		if v, ok := got[0][k].(float64); !ok || v <= 0 {
			t.Errorf("%s missing or 0 in %s", k, resp.Body)
		}
	}
}
