package tradegen

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func TestDayIsValidRealisticAndDeterministic(t *testing.T) {
	open := SessionOpen(time.Now())
	rows := Day(7, open, 20000, 3000)
	if len(rows) < 20000 {
		t.Fatalf("%d rows, want at least 20000", len(rows))
	}
	var bad, sameMs int
	symbols := map[string]bool{}
	var last int64
	for i, r := range rows {
		if r.Bad {
			bad++
			var p marketdata.Point
			if json.Unmarshal([]byte(r.BadJSON), &p) == nil && p.Validate(time.Now()) == nil {
				t.Errorf("bad row %d (%s) is valid: %s", i, r.Why, r.BadJSON)
			}
			continue
		}
		if err := r.Point.Validate(time.Now()); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if r.Point.Timestamp < open.UnixMilli() || r.Point.Timestamp >= open.Add(390*time.Minute).UnixMilli() {
			t.Fatalf("row %d outside the session: %d", i, r.Point.Timestamp)
		}
		if r.Point.Timestamp == last {
			sameMs++
		}
		last = r.Point.Timestamp
		symbols[r.Point.Symbol] = true
		var back marketdata.Point
		if err := json.Unmarshal([]byte(r.JSON()), &back); err != nil || back != r.Point {
			t.Fatalf("row %d: JSON %s does not round-trip (%v)", i, r.JSON(), err)
		}
		if f := strings.Split(r.CSV(), ","); len(f) != 7 || f[0] != r.Point.Symbol {
			t.Fatalf("row %d: CSV %q", i, r.CSV())
		}
	}
	if bad < 6 || len(symbols) < 5 || sameMs < 100 {
		t.Fatalf("%d bad rows, %d symbols, %d trades sharing a millisecond with the previous one", bad, len(symbols), sameMs)
	}
	again := Day(7, open, 20000, 3000)
	if len(again) != len(rows) || again[123].CSV() != rows[123].CSV() {
		t.Fatal("the same seed gave another day")
	}
}
