package marketdata

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// Validate's limit on future timestamps, computed in integer milliseconds,
// is now.Add(limits.MaxFutureSkew) to the millisecond for any now (sub-
// millisecond parts and times before 1970 included): a point at the limit
// is valid, one a millisecond after it is not.
func TestFutureLimitExact(t *testing.T) {
	if limits.MaxFutureSkew%time.Millisecond != 0 {
		t.Fatalf("MaxFutureSkew %v is not whole milliseconds", limits.MaxFutureSkew)
	}
	r := rand.New(rand.NewPCG(24, 43))
	for range 10_000 {
		now := time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9))
		limit := now.Add(limits.MaxFutureSkew).UnixMilli()
		p := Point{Symbol: "AAPL", Timestamp: limit, Price: 1, Volume: "1"}
		if err := p.Validate(now); err != nil && limit >= 0 {
			t.Fatalf("now %v: a point at the limit %d refused: %v", now, limit, err)
		}
		p.Timestamp++
		if err := p.Validate(now); err == nil {
			t.Fatalf("now %v: a point a millisecond past the limit %d accepted", now, limit)
		}
	}
}
