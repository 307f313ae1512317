//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/handler"
	"github.com/marketanalytics/pipeline/services/aggregator/internal/table"
	"github.com/marketanalytics/pipeline/services/platform/awstest"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// env is the moto-backed environment of one test.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *dynamodb.Client
	cw    *cloudwatch.Client
	table string
	ns    string
	h     *handler.Handler
	tb    *table.Table
	pages *pageCounter
	// partials counts the partial items written per window.
	partials map[marketdata.WindowRef]map[string]bool
}

func setup(t *testing.T) *env {
	cfg := awstest.Config(t)
	// A table with the storage stack's key schema and a metric namespace of
	// this test's own, handed to main's wiring through its environment.
	e := &env{t: t, ctx: context.Background(), table: awstest.CreateTable(t, cfg), ns: awstest.Names().MetricNamespace(),
		partials: map[marketdata.WindowRef]map[string]bool{}}
	t.Setenv(lambdaenv.TableName, e.table)
	t.Setenv(lambdaenv.MetricNamespace, e.ns)
	e.db, e.cw = dynamodb.NewFromConfig(cfg), newCloudWatch(cfg)

	// The real wiring of main, with a small page size to force pagination.
	var err error
	e.h, err = function.New(e.ctx, slog.New(slog.NewJSONHandler(io.Discard, nil)), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	e.tb = e.h.Store.(*table.Table)
	e.tb.PageLimit = 40
	e.pages = &pageCounter{DynamoDB: e.tb.DB, pages: map[string]int{}}
	e.tb.DB = e.pages
	return e
}

// pageCounter counts the Query pages read per hash key.
type pageCounter struct {
	table.DynamoDB
	mu    sync.Mutex
	pages map[string]int
}

func (c *pageCounter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.mu.Lock()
	c.pages[in.ExpressionAttributeValues[":h"].(*types.AttributeValueMemberS).Value]++
	c.mu.Unlock()
	return c.DynamoDB.Query(ctx, in, opts...)
}

// putPoints stores points the way the processor does: BatchWriteItem through
// dynamobatch, range key from marketdata.AppendSortKey, and the partial
// aggregates of each message of perMessage points.
func (e *env) putPoints(origin string, pts []marketdata.Point) []string {
	return e.putMessages(origin, pts, 4)
}

func (e *env) putMessages(origin string, pts []marketdata.Point, perMessage int) []string {
	keys := make([]string, len(pts))
	items := make([]dynamobatch.Item, len(pts))
	for i, p := range pts {
		keys[i] = string(marketdata.AppendSortKey(nil, p, origin, int64(i)))
		items[i] = rawItem(p.Symbol, keys[i], p, origin)
	}
	for lo := 0; lo < len(pts); lo += perMessage {
		hi := min(lo+perMessage, len(pts))
		items = append(items, e.partialItems(origin, keys[lo:hi], pts[lo:hi])...)
	}
	e.putRaw(items)
	return keys
}

// partialItems are the partials of one message (as the processor builds
// them: one per symbol and window, key from the origin and the points' keys).
func (e *env) partialItems(origin string, keys []string, pts []marketdata.Point) []dynamobatch.Item {
	type group struct {
		p    marketdata.Partial
		keys []string
	}
	groups := map[marketdata.WindowRef]*group{}
	var order []marketdata.WindowRef
	for i, p := range pts {
		ref := marketdata.WindowRef{Symbol: p.Symbol, Start: marketdata.WindowStart(p.Timestamp)}
		g := groups[ref]
		if g == nil {
			g = &group{}
			groups[ref] = g
			order = append(order, ref)
		}
		ms, disc, err := marketdata.ParseSortKey(keys[i])
		if err != nil {
			e.t.Fatal(err)
		}
		eff, err := conditions.Of(p.Conditions)
		if err != nil {
			e.t.Fatal(err)
		}
		g.p.AddEffect(ms, disc, p.Price, p.Volume, eff)
		g.keys = append(g.keys, keys[i])
	}
	var items []dynamobatch.Item
	for _, ref := range order {
		g := groups[ref]
		rng := marketdata.PartialSortKey(ref.Start, origin, ref.Symbol, g.keys)
		if e.partials[ref] == nil {
			e.partials[ref] = map[string]bool{}
		}
		e.partials[ref][rng] = true
		items = append(items, ddbitem.EncodePartial(g.p.Item(ref.Symbol, rng, marketdata.ExpiresAt(time.Now()))))
	}
	return items
}

// partialsIn is the number of distinct partials written to the windows.
func (e *env) partialsIn(refs ...marketdata.WindowRef) int64 {
	var n int64
	for _, ref := range refs {
		n += int64(len(e.partials[ref]))
	}
	return n
}

func rawItem(symbol, key string, p marketdata.Point, origin string) dynamobatch.Item {
	it := dynamobatch.Item{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: symbol},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: key},
		marketdata.AttrPrice:     &types.AttributeValueMemberN{Value: strconv.FormatFloat(p.Price, 'f', -1, 64)},
		marketdata.AttrVolume:    &types.AttributeValueMemberN{Value: p.Volume.String()},
		marketdata.AttrMillis:    &types.AttributeValueMemberN{Value: strconv.FormatInt(p.Timestamp, 10)},
		marketdata.AttrOrigin:    &types.AttributeValueMemberS{Value: origin},
		marketdata.AttrExchange:  &types.AttributeValueMemberS{Value: "XNAS"},
		marketdata.AttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(marketdata.ExpiresAt(time.Now()), 10)},
	}
	if p.Conditions != "" {
		it[marketdata.AttrConditions] = &types.AttributeValueMemberS{Value: p.Conditions}
	}
	return it
}

