package smoke

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

func TestNewRunIDMakesValidDistinctSymbols(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		id, err := NewRunID()
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("run id %s drawn twice", id)
		}
		seen[id] = true
		p, err := NewPlan(id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if p.FileSymbol == p.APISymbol || !strings.HasPrefix(p.FileSymbol, SymbolPrefix) || !strings.HasPrefix(p.Key, KeyPrefix+id+"/") {
			t.Fatalf("plan of %s: symbols %s and %s, key %s", id, p.FileSymbol, p.APISymbol, p.Key)
		}
	}
	if _, err := NewPlan("short", time.Now()); err == nil {
		t.Error("a run id of the wrong length was accepted")
	}
	if _, err := NewPlan("abcdefgh", time.Now()); err == nil {
		t.Error("a run id making a lower-case symbol was accepted")
	}
}

func TestPlanTradesAreAcceptedAndPredictable(t *testing.T) {
	now := time.Date(2026, 11, 30, 7, 3, 12, 0, time.UTC)
	p, err := NewPlan("AB12CD34", now)
	if err != nil {
		t.Fatal(err)
	}
	win := limits.AggregationWindow.Milliseconds()
	if p.To-p.From != 2*win || p.From%win != 0 {
		t.Fatalf("windows [%d, %d): want two whole windows", p.From, p.To)
	}
	if closed := now.Add(-5 * time.Minute).UnixMilli(); p.To > closed {
		t.Errorf("the last window ends %s, less than 5 minutes before now %s: it may still be open", time.UnixMilli(p.To).UTC(), now)
	}
	if p.From < now.Add(-time.Hour).UnixMilli() {
		t.Errorf("the windows start %s, more than an hour before now", time.UnixMilli(p.From).UTC())
	}
	for _, set := range []struct {
		symbol string
		pts    []marketdata.Point
	}{{p.FileSymbol, p.FileTrades}, {p.APISymbol, p.APITrades}} {
		ts := map[int64]bool{}
		for _, pt := range set.pts {
			if err := pt.Validate(now); err != nil {
				t.Errorf("%+v is refused: %v", pt, err)
			}
			if pt.Symbol != set.symbol || pt.Timestamp < p.From || pt.Timestamp >= p.To {
				t.Errorf("%+v: want symbol %s in [%d, %d)", pt, set.symbol, p.From, p.To)
			}
			if ts[pt.Timestamp] {
				t.Errorf("%s has two trades at %d: open and close would depend on the aggregator's tie-break", set.symbol, pt.Timestamp)
			}
			ts[pt.Timestamp] = true
		}
		got := ExpectedWindows(set.pts)
		if len(got) != 2 {
			t.Fatalf("%s trades in %d windows, want 2", set.symbol, len(got))
		}
		// The VWAP must not depend on the order of the sums: it is the
		// exact quotient (big.Rat) rounded once.
		for w, a := range got {
			pv, vol := new(big.Rat), new(big.Rat)
			for _, pt := range set.pts {
				if marketdata.WindowStart(pt.Timestamp) != w {
					continue
				}
				pr := new(big.Rat).SetFloat64(pt.Price)
				v, _ := new(big.Rat).SetString(pt.Volume.String())
				pv.Add(pv, new(big.Rat).Mul(pr, v))
				vol.Add(vol, v)
			}
			exact, _ := new(big.Rat).Quo(pv, vol).Float64()
			if exact != a.VWAP {
				t.Errorf("%s window %d: float VWAP %v, exact %v: the comparison could not be exact", set.symbol, w, a.VWAP, exact)
			}
			if a.Open == a.Close || a.High == a.Open || a.Low == a.Close {
				t.Errorf("%s window %d: %+v: open, high, low and close should differ so that each is checked", set.symbol, w, a)
			}
		}
	}
}

func TestPlanBodies(t *testing.T) {
	p, err := NewPlan("ZZ99ZZ99", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(p.CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(p.FileTrades)+BadFileRows {
		t.Fatalf("%d CSV rows, want a header, %d trades and %d bad", len(rows), len(p.FileTrades), BadFileRows)
	}
	var body struct{ Points []marketdata.Point }
	if err := json.Unmarshal(p.IngestBody(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Points) != len(p.APITrades)+BadAPIRecords {
		t.Fatalf("%d records in the ingest body, want %d + %d bad", len(body.Points), len(p.APITrades), BadAPIRecords)
	}
	bad := 0
	for _, pt := range body.Points {
		if pt.Validate(time.Now()) != nil {
			bad++
		}
	}
	if bad != BadAPIRecords {
		t.Errorf("%d invalid records in the ingest body, want %d", bad, BadAPIRecords)
	}
}

func TestTargetLayersAreStackLayers(t *testing.T) {
	known := map[string]bool{}
	for _, l := range naming.Layers {
		known[l] = true
	}
	for _, o := range targetOutputs {
		if !known[o.layer] {
			t.Errorf("output %s is read from layer %q, not one of %v", o.key, o.layer, naming.Layers)
		}
	}
}
