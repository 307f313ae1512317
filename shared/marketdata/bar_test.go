package marketdata

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBarValidate(t *testing.T) {
	now := time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC)
	start := time.Date(2025, 1, 2, 14, 31, 0, 0, time.UTC).UnixMilli()
	good := Bar{Symbol: "AAPL", Start: start, Length: 60_000, Open: 243.5, High: 244, Low: 243.1, Close: 243.9,
		Volume: "1200", Trades: 17}
	cases := []struct {
		name   string
		edit   func(*Bar)
		field  string
		err    error
		reason string
	}{
		{"valid", func(*Bar) {}, "", nil, ""},
		{"valid vwap", func(b *Bar) { b.VWAP = 243.71 }, "", nil, ""},
		{"valid pv", func(b *Bar) { b.Volume, b.PV = "0.5", "121.9" }, "", nil, ""},
		{"valid 5m", func(b *Bar) { b.Start, b.Length = start-60_000, 300_000 }, "", nil, ""},
		{"symbol", func(b *Bar) { b.Symbol = "aapl" }, BarFieldSymbol, ErrSymbol, "aapl"},
		{"high < low", func(b *Bar) { b.High, b.Low = 243, 244 }, BarFieldHigh, ErrPrice, "high 243 < low 244"},
		{"open above high", func(b *Bar) { b.Open = 245 }, BarFieldOpen, ErrPrice, "open 245 outside"},
		{"close below low", func(b *Bar) { b.Close = 243 }, BarFieldClose, ErrPrice, "close 243 outside"},
		{"zero low", func(b *Bar) { b.Low = 0 }, BarFieldLow, ErrPrice, "> 0"},
		{"negative volume", func(b *Bar) { b.Volume = "-5" }, BarFieldVolume, ErrVolume, "-5"},
		{"zero volume", func(b *Bar) { b.Volume = "0" }, BarFieldVolume, ErrVolume, "without volume"},
		{"no trades", func(b *Bar) { b.Trades = 0 }, BarFieldTrades, ErrBarTrades, ">= 1"},
		{"misaligned", func(b *Bar) { b.Start += 1000 }, BarFieldStart, ErrTimestamp, "misaligned"},
		{"misaligned 5m", func(b *Bar) { b.Length = 300_000 }, BarFieldStart, ErrTimestamp, "misaligned"},
		{"15m", func(b *Bar) { b.Length = 900_000 }, BarFieldLength, ErrBarLength, "longer than 5m0s"},
		{"1d", func(b *Bar) { b.Length = 86_400_000 }, BarFieldLength, ErrBarLength, "longer than 5m0s"},
		{"3m", func(b *Bar) { b.Length = 180_000 }, BarFieldLength, ErrBarLength, "does not divide"},
		{"future", func(b *Bar) { b.Start = now.Add(48*time.Hour).UnixMilli() / 60_000 * 60_000 }, BarFieldStart, ErrTimestamp, "future"},
		{"vwap outside", func(b *Bar) { b.VWAP = 250 }, BarFieldVWAP, ErrBarVWAP, "outside"},
		{"pv outside", func(b *Bar) { b.PV = "1" }, BarFieldPV, ErrBarVWAP, "outside"},
		{"both", func(b *Bar) { b.VWAP, b.PV = 243.7, "292440" }, BarFieldVWAP, ErrBarVWAP, "both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := good
			c.edit(&b)
			err := b.Validate(now)
			if c.err == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var be *BarError
			if !errors.As(err, &be) || be.Field != c.field || !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("Validate = %v (%#v), want field %s, %v, reason containing %q", err, be, c.field, c.err, c.reason)
			}
		})
	}
}

func TestParseBarLength(t *testing.T) {
	for _, c := range []struct {
		name   string
		ms     int64
		reason string
	}{
		{"1m", 60_000, ""}, {"1Min", 60_000, ""}, {"5Min", 300_000, ""}, {"5m", 300_000, ""}, {"1s", 1000, ""},
		{"3m", 0, "does not divide"}, {"15m", 0, "longer than 5m0s"}, {"1Day", 0, "longer than 5m0s"},
		{"1h", 0, "longer than 5m0s"}, {"7x", 0, "want one of"},
	} {
		ms, err := ParseBarLength(c.name)
		if c.reason == "" && (err != nil || ms != c.ms) {
			t.Errorf("ParseBarLength(%q) = %d, %v; want %d", c.name, ms, err, c.ms)
		}
		if c.reason != "" && (err == nil || !errors.Is(err, ErrBarLength) || !strings.Contains(err.Error(), c.reason)) {
			t.Errorf("ParseBarLength(%q) = %d, %v; want an error containing %q", c.name, ms, err, c.reason)
		}
	}
	for _, l := range BarLengths { // every accepted length passes Validate's own check
		if err := lengthError(l.Millis); err != nil {
			t.Errorf("%v: %v", l.Names, err)
		}
	}
}