func (e *env) putRaw(items []dynamobatch.Item) {
	e.t.Helper()
	w := dynamobatch.New(e.db, e.table, []string{marketdata.AttrSymbol, marketdata.AttrTimestamp})
	if res := w.Put(e.ctx, items); len(res.Failures) > 0 {
		e.t.Fatalf("%d raw items not stored, first: %v", len(res.Failures), res.Failures[0].Err)
	}
}

func (e *env) putItem(item map[string]types.AttributeValue) {
	e.t.Helper()
	if _, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) activeWindow(start int64, symbols ...string) {
	e.putItem(map[string]types.AttributeValue{
		marketdata.AttrSymbol:        &types.AttributeValueMemberS{Value: marketdata.ActiveWindows},
		marketdata.AttrTimestamp:     &types.AttributeValueMemberN{Value: strconv.FormatInt(start, 10)},
		marketdata.AttrActiveSymbols: &types.AttributeValueMemberSS{Value: symbols},
	})
}

func (e *env) stored(symbol string, start int64) (marketdata.Aggregate, bool) {
	e.t.Helper()
	out, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.AggregateKey(symbol)},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: strconv.FormatInt(start, 10)},
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(out.Item) == 0 {
		return marketdata.Aggregate{}, false
	}
	a, err := table.ParseAggregateItem(out.Item)
	if err != nil {
		e.t.Fatal(err)
	}
	return a, true
}

// keyed is a stored point with its range key.
type keyed struct {
	key string
	p   marketdata.Point
}

