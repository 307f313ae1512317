package marketdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func randomPoint(r *rand.Rand) Point {
	syms := []string{"AAPL", "BRK.B", "BTC-USD", "X", "MSFT"}
	exch := []string{"", "XNAS", "ARCX", "Zürich", "東証", "a\"b\\c", "<&>", "\x01\t\n\b\f", "𝔘", "bad\xffutf8", "\u2028"}
	p := Point{
		Symbol:    syms[r.IntN(len(syms))],
		Timestamp: r.Int64N(1 << 42),
		Price:     r.Float64() * math.Pow(10, float64(r.IntN(30)-10)),
		Volume:    randomVolume(r),
		Exchange:  exch[r.IntN(len(exch))],
	}
	if r.IntN(2) == 0 {
		p.Bid = p.Price * 0.99
		p.Ask = p.Price * 1.01
	}
	if r.IntN(3) == 0 {
		p.Conditions = []string{"0", "14,37", "2"}[r.IntN(3)]
	}
	return p
}

// For ASCII content the encoder writes exactly what EncodeMessage writes.
func TestMessageEncoderMatchesEncodeMessage(t *testing.T) {
	cases := []struct {
		name   string
		origin string
		points []Point
	}{
		{"one point", "s3://bucket/a/b.csv#v1", []Point{{Symbol: "AAPL", Timestamp: 1700000000123, Price: 189.12, Volume: "300"}}},
		{"optional fields", "api:abc", []Point{
			{Symbol: "BRK.B", Timestamp: 1, Price: 1e-7, Volume: "0", Bid: 1e-8, Ask: 2e22, Exchange: "XNYS"},
			{Symbol: "BTC-USD", Timestamp: 1700000000000, Price: 65000.5, Volume: Units(1 << 50), Ask: 65001},
			{Symbol: "X", Timestamp: 0, Price: 123456789012345678901234.0, Volume: "9", Exchange: "a\"b\\c<&>\t\b\f\x01"},
		}},
		{"exact price texts", "api:x", []Point{
			{Symbol: "AAPL", Timestamp: 5, Price: 179.66, Volume: "1", Bid: 179.65, Ask: 179.66, Conditions: "14",
				PriceTexts: &PriceTexts{Price: "179.660000000000000000000000001", Ask: "179.66000000000000001"}},
			{Symbol: "AAPL", Timestamp: 6, Price: 179.5, Volume: "2", PriceTexts: &PriceTexts{Price: "179.5000000000000000000000001"}},
		}},
		{"escaped origin", "s3://b/we\"ird\\key\n#\"etag\"", []Point{{Symbol: "A", Timestamp: 5, Price: 0.1, Volume: "1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := NewMessageEncoder(tc.origin, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			m := Message{Origin: tc.origin}
			for i, p := range tc.points {
				ok, err := enc.Add(p, int64(i+2))
				if !ok || err != nil {
					t.Fatalf("Add(%d) = %v, %v", i, ok, err)
				}
				m.Points = append(m.Points, QueuedPoint{Key: sortKey(p, tc.origin, int64(i+2)), Point: p})
			}
			want, err := EncodeMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := enc.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("encoder body\n%s\nEncodeMessage\n%s", got, want)
			}
			if enc.Len() != len(want) || enc.Points() != len(tc.points) {
				t.Fatalf("Len %d Points %d, want %d %d", enc.Len(), enc.Points(), len(want), len(tc.points))
			}
		})
	}
}

