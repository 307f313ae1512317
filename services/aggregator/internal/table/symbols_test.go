package table

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// batchGets scripts fakeDB's BatchGetItem answers, in order.
var batchGets = map[*fakeDB][]*dynamodb.BatchGetItemOutput{}

func (f *fakeDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	outs := batchGets[f]
	if len(outs) == 0 {
		f.t.Fatalf("BatchGetItem %v: no answer scripted", in.RequestItems)
	}
	batchGets[f] = outs[1:]
	return outs[0], nil
}

func indexItem(t *testing.T, sym string) item {
	k, err := marketdata.SymbolIndexKey(sym)
	if err != nil {
		t.Fatal(err)
	}
	return item{marketdata.AttrSymbol: sv(marketdata.SymbolsIndex), marketdata.AttrTimestamp: nv(k), marketdata.AttrIndexedSymbol: sv(sym),
		marketdata.AttrExpiresAt: nv("1712241000")}
}

// startDB records the first Query's ExclusiveStartKey (fakeDB's pages start
// with none).
type startDB struct {
	*fakeDB
	start item
}

func (s *startDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c := *in
	s.start, c.ExclusiveStartKey = in.ExclusiveStartKey, nil
	return s.fakeDB.Query(ctx, &c, opts...)
}

func stateItem(sym, price, ms string) item {
	return item{marketdata.AttrSymbol: sv(marketdata.StateKey(sym)), marketdata.AttrTimestamp: nv(marketdata.StateSortKey),
		marketdata.AttrLastKey: nv(ms + ".1"), marketdata.AttrLastPrice: nv(price), marketdata.AttrLastMillis: nv(ms),
		marketdata.AttrPointCount: nv("3"), marketdata.AttrUpdatedAt: nv("1709649000001"), marketdata.AttrExpiresAt: nv("1712241000")}
}

func TestSymbolsPageRetriesUnprocessedKeys(t *testing.T) {
	db := &fakeDB{t: t, pages: [][]item{{indexItem(t, "AAPL"), indexItem(t, "BRK.B"), indexItem(t, "MSFT")}}}
	batchGets[db] = []*dynamodb.BatchGetItemOutput{
		{Responses: map[string][]item{tableName: {stateItem("AAPL", "189.5", "1709649000000")}},
			UnprocessedKeys: map[string]types.KeysAndAttributes{tableName: {Keys: []item{{marketdata.AttrSymbol: sv("STATE#BRK.B")}}}}},
		{}, // BRK.B's state expired: nothing
	}
	var slept int
	tb := &Table{DB: db, Name: tableName, Backoff: backoff.Policy{Sleep: func(context.Context, time.Duration) error { slept++; return nil }}}
	page, next, err := tb.Symbols(context.Background(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []marketdata.Latest{{Symbol: "AAPL", Price: 189.5, Timestamp: 1709649000000, UpdatedAt: 1709649000001}, {Symbol: "BRK.B"}}
	if !reflect.DeepEqual(page, want) || next != "BRK.B" || slept != 1 {
		t.Errorf("page %+v next %q (slept %d); want %+v next BRK.B after one backoff", page, next, slept, want)
	}
	if got := *db.queries[0].Limit; got != 3 {
		t.Errorf("index read with Limit %d, want the page and one more", got)
	}
}

func TestSymbolsLastPageAndErrors(t *testing.T) {
	db := &fakeDB{t: t, pages: [][]item{{indexItem(t, "MSFT")}}}
	batchGets[db] = []*dynamodb.BatchGetItemOutput{{Responses: map[string][]item{tableName: {stateItem("MSFT", "410", "1709649000000")}}}}
	sdb := &startDB{fakeDB: db}
	tb := &Table{DB: sdb, Name: tableName}
	page, next, err := tb.Symbols(context.Background(), "BRK.B", 2)
	if err != nil || len(page) != 1 || next != "" {
		t.Fatalf("page %+v next %q err %v; want MSFT alone and no next", page, next, err)
	}
	k, _ := marketdata.SymbolIndexKey("BRK.B")
	if got := sdb.start[marketdata.AttrTimestamp]; !reflect.DeepEqual(got, nv(k)) {
		t.Errorf("started after %v, want BRK.B's index key %s", got, k)
	}
	for _, tc := range []struct {
		after string
		limit int
	}{{"", 0}, {"", 101}, {"brk", 10}} {
		if _, _, err := tb.Symbols(context.Background(), tc.after, tc.limit); err == nil {
			t.Errorf("Symbols(%q, %d) accepted", tc.after, tc.limit)
		}
	}
	bad := &fakeDB{t: t, pages: [][]item{{{marketdata.AttrIndexedSymbol: sv("not a symbol")}}}}
	if _, _, err := (&Table{DB: bad, Name: tableName}).Symbols(context.Background(), "", 5); err == nil {
		t.Error("an index item naming an invalid symbol was listed")
	}
}

func TestLatest(t *testing.T) {
	db := &fakeDB{t: t, getItem: stateItem("AAPL", "189.5", "1709649000000")}
	l, ok, err := (&Table{DB: db, Name: tableName}).Latest(context.Background(), "AAPL")
	if err != nil || !ok || l.Price != 189.5 || l.Timestamp != 1709649000000 || l.Symbol != "AAPL" {
		t.Errorf("Latest = %+v, %v, %v", l, ok, err)
	}
	if k := db.gets[0].Key[marketdata.AttrSymbol]; !reflect.DeepEqual(k, sv("STATE#AAPL")) {
		t.Errorf("read key %v", k)
	}
	db = &fakeDB{t: t}
	if _, ok, err := (&Table{DB: db, Name: tableName}).Latest(context.Background(), "ZZZ"); ok || err != nil {
		t.Errorf("no state: ok %v err %v", ok, err)
	}
	db = &fakeDB{t: t, getErr: errors.New("throttled")}
	if _, _, err := (&Table{DB: db, Name: tableName}).Latest(context.Background(), "ZZZ"); err == nil {
		t.Error("a failed GetItem is not an error")
	}
}