// expected computes a window's aggregate independently of the code under
// test: exact decimal ordering of the range keys (math/big) and exact
// rational sums for the VWAP.
func expected(symbol string, start int64, pts []keyed, updatedAt int64) (marketdata.Aggregate, int) {
	var in []keyed
	for _, k := range pts {
		if k.p.Symbol == symbol && k.p.Timestamp >= start && k.p.Timestamp < start+300_000 {
			in = append(in, k)
		}
	}
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			panic(s)
		}
		return r
	}
	slices.SortFunc(in, func(a, b keyed) int { return rat(a.key).Cmp(rat(b.key)) })
	a := marketdata.Aggregate{Symbol: symbol, WindowStart: start, WindowEnd: start + 300_000,
		Trades: int64(len(in)), UpdatedAt: updatedAt}
	pv, vol, sumP := new(big.Rat), new(big.Rat), new(big.Rat)
	for _, k := range in {
		// The sale conditions, read off the table's rows.
		oc, hl, volume := true, true, true
		if k.p.Conditions != "" {
			for _, c := range strings.Split(k.p.Conditions, ",") {
				i := slices.IndexFunc(conditions.Table, func(r conditions.Rule) bool { return strconv.Itoa(r.ID) == c })
				r := conditions.Table[i]
				oc, hl, volume = oc && r.OpenClose, hl && r.HighLow, volume && r.Volume
			}
		}
		if oc {
			if a.Open == 0 {
				a.Open, a.FirstTs = k.p.Price, k.p.Timestamp
			}
			a.Close, a.LastTs = k.p.Price, k.p.Timestamp
		}
		if hl {
			if a.High == 0 {
				a.High, a.Low = k.p.Price, k.p.Price
			}
			a.High, a.Low = max(a.High, k.p.Price), min(a.Low, k.p.Price)
		}
		if !oc && !hl {
			a.Excluded++
		}
		price := new(big.Rat).SetFloat64(k.p.Price)
		sumP.Add(sumP, price)
		if !volume {
			continue
		}
		v := rat(k.p.Volume.String())
		pv.Add(pv, new(big.Rat).Mul(price, v))
		vol.Add(vol, v)
	}
	a.Volume = marketdata.Decimal(strings.TrimSuffix(strings.TrimRight(vol.FloatString(marketdata.MaxDecimalScale), "0"), "."))
	if vol.Sign() > 0 {
		a.VWAP, _ = new(big.Rat).Quo(pv, vol).Float64()
	} else {
		a.VWAP, _ = new(big.Rat).Quo(sumP, new(big.Rat).SetInt64(int64(len(in)))).Float64()
	}
	return a, len(in)
}

func assertAggregate(t *testing.T, got, want marketdata.Aggregate) {
	t.Helper()
	if math.Abs(got.VWAP-want.VWAP) > 1e-12*want.VWAP {
		t.Errorf("%s/%d VWAP %.17g, want %.17g", want.Symbol, want.WindowStart, got.VWAP, want.VWAP)
	}
	got.VWAP, want.VWAP = 0, 0
	got.PV, got.Prices, want.PV, want.Prices = "", "", "", ""
	if got != want {
		t.Errorf("%s/%d aggregate\n got %+v\nwant %+v", want.Symbol, want.WindowStart, got, want)
	}
}

