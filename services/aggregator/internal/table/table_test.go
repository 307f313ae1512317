package table

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

const (
	tableName       = "MarketDataState-test"
	w1430     int64 = 1709649000000
)

type item = map[string]types.AttributeValue

// fakeDB serves scripted Query pages in order and checks that each call
// continues from the previous page's LastEvaluatedKey.
type fakeDB struct {
	t        *testing.T
	pages    [][]item
	queries  []*dynamodb.QueryInput
	queryErr error

	getItem item
	getErr  error
	gets    []*dynamodb.GetItemInput

	puts   []*dynamodb.PutItemInput
	putErr error

	// bars are the raw bar items (marketdata.BarKey) a Query of them
	// returns, in one page; barQueries are those queries.
	bars       []item
	barQueries []*dynamodb.QueryInput
}

func (f *fakeDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if h, ok := in.ExpressionAttributeValues[":h"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(h.Value, marketdata.BarPrefix) {
		f.barQueries = append(f.barQueries, in)
		return &dynamodb.QueryOutput{Items: f.bars, Count: int32(len(f.bars))}, f.queryErr
	}
	i := len(f.queries)
	f.queries = append(f.queries, in)
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	if i >= len(f.pages) {
		f.t.Fatalf("query %d: no more pages scripted", i)
	}
	if i == 0 && in.ExclusiveStartKey != nil {
		f.t.Errorf("first query has ExclusiveStartKey %v", in.ExclusiveStartKey)
	}
	if i > 0 && !reflect.DeepEqual(in.ExclusiveStartKey, lastKey(f.pages[i-1])) {
		f.t.Errorf("query %d ExclusiveStartKey %v, want the previous LastEvaluatedKey", i, in.ExclusiveStartKey)
	}
	out := &dynamodb.QueryOutput{Items: f.pages[i], Count: int32(len(f.pages[i]))}
	if i < len(f.pages)-1 {
		out.LastEvaluatedKey = lastKey(f.pages[i])
	}
	return out, nil
}

// lastKey is the key of a page's last item, or a synthetic one for an empty
// page (DynamoDB can return an empty page with a LastEvaluatedKey).
func lastKey(page []item) item {
	if len(page) == 0 {
		return item{"symbol": &types.AttributeValueMemberS{Value: "X"}, "timestamp": &types.AttributeValueMemberN{Value: "0"}}
	}
	last := page[len(page)-1]
	return item{"symbol": &types.AttributeValueMemberS{Value: "AAPL"}, "timestamp": last["timestamp"]}
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets = append(f.gets, in)
	if f.getErr != nil {
		return nil, f.getErr
	}
	return &dynamodb.GetItemOutput{Item: f.getItem}, nil
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	return &dynamodb.PutItemOutput{}, f.putErr
}

func nv(s string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: s} }
func sv(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

// raw is a projected raw point item as the Query returns it.
func raw(key, price, volume string) item {
	return item{marketdata.AttrTimestamp: nv(key), marketdata.AttrPrice: nv(price), marketdata.AttrVolume: nv(volume)}
}

func withConditions(it item, c string) item {
	it[marketdata.AttrConditions] = sv(c)
	return it
}

func TestRawWindowSummaryPaginates(t *testing.T) {
	// Three pages (one empty, as DynamoDB may return), in range-key order;
	// the two points at +1000 ms straddle a page boundary.
	db := &fakeDB{t: t, pages: [][]item{
		{raw("1709649001000.25", "187.2", "50")},
		{},
		// An odd lot (condition 37): in the trades and volume, not the high.
		{raw("1709649001000.5", "187.1", "100"), withConditions(raw("1709649060000.1", "187.5", "0"), "37")},
		{raw("1709649120000.7", "186.9", "200"), raw("1709649299999.3", "187", "150")},
	}}
	tb := &Table{DB: db, Name: tableName, PageLimit: 2}
	sum, read, ok, err := tb.RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok || read != 5 {
		t.Fatalf("RawWindowSummary: %v, %d read, %v", ok, read, err)
	}
	want := ohlcv.Summary{Open: 187.2, High: 187.2, Low: 186.9, Close: 187, Volume: "500", VWAP: 187,
		Trades: 5, Excluded: 1, FirstMillis: 1709649001000, LastMillis: 1709649299999}
	if math.Abs(sum.VWAP-want.VWAP) > 1e-9 {
		t.Errorf("VWAP %v, want %v", sum.VWAP, want.VWAP)
	}
	sum.VWAP, want.VWAP = 0, 0
	sum.PV, sum.Prices = "", ""
	if sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	if len(db.queries) != 4 {
		t.Fatalf("%d queries, want 4 (one per page)", len(db.queries))
	}

	in := db.queries[0]
	lo, hi := marketdata.MillisRange(w1430, w1430+300_000)
	if hi != "1709649299999.999999999999999999" || lo != "1709649000000" {
		t.Fatalf("MillisRange changed: %s %s", lo, hi)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"table", aws.ToString(in.TableName), tableName},
		{"key condition", aws.ToString(in.KeyConditionExpression), "#h = :h AND #r BETWEEN :lo AND :hi"},
		{"projection", aws.ToString(in.ProjectionExpression), "#r, #p, #v, #c"},
		{"names", in.ExpressionAttributeNames, map[string]string{"#h": "symbol", "#r": "timestamp", "#p": "price", "#v": "volume", "#c": "conditions"}},
		{"values", in.ExpressionAttributeValues, map[string]types.AttributeValue{":h": sv("AAPL"), ":lo": nv(lo), ":hi": nv(hi)}},
		{"consistent read", aws.ToBool(in.ConsistentRead), true},
		{"limit", aws.ToInt32(in.Limit), int32(2)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

func TestRawWindowSummaryEmpty(t *testing.T) {
	db := &fakeDB{t: t, pages: [][]item{{}}}
	_, _, ok, err := (&Table{DB: db, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || ok {
		t.Fatalf("got ok=%v err=%v, want an empty window", ok, err)
	}
	if db.queries[0].Limit != nil {
		t.Error("Limit set without PageLimit")
	}
}

func TestRawWindowSummaryBadItems(t *testing.T) {
	tests := []struct {
		name string
		item item
		want string
	}{
		{"no price", item{"timestamp": nv("1709649001000.5"), "volume": nv("1")}, `"price" missing`},
		{"price as string", item{"timestamp": nv("1709649001000.5"), "price": sv("1"), "volume": nv("1")}, `"price" missing or not a number`},
		{"zero price", raw("1709649001000.5", "0", "1"), "not a finite number > 0"},
		{"volume with 19 fraction digits", raw("1709649001000.5", "1", "0.0000000000000000001"), "more than 18 fraction digits"},
		{"negative volume", raw("1709649001000.5", "1", "-1"), "negative"},
		{"volume not a number", raw("1709649001000.5", "1", "1e"), "not a decimal number"},
		{"no volume", item{"timestamp": nv("1709649001000.5"), "price": nv("1")}, `"volume" missing`},
		{"no key", item{"price": nv("1"), "volume": nv("1")}, `"timestamp" missing`},
		{"unknown condition", withConditions(raw("1709649001000.5", "1", "1"), "6"), `unknown Polygon condition id "6"`},
		{"conditions as a number", item{"timestamp": nv("1709649001000.5"), "price": nv("1"), "volume": nv("1"), "conditions": nv("2")}, `"conditions" is not a string`},
		{"key with 19 fraction digits", raw("1709649001000.1234567890123456789", "1", "1"), "invalid range key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{t: t, pages: [][]item{{raw("1709649000001.1", "5", "5"), tt.item}}}
			_, _, _, err := (&Table{DB: db, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRawWindowSummaryQueryError(t *testing.T) {
	boom := errors.New("throttled")
	db := &fakeDB{t: t, queryErr: boom}
	if _, _, _, err := (&Table{DB: db, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the query error", err)
	}
}

var sample = marketdata.Aggregate{Symbol: "BRK.B", WindowStart: w1430, WindowEnd: w1430 + 300_000,
	Open: 410.5, High: 411.25, Low: 409.75, Close: 410, Volume: "1234", VWAP: 410.3317666126418, Trades: 17,
	FirstTs: w1430 + 12, LastTs: w1430 + 299_000, UpdatedAt: 1709649432000}

func TestPutAggregate(t *testing.T) {
	db := &fakeDB{t: t}
	wrote, err := (&Table{DB: db, Name: tableName}).PutAggregate(context.Background(), sample)
	if err != nil || !wrote {
		t.Fatalf("PutAggregate: %v %v", wrote, err)
	}
	in := db.puts[0]
	want := item{
		"symbol": sv("AGG5M#BRK.B"), "timestamp": nv("1709649000000"), "windowEnd": nv("1709649300000"),
		"open": nv("410.5"), "high": nv("411.25"), "low": nv("409.75"), "close": nv("410"),
		"volume": nv("1234"), "vwap": nv("410.3317666126418"), "trades": nv("17"),
		"firstTimestamp": nv("1709649000012"), "lastTimestamp": nv("1709649299000"), "updatedAt": nv("1709649432000"),
	}
	if !reflect.DeepEqual(in.Item, want) {
		t.Errorf("item\n got %v\nwant %v", in.Item, want)
	}
	if got := aws.ToString(in.ConditionExpression); got != "attribute_not_exists(#h) OR #n <= :n" {
		t.Errorf("condition %q", got)
	}
	if !reflect.DeepEqual(in.ExpressionAttributeNames, map[string]string{"#h": "symbol", "#n": "trades"}) ||
		!reflect.DeepEqual(in.ExpressionAttributeValues, item{":n": nv("17")}) {
		t.Errorf("condition names %v values %v", in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	}

	back, err := ParseAggregateItem(in.Item)
	if err != nil || back != sample {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestPutAggregateOutcomes(t *testing.T) {
	boom := errors.New("internal server error")
	tests := []struct {
		name    string
		err     error
		wrote   bool
		wantErr error
	}{
		{"written", nil, true, nil},
		{"guard refused", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}, false, nil},
		{"failed", boom, false, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{t: t, putErr: tt.err}
			wrote, err := (&Table{DB: db, Name: tableName}).PutAggregate(context.Background(), sample)
			if wrote != tt.wrote || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got %v, %v; want %v, %v", wrote, err, tt.wrote, tt.wantErr)
			}
		})
	}
}

func TestParseAggregateItemErrors(t *testing.T) {
	good := mustItem(t, sample)
	tests := []struct {
		name   string
		mutate func(item)
	}{
		{"raw point hash", func(i item) { i["symbol"] = sv("BRK.B") }},
		{"missing vwap", func(i item) { delete(i, "vwap") }},
		{"bad trades", func(i item) { i["trades"] = nv("1.5") }},
		{"string open", func(i item) { i["open"] = sv("1") }},
		{"missing window end", func(i item) { delete(i, "windowEnd") }},
		{"missing hash key", func(i item) { delete(i, "symbol") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := item{}
			for k, v := range good {
				i[k] = v
			}
			tt.mutate(i)
			if _, err := ParseAggregateItem(i); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func mustItem(t *testing.T, a marketdata.Aggregate) item {
	t.Helper()
	it, err := AggregateItem(a)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestAggregateRoundTrip: what PutAggregate writes is what Aggregates and
// the write guard read, through the real expressions, for aggregates at the
// edges of what the table stores.
func TestAggregateRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		a    marketdata.Aggregate
	}{
		{"typical", sample},
		{"symbol with dash", marketdata.Aggregate{Symbol: "BTC-USD", WindowStart: 0, WindowEnd: 300_000, Open: 65000.5, High: 65001,
			Low: 64999.25, Close: 65000, Volume: "0", VWAP: 65000.1, Trades: 1, FirstTs: 1, LastTs: 299_999, UpdatedAt: 1}},
		{"extremes", marketdata.Aggregate{Symbol: "X", WindowStart: w1430, WindowEnd: w1430 + 300_000, Open: 1e-12, High: 1e15,
			Low: 1e-12, Close: 0.1 + 0.2, Volume: "123456789012345678901234.000000000000000001", VWAP: 1.0 / 3, Trades: math.MaxInt32, FirstTs: w1430, LastTs: w1430 + 299_999,
			UpdatedAt: math.MaxInt64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &fakeDB{t: t}
			if _, err := (&Table{DB: w, Name: tableName}).PutAggregate(context.Background(), tc.a); err != nil {
				t.Fatal(err)
			}
			put := w.puts[0]
			written := put.Item
			// The guard compares the written trade count.
			if got, want := written[put.ExpressionAttributeNames["#n"]], put.ExpressionAttributeValues[":n"]; !reflect.DeepEqual(got, want) {
				t.Errorf("guard attribute %v, written %v", want, got)
			}
			r := &fakeDB{t: t, pages: [][]item{{written}}}
			got, err := (&Table{DB: r, Name: tableName}).Aggregates(context.Background(), tc.a.Symbol, tc.a.WindowStart, tc.a.WindowStart)
			if err != nil {
				t.Fatal(err)
			}
			// The reader's key condition selects the written item.
			q := r.queries[0]
			if !reflect.DeepEqual(written[q.ExpressionAttributeNames["#h"]], q.ExpressionAttributeValues[":h"]) ||
				!reflect.DeepEqual(written[q.ExpressionAttributeNames["#r"]], q.ExpressionAttributeValues[":lo"]) {
				t.Errorf("query %v %v does not select item %v", q.ExpressionAttributeNames, q.ExpressionAttributeValues, written)
			}
			if len(got) != 1 || got[0] != tc.a {
				t.Errorf("read back %+v, want %+v", got, tc.a)
			}
		})
	}
}

func TestActiveWindows(t *testing.T) {
	ss := func(v ...string) *types.AttributeValueMemberSS { return &types.AttributeValueMemberSS{Value: v} }
	db := &fakeDB{t: t, pages: [][]item{
		{{"timestamp": nv("1709648700000"), "symbols": ss("MSFT", "AAPL")}},
		{{"timestamp": nv("1709649000000"), "symbols": ss("BTC-USD")}, {"timestamp": nv("1709649000000")}},
	}}
	refs, err := (&Table{DB: db, Name: tableName}).ActiveWindows(context.Background(), 1709648700000, 1709649000000)
	if err != nil {
		t.Fatal(err)
	}
	want := []marketdata.WindowRef{{Symbol: "AAPL", Start: 1709648700000}, {Symbol: "MSFT", Start: 1709648700000}, {Symbol: "BTC-USD", Start: 1709649000000}}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("refs %v, want %v", refs, want)
	}
	in := db.queries[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"key condition", aws.ToString(in.KeyConditionExpression), "#h = :h AND #r BETWEEN :lo AND :hi"},
		{"values", in.ExpressionAttributeValues, map[string]types.AttributeValue{":h": sv(marketdata.ActiveWindows), ":lo": nv("1709648700000"), ":hi": nv("1709649000000")}},
		{"projection", aws.ToString(in.ProjectionExpression), "#r, #s"},
		{"names", in.ExpressionAttributeNames, map[string]string{"#h": "symbol", "#r": "timestamp", "#s": "symbols"}},
		{"consistent read", aws.ToBool(in.ConsistentRead), true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

func TestAggregates(t *testing.T) {
	a1, a2 := sample, sample
	a2.WindowStart, a2.WindowEnd = sample.WindowEnd, sample.WindowEnd+300_000
	db := &fakeDB{t: t, pages: [][]item{{mustItem(t, a1)}, {mustItem(t, a2)}}}
	got, err := (&Table{DB: db, Name: tableName}).Aggregates(context.Background(), "BRK.B", 1709648700000, 1709649599999)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []marketdata.Aggregate{a1, a2}) {
		t.Errorf("aggregates %+v", got)
	}
	if v := db.queries[0].ExpressionAttributeValues; !reflect.DeepEqual(v, item{":h": sv("AGG5M#BRK.B"), ":lo": nv("1709648700000"), ":hi": nv("1709649599999")}) {
		t.Errorf("values %v", v)
	}

	empty := &fakeDB{t: t, pages: [][]item{{}}}
	got, err = (&Table{DB: empty, Name: tableName}).Aggregates(context.Background(), "BRK.B", 0, 1)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("no aggregates: %v, %v; want an empty, non-nil slice", got, err)
	}
}

func TestSymbolKnown(t *testing.T) {
	boom := errors.New("throttled")
	tests := []struct {
		name      string
		state     item
		aggPage   []item
		getErr    error
		queryErr  error
		want      bool
		wantQuery bool
		wantErr   bool
	}{
		{name: "latest state", state: item{"symbol": sv("STATE#AAPL")}, want: true},
		{name: "aggregates only", aggPage: []item{{"symbol": sv("AGG5M#AAPL")}}, want: true, wantQuery: true},
		{name: "unknown", aggPage: []item{}, want: false, wantQuery: true},
		{name: "get fails", getErr: boom, wantErr: true},
		{name: "query fails", queryErr: boom, wantQuery: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{t: t, getItem: tt.state, getErr: tt.getErr, queryErr: tt.queryErr, pages: [][]item{tt.aggPage}}
			got, err := (&Table{DB: db, Name: tableName}).SymbolKnown(context.Background(), "AAPL")
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
			if k := db.gets[0].Key; !reflect.DeepEqual(k, item{"symbol": sv("STATE#AAPL"), "timestamp": nv("0")}) {
				t.Errorf("state key %v", k)
			}
			if (len(db.queries) > 0) != tt.wantQuery {
				t.Errorf("%d queries, want query=%v", len(db.queries), tt.wantQuery)
			}
			if len(db.queries) > 0 {
				q := db.queries[0]
				if aws.ToInt32(q.Limit) != 1 || !reflect.DeepEqual(q.ExpressionAttributeValues, item{":h": sv("AGG5M#AAPL")}) {
					t.Errorf("aggregate probe %+v", q)
				}
			}
		})
	}
}

// TestDecodeMatchesSortKey checks the decoder against keys made by the
// shared AppendSortKey, as the processor writes them.
func TestDecodeMatchesSortKey(t *testing.T) {
	p := marketdata.Point{Symbol: "AAPL", Timestamp: 1709649001000, Price: 187.25, Volume: "42"}
	key := string(marketdata.AppendSortKey(nil, p, "s3://bucket/key#v1", 7))
	tick, err := decodeTick(raw(key, strconv.FormatFloat(p.Price, 'f', -1, 64), "42"))
	if err != nil {
		t.Fatal(err)
	}
	_, disc, _ := marketdata.ParseSortKey(key)
	if tick != (ohlcv.Tick{Millis: p.Timestamp, Disc: disc, Price: 187.25, Volume: "42"}) || disc == 0 {
		t.Errorf("tick %+v", tick)
	}
}

// partialItem is the item of the partial of points (key, price, volume)
// as the processor writes it (through the shared item type).
func partialItem(t *testing.T, rng string, pts ...[3]string) item {
	t.Helper()
	var p marketdata.Partial
	for _, pt := range pts {
		ms, disc, err := marketdata.ParseSortKey(pt[0])
		if err != nil {
			t.Fatal(err)
		}
		price, _ := strconv.ParseFloat(pt[1], 64)
		text, why := marketdata.ExactPrice(pt[1], price)
		vol, err := marketdata.ParseDecimal(pt[2])
		if err != nil || why != "" {
			t.Fatal(err, why)
		}
		p.AddExact(ms, disc, price, text, vol, conditions.All)
	}
	return ddbitem.EncodePartial(p.Item("AAPL", rng, 1)) // as the processor writes it
}

// Prices of more digits than a float64 keeps go from the raw points and
// from the partials to the same summary, their exact texts kept (high and
// low by exact comparison of float ties), and into the aggregate item as
// those numbers.
func TestExactPricesSummaryAndItem(t *testing.T) {
	const hi, lo = "187.100000000000000000000000001", "186.9999999999999999999999"
	pts := [][3]string{{"1709649001000.5", hi, "100"}, {"1709649060000.1", "187.1", "1"}, {"1709649120000.7", lo, "200"}, {"1709649299999.3", "187", "150"}}
	db := &fakeDB{t: t, pages: [][]item{{partialItem(t, "1709649000000.7", pts[0], pts[3]), partialItem(t, "1709649000000.2", pts[1], pts[2])}}}
	sum, _, _, err := (&Table{DB: db, Name: tableName}).WindowSummary(context.Background(), "AAPL", w1430)
	if err != nil {
		t.Fatal(err)
	}
	var raws []item
	for _, p := range pts {
		raws = append(raws, raw(p[0], p[1], p[2]))
	}
	want, _, _, err := (&Table{DB: &fakeDB{t: t, pages: [][]item{raws}}, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil {
		t.Fatal(err)
	}
	if sum != want || sum.OpenText != hi || sum.HighText != hi || sum.LowText != lo || sum.CloseText != "" || sum.Close != 187 {
		t.Fatalf("from partials %+v\nfrom raw %+v", sum, want)
	}
	a := marketdata.Aggregate{Symbol: "AAPL", WindowStart: w1430, WindowEnd: w1430 + 300_000, Open: sum.Open, OpenText: sum.OpenText,
		High: sum.High, HighText: sum.HighText, Low: sum.Low, LowText: sum.LowText, Close: sum.Close, Volume: sum.Volume, VWAP: sum.VWAP, Trades: sum.Trades}
	it, err := AggregateItem(a)
	if err != nil {
		t.Fatal(err)
	}
	if it[marketdata.AttrOpen].(*types.AttributeValueMemberN).Value != hi || it[marketdata.AttrLow].(*types.AttributeValueMemberN).Value != lo {
		t.Fatalf("aggregate item %v", it)
	}
	if back, err := ParseAggregateItem(it); err != nil || back != a {
		t.Fatalf("read back %+v, %v; want %+v", back, err, a)
	}
}

// WindowSummary merges the window's partials, page by page, into what the
// raw points give (TestRawWindowSummaryPaginates' points, in three partials).
func TestWindowSummaryMergesPartials(t *testing.T) {
	db := &fakeDB{t: t, pages: [][]item{
		{partialItem(t, "1709649000000.7", [3]string{"1709649001000.5", "187.1", "100"}, [3]string{"1709649299999.3", "187", "150"})},
		{},
		{partialItem(t, "1709649000000.2", [3]string{"1709649001000.25", "187.2", "50"}),
			partialItem(t, "1709649000000.9", [3]string{"1709649060000.1", "187.5", "0"}, [3]string{"1709649120000.7", "186.9", "200"})},
	}}
	sum, read, ok, err := (&Table{DB: db, Name: tableName, PageLimit: 2}).WindowSummary(context.Background(), "AAPL", w1430)
	if err != nil || !ok || read != 3 {
		t.Fatalf("WindowSummary: %v, %d read, %v", ok, read, err)
	}
	rawDB := &fakeDB{t: t, pages: [][]item{{
		raw("1709649001000.25", "187.2", "50"), raw("1709649001000.5", "187.1", "100"), raw("1709649060000.1", "187.5", "0"),
		raw("1709649120000.7", "186.9", "200"), raw("1709649299999.3", "187", "150"),
	}}}
	want, _, _, err := (&Table{DB: rawDB, Name: tableName}).RawWindowSummary(context.Background(), "AAPL", w1430)
	if err != nil {
		t.Fatal(err)
	}
	if sum != want || sum.Open != 187.2 || sum.Close != 187 || sum.Trades != 5 {
		t.Fatalf("from partials %+v, from raw %+v", sum, want)
	}
	in := db.queries[0]
	lo, hi := marketdata.PartialRange(w1430)
	if got := in.ExpressionAttributeValues; !reflect.DeepEqual(got, map[string]types.AttributeValue{":h": sv(marketdata.PartialKey("AAPL")), ":lo": nv(lo), ":hi": nv(hi)}) {
		t.Errorf("values %#v", got)
	}
	if !aws.ToBool(in.ConsistentRead) || in.ProjectionExpression != nil {
		t.Errorf("consistent %v, projection %v", aws.ToBool(in.ConsistentRead), aws.ToString(in.ProjectionExpression))
	}
}

func TestWindowSummaryBadPartials(t *testing.T) {
	good := partialItem(t, "1709649000000.7", [3]string{"1709649001000.5", "187.1", "100"}, [3]string{"1709649299999.3", "187", "150"})
	without := func(name string) item {
		it := item{}
		for k, v := range good {
			if k != name {
				it[k] = v
			}
		}
		return it
	}
	with := func(name string, v types.AttributeValue) item {
		it := without(name)
		it[name] = v
		return it
	}
	for name, bad := range map[string]item{
		"no trades":   without(marketdata.AttrTrades),
		"no open key": without(marketdata.AttrOpenKey),
		"bad sum":     with(marketdata.AttrSumPV, sv("x")),
		"bad volume":  with(marketdata.AttrSumVol, sv("1.5")),
	} {
		t.Run(name, func(t *testing.T) {
			db := &fakeDB{t: t, pages: [][]item{{good, bad}}}
			if _, _, _, err := (&Table{DB: db, Name: tableName}).WindowSummary(context.Background(), "AAPL", w1430); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// ReplaceAggregate (the from-raw repair) writes the same item as
// PutAggregate, without its guard.
func TestReplaceAggregate(t *testing.T) {
	db := &fakeDB{t: t}
	tb := &Table{DB: db, Name: tableName}
	if err := tb.ReplaceAggregate(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.PutAggregate(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if len(db.puts) != 2 || db.puts[0].ConditionExpression != nil || db.puts[1].ConditionExpression == nil ||
		!reflect.DeepEqual(db.puts[0].Item, db.puts[1].Item) {
		t.Fatalf("puts %+v", db.puts)
	}
	db.putErr = errors.New("throttled")
	if err := tb.ReplaceAggregate(context.Background(), sample); !errors.Is(err, db.putErr) {
		t.Fatalf("err %v", err)
	}
}
