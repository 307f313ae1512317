package processor

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendNumberMatchesStrconv checks the shortcut against strconv's
// shortest 'f' formatting, which is DynamoDB's canonical number form.
func TestAppendNumberMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := []float64{1, 0.5, 0.05, 0.1 + 0.2, 187.23, 100, 1e14, 999999999999999, 1e15, 1e15 + 2, 0.000001, 0.0000001,
		123456.789, 5e-324, math.MaxFloat64, 1e21, 1e-7, 0.3, 2.675, 1.005, 9007199254740993, 0.000123, 42.00001}
	for range 300000 {
		dec := r.IntN(8)
		v := float64(r.Int64N(1_000_000_000_000)) / math.Pow10(dec) // prices with a few decimals
		values = append(values, v, math.Nextafter(v, math.Inf(1)), r.Float64()*math.Pow10(r.IntN(40)-20))
	}
	for _, v := range values {
		if v == 0 {
			continue
		}
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if got := string(appendNumber([]byte("x"), v)); got != "x"+want {
			t.Fatalf("appendNumber(%v) = %q, strconv says %q", v, got[1:], want)
		}
	}
}