func scheduledEvent(tick time.Time) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events",
		"account":"123456789012","time":%q,"region":"us-east-1","resources":[],"detail":{}}`, tick.UTC().Format(time.RFC3339)))
}

func windowsEvent(refs ...marketdata.WindowRef) json.RawMessage {
	detail, _ := json.Marshal(marketdata.WindowsChanged{Windows: refs})
	return json.RawMessage(fmt.Sprintf(`{"version":"0","id":"2","detail-type":%q,"source":%q,"account":"123456789012",
		"time":"2024-03-05T14:35:01Z","region":"us-east-1","resources":[],"detail":%s}`,
		marketdata.EventDetailType, marketdata.EventSource, detail))
}

func TestIntegrationAggregation(t *testing.T) {
	e := setup(t)
	clock := time.Now().UTC().Truncate(time.Second)
	e.h.Now = func() time.Time { return clock }
	w := marketdata.WindowStart(clock.UnixMilli()) - 2*300_000 // closed ten minutes ago at most
	prev := w - 300_000

	// AAPL: 300 points over 60 distinct milliseconds of window w (so many
	// share a millisecond), some with zero volume, many with sale
	// conditions, and points on both boundaries of the window and just
	// outside it.
	r := rand.New(rand.NewPCG(11, 12))
	var aapl []marketdata.Point
	for i := range 300 {
		vol := marketdata.Units(r.Uint64N(1000))
		if i%7 == 0 {
			vol = "0"
		}
		aapl = append(aapl, marketdata.Point{Symbol: "AAPL", Timestamp: w + r.Int64N(60)*5_000,
			Price: math.Round((180+r.Float64()*10)*100) / 100, Volume: vol,
			// Sale conditions: odd lots, out-of-sequence, average-price and
			// official-close prints among regular trades.
			Conditions: [...]string{"", "37", "", "33", "2", "", "0,37", "15", "", "14"}[i%10]})
	}
	for _, ms := range []int64{w, w + 299_999, w - 1, w + 300_000} {
		aapl = append(aapl, marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 150 + float64(ms%7), Volume: "3"})
	}
	// MSFT: 30 points in the previous window, with fractional volumes
	// (a crypto-like size: every sum exact to its last digit).
	var msft []marketdata.Point
	for i := range 30 {
		msft = append(msft, marketdata.Point{Symbol: "MSFT", Timestamp: prev + int64(i)*9_000, Price: 410 + float64(i)/4, Volume: marketdata.Decimal(strconv.Itoa(10*i) + ".00000001")})
	}
	var all []keyed
	for _, batch := range [][]marketdata.Point{aapl, msft} {
		keys := e.putPoints("s3://market-data-it/"+batch[0].Symbol+".csv#v1", batch)
		for i, k := range keys {
			all = append(all, keyed{k, batch[i]})
		}
	}
	// EDGE: hand-made range keys at the extremes of the decimal range, to
	// check that BETWEEN compares them as exact decimals (as DynamoDB does)
	// and not as floats (which would round both outside keys onto the bounds).
	edge := []keyed{
		{fmt.Sprintf("%d.999999999999999999", w-1), marketdata.Point{Symbol: "EDGE", Timestamp: w - 1, Price: 1, Volume: "1"}},
		{fmt.Sprintf("%d.000000000000000001", w), marketdata.Point{Symbol: "EDGE", Timestamp: w, Price: 2, Volume: "1"}},
		{fmt.Sprintf("%d.999999999999999999", w+299_999), marketdata.Point{Symbol: "EDGE", Timestamp: w + 299_999, Price: 3, Volume: "1"}},
		{fmt.Sprintf("%d.000000000000000001", w+300_000), marketdata.Point{Symbol: "EDGE", Timestamp: w + 300_000, Price: 4, Volume: "1"}},
	}
	var edgeItems []dynamobatch.Item
	for _, k := range edge {
		edgeItems = append(edgeItems, rawItem("EDGE", k.key, k.p, "edge"))
		edgeItems = append(edgeItems, e.partialItems("edge", []string{k.key}, []marketdata.Point{k.p})...)
	}
	e.putRaw(edgeItems)
	all = append(all, edge...)

	// What the processor records: the windows with data, and latest state.
	e.activeWindow(prev, "MSFT", "GOOG") // GOOG has no points there
	e.activeWindow(w, "AAPL", "EDGE")
	e.activeWindow(w+300_000, "AAPL") // the open window: not finalised
	e.putItem(map[string]types.AttributeValue{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.StateKey("TSLA")},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: marketdata.StateSortKey},
		marketdata.AttrLastPrice: &types.AttributeValueMemberN{Value: "251.5"},
	})

	t.Run("moto BETWEEN on decimal range keys", func(t *testing.T) {
		lo, hi := marketdata.MillisRange(w, marketdata.WindowEnd(w))
		out, err := e.db.Query(e.ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(e.table),
			KeyConditionExpression:    aws.String("#h = :h AND #r BETWEEN :lo AND :hi"),
			ExpressionAttributeNames:  map[string]string{"#h": marketdata.AttrSymbol, "#r": marketdata.AttrTimestamp},
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: "EDGE"}, ":lo": &types.AttributeValueMemberN{Value: lo}, ":hi": &types.AttributeValueMemberN{Value: hi}},
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, it[marketdata.AttrTimestamp].(*types.AttributeValueMemberN).Value)
		}
		if want := []string{edge[1].key, edge[2].key}; !slices.Equal(got, want) {
			t.Fatalf("BETWEEN %s AND %s returned %v, want %v", lo, hi, got, want)
		}
	})

	t.Run("schedule finalises the closed windows", func(t *testing.T) {
		out, err := e.h.Invoke(e.ctx, scheduledEvent(time.UnixMilli(w+300_000+42_000)))
		if err != nil {
			t.Fatal(err)
		}
		res := out.(handler.Result)
		wantAAPL, nAAPL := expected("AAPL", w, all, clock.UnixMilli())
		wantMSFT, nMSFT := expected("MSFT", prev, all, clock.UnixMilli())
		wantEDGE, nEDGE := expected("EDGE", w, all, clock.UnixMilli())
		if nAAPL != 302 || nMSFT != 30 || nEDGE != 2 {
			t.Fatalf("test data: %d %d %d points", nAAPL, nMSFT, nEDGE)
		}
		read := e.partialsIn(marketdata.WindowRef{Symbol: "AAPL", Start: w}, marketdata.WindowRef{Symbol: "MSFT", Start: prev}, marketdata.WindowRef{Symbol: "EDGE", Start: w})
		if want := (handler.Result{Windows: 4, Written: 3, Empty: 1, Points: 334, ItemsRead: read, NewestMillis: w + 299_999}); res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
		for _, want := range []marketdata.Aggregate{wantAAPL, wantMSFT, wantEDGE} {
			got, ok := e.stored(want.Symbol, want.WindowStart)
			if !ok {
				t.Errorf("no aggregate %s/%d", want.Symbol, want.WindowStart)
				continue
			}
			assertAggregate(t, got, want)
		}
		if _, ok := e.stored("GOOG", prev); ok {
			t.Error("a window without points got an aggregate")
		}
		if _, ok := e.stored("AAPL", w+300_000); ok {
			t.Error("the open window was aggregated")
		}
		// The partials, not the raw points, were read: 302 AAPL points in
		// messages of 4 are 76 partials, at 40 per page at least 2 pages,
		// each continuing from the last (else the count above would be short).
		if p, raw := e.pages.pages[marketdata.PartialKey("AAPL")], e.pages.pages["AAPL"]; p < 2 || raw != 0 {
			t.Errorf("AAPL window read in %d Query pages of partials (want >= 2) and %d of raw points (want 0)", p, raw)
		}
		e.checkMetric(t, naming.MetricPointsAggregated, 334)
		e.checkMetric(t, naming.MetricWindowsWritten, 3)
		e.checkMetric(t, naming.MetricItemsRead, float64(read))
		e.checkMetric(t, naming.MetricAggregationLag, float64(clock.UnixMilli()-(w+299_999)))
	})

	t.Run("custom event recomputes with a new point", func(t *testing.T) {
		late := marketdata.Point{Symbol: "AAPL", Timestamp: w + 299_999, Price: 200, Volume: "5"}
		key := e.putPoints("api:late", []marketdata.Point{late})[0]
		all = append(all, keyed{key, late})
		clock = clock.Add(time.Minute)
		out, err := e.h.Invoke(e.ctx, windowsEvent(marketdata.WindowRef{Symbol: "AAPL", Start: w}))
		if err != nil {
			t.Fatal(err)
		}
		if res := out.(handler.Result); res.Written != 1 || res.Points != 303 {
			t.Errorf("result %+v", res)
		}
		want, _ := expected("AAPL", w, all, clock.UnixMilli())
		got, _ := e.stored("AAPL", w)
		assertAggregate(t, got, want)
		if got.Trades != 303 {
			t.Errorf("trades %d", got.Trades)
		}
	})

	t.Run("recomputation is idempotent", func(t *testing.T) {
		first, _ := e.stored("AAPL", w)
		clock = clock.Add(time.Minute)
		if _, err := e.h.Invoke(e.ctx, windowsEvent(marketdata.WindowRef{Symbol: "AAPL", Start: w})); err != nil {
			t.Fatal(err)
		}
		again, _ := e.stored("AAPL", w)
		if again.UpdatedAt != clock.UnixMilli() {
			t.Errorf("updatedAt %d, want %d", again.UpdatedAt, clock.UnixMilli())
		}
		again.UpdatedAt = first.UpdatedAt
		if again != first {
			t.Errorf("recomputed %+v, was %+v", again, first)
		}
	})

	t.Run("a redelivered message overwrites its own partials", func(t *testing.T) {
		before, _ := e.stored("AAPL", w)
		n := e.partialsIn(marketdata.WindowRef{Symbol: "AAPL", Start: w})
		e.putPoints("s3://market-data-it/AAPL.csv#v1", aapl) // the same messages again
		if again := e.partialsIn(marketdata.WindowRef{Symbol: "AAPL", Start: w}); again != n {
			t.Fatalf("%d partials after the redelivery, was %d", again, n)
		}
		clock = clock.Add(time.Minute)
		out, err := e.h.Invoke(e.ctx, windowsEvent(marketdata.WindowRef{Symbol: "AAPL", Start: w}))
		if err != nil {
			t.Fatal(err)
		}
		if res := out.(handler.Result); res.Points != 303 || res.ItemsRead != n {
			t.Errorf("result %+v, want 303 points from %d partials", res, n)
		}
		got, _ := e.stored("AAPL", w)
		got.UpdatedAt = before.UpdatedAt
		if got != before {
			t.Errorf("after the redelivery %+v, was %+v", got, before)
		}
	})

	t.Run("from raw: the same aggregate to the last bit, and the repair of a point counted twice", func(t *testing.T) {
		fromPartials, _ := e.stored("AAPL", w)
		// A stored point reaching the table again in another message (a
		// re-uploaded file packed differently): one raw item, but two
		// partials count it, and the partials' path takes the larger count.
		var twice []keyed
		for _, k := range all {
			if k.p.Symbol == "AAPL" && marketdata.WindowStart(k.p.Timestamp) == w {
				twice = append(twice, k)
				break
			}
		}
		e.putRaw(append([]dynamobatch.Item{rawItem("AAPL", twice[0].key, twice[0].p, "s3://market-data-it/AAPL.csv#v1")},
			e.partialItems("s3://market-data-it/AAPL-repacked.csv#v1", []string{twice[0].key}, []marketdata.Point{twice[0].p})...))
		clock = clock.Add(time.Minute)
		if _, err := e.h.Invoke(e.ctx, windowsEvent(marketdata.WindowRef{Symbol: "AAPL", Start: w})); err != nil {
			t.Fatal(err)
		}
		if over, _ := e.stored("AAPL", w); over.Trades != fromPartials.Trades+1 {
			t.Fatalf("trades %d, want the double count %d", over.Trades, fromPartials.Trades+1)
		}
		raw := e.pages.pages["AAPL"]
		detail, _ := json.Marshal(marketdata.WindowsChanged{Windows: []marketdata.WindowRef{{Symbol: "AAPL", Start: w}}, FromRaw: true})
		ev := json.RawMessage(fmt.Sprintf(`{"version":"0","id":"3","detail-type":%q,"source":%q,"account":"123456789012",
		"time":"2024-03-05T14:35:01Z","region":"us-east-1","resources":[],"detail":%s}`, marketdata.EventDetailType, marketdata.EventSource, detail))
		clock = clock.Add(time.Minute)
		out, err := e.h.Invoke(e.ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if res := out.(handler.Result); !res.FromRaw || res.Points != 303 || res.ItemsRead != 303 || res.Written != 1 {
			t.Errorf("result %+v, want 303 raw points read and written", res)
		}
		if e.pages.pages["AAPL"] <= raw {
			t.Error("the from-raw path read no raw points")
		}
		fromRaw, _ := e.stored("AAPL", w)
		if fromRaw.UpdatedAt != clock.UnixMilli() {
			t.Errorf("updatedAt %d, want %d: not rewritten", fromRaw.UpdatedAt, clock.UnixMilli())
		}
		fromRaw.UpdatedAt = fromPartials.UpdatedAt
		if fromRaw != fromPartials {
			t.Errorf("from raw %+v\nfrom partials %+v", fromRaw, fromPartials)
		}
	})

	t.Run("conditional write keeps the fuller aggregate", func(t *testing.T) {
		current, _ := e.stored("AAPL", w)
		older := current
		older.Trades, older.Volume, older.UpdatedAt = 10, "1", clock.UnixMilli()+1
		wrote, err := e.tb.PutAggregate(e.ctx, older)
		if err != nil || wrote {
			t.Fatalf("PutAggregate of a smaller count: wrote=%v err=%v, want refused", wrote, err)
		}
		if got, _ := e.stored("AAPL", w); got != current {
			t.Errorf("stored %+v, want unchanged %+v", got, current)
		}
	})

	t.Run("API", func(t *testing.T) {
		var base events.APIGatewayProxyRequest
		raw, err := os.ReadFile("testdata/api_get_aggregates.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &base); err != nil {
			t.Fatal(err)
		}
		get := func(symbol, from, to string) events.APIGatewayProxyResponse {
			req := base
			req.PathParameters = map[string]string{"symbol": symbol}
			req.Path = "/aggregates/" + symbol
			req.QueryStringParameters = map[string]string{"from": from, "to": to}
			req.MultiValueQueryStringParameters = nil
			ev, _ := json.Marshal(req)
			out, err := e.h.Invoke(e.ctx, ev)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			return out.(events.APIGatewayProxyResponse)
		}
		ms := func(v int64) string { return strconv.FormatInt(v, 10) }

		resp := get("AAPL", ms(prev), time.UnixMilli(w+300_000).UTC().Format(time.RFC3339))
		var aggs []marketdata.Aggregate
		if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &aggs) != nil {
			t.Fatalf("AAPL: %d %s", resp.StatusCode, resp.Body)
		}
		stored, _ := e.stored("AAPL", w)
		if stored.PV == "" || stored.Prices == "" {
			t.Errorf("the stored window lacks its exact sums: %+v", stored)
		}
		stored.PV, stored.Prices = "", "" // kept in the table, not in answers
		if len(aggs) != 1 || aggs[0] != stored {
			t.Errorf("AAPL windows %+v, want [%+v]", aggs, stored)
		}

		for _, c := range []struct {
			symbol, from, to string
			status           int
			body             string
		}{
			{"MSFT", ms(prev), ms(w + 600_000), 200, ""},
			{"TSLA", ms(prev), ms(w), 200, "[]"}, // latest state, no aggregates
			{"ZZZZ", ms(prev), ms(w), 404, `"message":"unknown symbol \"ZZZZ\""`},
			{"GOOG", ms(prev), ms(w), 404, "unknown symbol"}, // listed active, but never aggregated nor stated
			{"AAPL", ms(w), ms(prev), 400, "must be before"},
		} {
			resp := get(c.symbol, c.from, c.to)
			if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.body) {
				t.Errorf("%s: %d %s, want %d with %s", c.symbol, resp.StatusCode, resp.Body, c.status, c.body)
			}
		}
	})
}

// checkMetric checks that the namespace holds metric name with a datapoint
// summing to want, through ListMetrics and GetMetricData.
func (e *env) checkMetric(t *testing.T, name string, want float64) {
	t.Helper()
	list, err := e.cw.ListMetrics(e.ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String(e.ns), MetricName: aws.String(name)})
	if err != nil {
		t.Fatalf("ListMetrics: %v", err)
	}
	if len(list.Metrics) != 1 {
		t.Fatalf("ListMetrics %s in %s: %d metrics, want 1", name, e.ns, len(list.Metrics))
	}
	now := time.Now()
	out, err := e.cw.GetMetricData(e.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-time.Hour)),
		EndTime:   aws.Time(now.Add(time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("m"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(e.ns), MetricName: aws.String(name)},
				Period: aws.Int32(3600),
				Stat:   aws.String("Sum"),
			},
		}},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	var sum float64
	for _, r := range out.MetricDataResults {
		for _, v := range r.Values {
			sum += v
		}
	}
	if sum != want {
		t.Errorf("metric %s sums to %v, want %v", name, sum, want)
	}
}

// TestIntegrationReadAmplification measures what the aggregator reads per
// point stored when every processor batch triggers a recomputation of the
// windows it touched, batches running concurrently (the trigger's pollers):
// with partials, each recomputation reads the window's partials (one per
// message), not every point stored so far. Goal (issue 12): at most 1.1
// items read per point stored, at any window size.
func TestIntegrationReadAmplification(t *testing.T) {
	e := setup(t)
	e.tb.PageLimit = 0
	base := marketdata.WindowStart(time.Now().Add(-24 * time.Hour).UnixMilli())
	const perBatch, pollers = 10, 10
	for _, c := range []struct {
		name            string
		symbol          string
		windows, points int // points per window
		perMessage      int
	}{
		{"sparse: one point per window", "SPRS", 300, 1, 500},
		{"2,000 points per window", "MIDW", 2, 2000, 500},
		// Small messages (POST /ingest requests of 100 points): 200
		// partials in the window, 20 batches recomputing it concurrently.
		{"20,000 points per window, messages of 100", "BIGW", 1, 20000, 100},
	} {
		perMessage := c.perMessage
		t.Run(c.name, func(t *testing.T) {
			var pts []marketdata.Point
			for i := range c.points {
				for w := range c.windows {
					pts = append(pts, marketdata.Point{Symbol: c.symbol, Timestamp: base - int64(w)*300_000 + int64(i*299_999/c.points),
						Price: math.Round((100+float64(i%97)/7)*100) / 100, Volume: marketdata.Units(uint64(1 + i%300))})
				}
			}
			// Messages of perMessage points, batches of perBatch messages,
			// pollers batches at a time; each batch stores its messages,
			// then names its windows to the aggregator, as the processor does.
			type batch struct{ lo, hi int }
			var batches []batch
			for lo := 0; lo < len(pts); lo += perMessage * perBatch {
				batches = append(batches, batch{lo, min(lo+perMessage*perBatch, len(pts))})
			}
			var mu sync.Mutex
			var read, aggregated int64
			var g errgroup.Group
			g.SetLimit(pollers)
			for bi, b := range batches {
				g.Go(func() error {
					origin := fmt.Sprintf("s3://market-data-it/%s.csv#b%d", c.symbol, bi)
					mu.Lock() // the env's partial bookkeeping is not concurrent
					keys := make([]string, b.hi-b.lo)
					items := make([]dynamobatch.Item, 0, b.hi-b.lo)
					for i, p := range pts[b.lo:b.hi] {
						keys[i] = string(marketdata.AppendSortKey(nil, p, origin, int64(i)))
						items = append(items, rawItem(p.Symbol, keys[i], p, origin))
					}
					refs := map[marketdata.WindowRef]bool{}
					for lo := 0; lo < len(keys); lo += perMessage {
						hi := min(lo+perMessage, len(keys))
						items = append(items, e.partialItems(origin, keys[lo:hi], pts[b.lo+lo:b.lo+hi])...)
						for _, p := range pts[b.lo+lo : b.lo+hi] {
							refs[marketdata.WindowRef{Symbol: p.Symbol, Start: marketdata.WindowStart(p.Timestamp)}] = true
						}
					}
					mu.Unlock()
					w := dynamobatch.New(e.db, e.table, []string{marketdata.AttrSymbol, marketdata.AttrTimestamp})
					if res := w.Put(e.ctx, items); len(res.Failures) > 0 {
						return res.Failures[0].Err
					}
					out, err := e.h.Invoke(e.ctx, windowsEvent(slices.Collect(maps.Keys(refs))...))
					if err != nil {
						return err
					}
					res := out.(handler.Result)
					mu.Lock()
					read += res.ItemsRead
					mu.Unlock()
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			// Every window ends complete (the last recomputation of each saw
			// all its partials).
			for w := range c.windows {
				a, ok := e.stored(c.symbol, base-int64(w)*300_000)
				if !ok || a.Trades != int64(c.points) {
					t.Fatalf("window %d: %+v, want %d trades", w, a, c.points)
				}
				aggregated += a.Trades
			}
			amp := float64(read) / float64(len(pts))
			t.Logf("%s: %d points stored in %d batches, %d items read by the aggregator: read amplification %.4f", c.name, len(pts), len(batches), read, amp)
			if aggregated != int64(len(pts)) || amp > 1.1 {
				t.Errorf("read amplification %.4f (goal <= 1.1), %d of %d points aggregated", amp, aggregated, len(pts))
			}
		})
	}
}