// Whatever the content, a body decodes to the points that were added, is
// ASCII only, and stays within the limit.
func TestMessageEncoderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, limit := range []int{2048, 4096, 64 << 10} {
		origin := "s3://bücket/kéy 𝔘#v"
		enc, err := NewMessageEncoder(origin, limit)
		if err != nil {
			t.Fatal(err)
		}
		var want []QueuedPoint
		var sent int
		check := func() {
			body := enc.Bytes()
			if len(body) > limit {
				t.Fatalf("body of %d bytes exceeds limit %d", len(body), limit)
			}
			for _, c := range body {
				if c >= 0x80 || c < 0x20 {
					t.Fatalf("body holds byte %#x", c)
				}
			}
			m, err := DecodeMessage(body)
			if err != nil {
				t.Fatalf("DecodeMessage: %v\n%s", err, body)
			}
			if m.Origin != origin {
				t.Fatalf("origin %q, want %q", m.Origin, origin)
			}
			if !reflect.DeepEqual(m.Points, want) {
				t.Fatalf("decoded points differ:\n got %+v\nwant %+v", m.Points, want)
			}
			sent += len(want)
			want = want[:0]
			enc.Reset()
		}
		for i := 0; i < 3000; i++ {
			p := randomPoint(r)
			ok, err := enc.Add(p, int64(i))
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				if enc.Len()+200 < limit/2 {
					t.Fatalf("message refused a point at only %d of %d bytes", enc.Len(), limit)
				}
				check()
				if ok, err := enc.Add(p, int64(i)); !ok || err != nil {
					t.Fatalf("Add to an empty message = %v, %v", ok, err)
				}
			}
			key := sortKey(p, origin, int64(i))
			// Invalid UTF-8 reads back as U+FFFD, as with encoding/json.
			p.Exchange = strings.ToValidUTF8(p.Exchange, "\uFFFD")
			want = append(want, QueuedPoint{Key: key, Point: p})
		}
		check()
		if sent != 3000 {
			t.Fatalf("sent %d points, want 3000", sent)
		}
	}
}

func TestMessageEncoderLimits(t *testing.T) {
	if _, err := NewMessageEncoder(strings.Repeat("o", 2000), 2048); err == nil {
		t.Fatal("NewMessageEncoder accepted a limit with no room for points")
	}
	enc, err := NewMessageEncoder("o", 1100)
	if err != nil {
		t.Fatal(err)
	}
	huge := Point{Symbol: "A", Timestamp: 1, Price: 1, Exchange: strings.Repeat("\u00e9", 400)} // 2400 bytes escaped
	if ok, err := enc.Add(huge, 1); ok || !errors.Is(err, ErrPointTooLarge) {
		t.Fatalf("Add(huge) = %v, %v; want false, ErrPointTooLarge", ok, err)
	}
	if enc.Points() != 0 || enc.Len() != len(`{"v":1,"origin":"o","points":[]}`) {
		t.Fatalf("a refused point changed the message: %s", enc.Bytes())
	}
	if _, err := DecodeMessage(enc.Bytes()); err != nil {
		t.Fatalf("empty message does not decode: %v", err)
	}
}

func TestAppendJSONStringMatchesEncodingJSONForASCII(t *testing.T) {
	var all []byte
	for c := 0; c < 0x80; c++ {
		all = append(all, byte(c))
	}
	want, _ := json.Marshal(string(all))
	if got := appendJSONString(nil, string(all)); !bytes.Equal(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func BenchmarkMessageEncoder(b *testing.B) {
	enc, _ := NewMessageEncoder("s3://bucket/prefix/file.csv#3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", 1<<20)
	p := Point{Symbol: "AAPL", Timestamp: 1_700_000_000_000, Price: 189.12, Volume: "300", Bid: 189.11, Ask: 189.13, Exchange: "XNAS"}
	var i int64
	for b.Loop() {
		i++
		p.Timestamp++
		if ok, _ := enc.Add(p, i); !ok {
			enc.Reset()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// appendJSONFloat writes exactly what encoding/json writes, fast path or not.
func TestAppendJSONFloatMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	inputs := []float64{0, 1, -1, 0.1, 0.2, 0.3, 1e-6, 9.99e-7, 1e-7, 123456789012345.6, 1e15, 999999999999999.9,
		1e20, 1e21, 1.5e21, math.MaxFloat64, math.SmallestNonzeroFloat64, 189.12, 4.35, 0.000001, 100.00000001,
		2.675, 1.005, 8.325, 0.12345678, 0.123456789, 4503599627370495.5, 9007199254740993}
	for range 300000 {
		switch r.IntN(4) {
		case 0: // prices with a few decimals
			inputs = append(inputs, float64(r.Int64N(100_000_000))/math.Pow10(r.IntN(9)))
		case 1:
			inputs = append(inputs, r.Float64()*math.Pow10(r.IntN(30)-10))
		case 2:
			inputs = append(inputs, math.Float64frombits(r.Uint64()))
		default:
			inputs = append(inputs, float64(r.Int64N(1<<53))/math.Pow10(r.IntN(20)))
		}
	}
	for _, f := range inputs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONFloat(%v) = %s, encoding/json %s", f, got, want)
		}
	}
}
