package marketdata

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	good := Point{Symbol: "AAPL", Timestamp: now.UnixMilli(), Price: 187.25, Volume: "100"}
	cases := []struct {
		name  string
		edit  func(p *Point)
		want  error // nil: valid
		cause string
	}{
		{"valid", func(p *Point) {}, nil, ""},
		{"dotted symbol", func(p *Point) { p.Symbol = "BRK.B" }, nil, ""},
		{"dashed symbol", func(p *Point) { p.Symbol = "BTC-USD" }, nil, ""},
		{"16-char symbol", func(p *Point) { p.Symbol = strings.Repeat("A", 16) }, nil, ""},
		{"17-char symbol", func(p *Point) { p.Symbol = strings.Repeat("A", 17) }, ErrSymbol, "want 1-16"},
		{"lower-case symbol", func(p *Point) { p.Symbol = "aapl" }, ErrSymbol, "aapl"},
		{"empty symbol", func(p *Point) { p.Symbol = "" }, ErrSymbol, ""},
		{"symbol with #", func(p *Point) { p.Symbol = "AGG5M#A" }, ErrSymbol, ""},
		{"leading dot", func(p *Point) { p.Symbol = ".A" }, ErrSymbol, ""},
		{"trailing dash", func(p *Point) { p.Symbol = "A-" }, ErrSymbol, ""},
		{"zero price", func(p *Point) { p.Price = 0 }, ErrPrice, "> 0"},
		{"negative price", func(p *Point) { p.Price = -1 }, ErrPrice, ""},
		{"NaN price", func(p *Point) { p.Price = math.NaN() }, ErrPrice, "NaN"},
		{"Inf price", func(p *Point) { p.Price = math.Inf(1) }, ErrPrice, "Inf"},
		{"largest price", func(p *Point) { p.Price = MaxPrice }, nil, ""},
		{"price beyond DynamoDB's comfort", func(p *Point) { p.Price = 1e300 }, ErrPrice, "storable range"},
		{"smallest price", func(p *Point) { p.Price = MinPrice }, nil, ""},
		{"price below the storable range", func(p *Point) { p.Price = 1e-200 }, ErrPrice, "storable range"},
		{"huge ask", func(p *Point) { p.Ask = 1e200 }, ErrQuote, "ask"},
		{"zero volume", func(p *Point) { p.Volume = "0" }, nil, ""},
		{"negative volume", func(p *Point) { p.Volume = "-5" }, ErrVolume, "-5"},
		{"epoch zero", func(p *Point) { p.Timestamp = 0 }, nil, ""},
		{"before 1970", func(p *Point) { p.Timestamp = -1 }, ErrTimestamp, "before 1970"},
		{"a day ahead", func(p *Point) { p.Timestamp = now.Add(24 * time.Hour).UnixMilli() }, nil, ""},
		{"more than a day ahead", func(p *Point) { p.Timestamp = now.Add(24*time.Hour).UnixMilli() + 1 }, ErrTimestamp, "future"},
		{"last nanosecond of the millisecond", func(p *Point) { p.SubMilliNanos = NanosPerMilli - 1 }, nil, ""},
		{"a millisecond of nanoseconds", func(p *Point) { p.SubMilliNanos = NanosPerMilli }, ErrTimestamp, "1000000 nanoseconds within the millisecond"},
		{"negative nanoseconds", func(p *Point) { p.SubMilliNanos = -1 }, ErrTimestamp, "-1 nanoseconds"},
		{"bid below ask", func(p *Point) { p.Bid, p.Ask = 187.2, 187.3 }, nil, ""},
		{"bid equals ask", func(p *Point) { p.Bid, p.Ask = 187.2, 187.2 }, nil, ""},
		{"bid above ask", func(p *Point) { p.Bid, p.Ask = 187.4, 187.3 }, ErrQuote, "bid 187.4 > ask 187.3"},
		{"only bid", func(p *Point) { p.Bid = 187.4 }, nil, ""},
		{"negative ask", func(p *Point) { p.Ask = -1 }, ErrQuote, "ask"},
		{"NaN bid", func(p *Point) { p.Bid = math.NaN() }, ErrQuote, "bid"},
		{"long exchange", func(p *Point) { p.Exchange = strings.Repeat("X", 17) }, ErrExchange, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := good
			c.edit(&p)
			err := p.Validate(now)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want valid", p, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Validate(%+v) = %v, want %v", p, err, c.want)
			}
			if !strings.Contains(err.Error(), c.cause) {
				t.Errorf("reason %q does not say %q", err, c.cause)
			}
		})
	}
}

func TestValidateConditions(t *testing.T) {
	now := time.UnixMilli(1_700_000_100_000)
	p := Point{Symbol: "AAPL", Timestamp: 1_700_000_000_000, Price: 1, Volume: "1"}
	for c, ok := range map[string]bool{"": true, "0": true, "14,37": true, "6": false, "14, 37": false, "037": false, "I": false} {
		p.Conditions = c
		err := p.Validate(now)
		if (err == nil) != ok || !ok && !errors.Is(err, ErrCondition) {
			t.Errorf("conditions %q: %v", c, err)
		}
	}
}
