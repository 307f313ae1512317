package marketdata

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// checkFastAgrees asserts the fast path's contract on one body: when it
// handles the body, encoding/json accepts it too and yields the same message.
func checkFastAgrees(t *testing.T, body []byte) (handled bool) {
	t.Helper()
	fast, ok := decodeFast(string(body))
	if !ok {
		return false
	}
	var std Message
	if err := json.Unmarshal(body, &std); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json rejects it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("fast path and encoding/json disagree on %q:\nfast %+v\nstd  %+v", body, fast, std)
	}
	return true
}

func TestDecodeFastAgreesWithEncodingJSON(t *testing.T) {
	const k = `"k":"1700000000000.5"`
	tests := []struct {
		name string
		body string
		fast bool // whether the fast path must handle it
	}{
		{"canonical", `{"v":1,"origin":"o","points":[{` + k + `,"symbol":"AAPL","timestamp":1700000000000,"price":187.23,"volume":100,"bid":187.22,"ask":187.24,"exchange":"XNAS"}]}`, true},
		{"conditions", `{"v":1,"origin":"o","points":[{` + k + `,"symbol":"AAPL","timestamp":1700000000000,"price":187.23,"volume":37,"conditions":"14,37"}]}`, true},
		{"escaped conditions", `{"v":1,"points":[{` + k + `,"conditions":"\u0031\u0032"}]}`, true},
		{"null conditions", `{"v":1,"points":[{` + k + `,"conditions":null}]}`, false},
		{"number for conditions", `{"v":1,"points":[{` + k + `,"conditions":12}]}`, false},
		{"white space everywhere", " \t\r\n{ \"v\" : 1 ,\n\"points\" : [ { " + k + " , \"price\" : 1e2 } ] , \"origin\":\"o\" }\n ", true},
		{"keys in any order", `{"points":[{"price":2.5,"symbol":"BRK.B",` + k + `}],"origin":"x","v":1}`, true},
		{"empty points", `{"v":1,"origin":"o","points":[]}`, true},
		{"no points", `{"v":1}`, true},
		{"empty object", `{}`, true},
		{"empty point", `{"v":1,"points":[{}]}`, true},
		{"repeated scalar keys: last wins", `{"v":2,"v":1,"origin":"a","origin":"b","points":[{"k":"1","k":"2","price":1,"price":3}]}`, true},
		{"escaped origin", `{"v":1,"origin":"s3://b/a\u0026b \"q\" \\ \/ \n","points":[{` + k + `}]}`, true},
		{"unicode origin", `{"v":1,"origin":"s3://b/données-€.csv","points":[]}`, true},
		{"surrogate pair", `{"v":1,"origin":"\ud83d\ude00","points":[]}`, true},
		{"lone surrogate", `{"v":1,"origin":"\ud83d","points":[]}`, true},
		{"invalid utf-8", "{\"v\":1,\"origin\":\"a\xffb\",\"points\":[]}", true},
		{"negative zero and exponents", `{"v":1,"points":[{"k":"1","timestamp":-0,"price":-0.0,"bid":1E-3,"ask":2e+2,"volume":0}]}`, true},
		{"max int64", `{"v":1,"points":[{"k":"1","timestamp":9223372036854775807,"volume":9223372036854775807}]}`, true},
		{"integers of 18 and 19 digits", `{"v":1,"points":[{"k":"1","timestamp":999999999999999999,"volume":1000000000000000000}]}`, true},
		{"decimals around 2^53", `{"v":1,"points":[{"k":"1","price":9007199254740992,"bid":9007199254740993,"ask":900719925474099.3}]}`, true},
		{"decimals of 17 to 19 digits", `{"v":1,"points":[{"k":"1","price":263.65999999999997,"bid":0.12345678901234567,"ask":1234567890.123456789}]}`, true},
		{"long fractions", `{"v":1,"points":[{"k":"1","price":0.0000000000000000000001,"bid":1.00000000000000000000000001,"ask":0.000000000000000001}]}`, true},
		{"runs of 8 and 16 digits", `{"v":1,"points":[{"k":"1","timestamp":12345678,"volume":8765432112345678,"price":12345678.9,"bid":1.12345678,"ask":12345678.12345678}]}`, true},
		{"zeros", `{"v":1,"points":[{"k":"1","price":-0,"bid":0.000,"ask":-0.0,"volume":0,"timestamp":-0}]}`, true},
		{"members in the encoder's order, some left out", `{"v":1,"points":[{"k":"1","price":2.5,"exchange":"X"},{"symbol":"A","ask":1}]}`, true},
		{"encoder's order, then others", `{"v":1,"points":[{"k":"1","symbol":"A","k":"2","price":1,"symbol":"B"}]}`, true},
		{"encoder's order, then white space", `{"v":1,"points":[{"k":"1","symbol":"A" , "price":1 }]}`, true},
		{"encoder's order, white space first", `{"v":1,"points":[{ "k":"1","symbol":"A"}]}`, true},
		{"encoder's order, escaped values", `{"v":1,"points":[{"k":"1\u0032","symbol":"\u0041","exchange":"X\"Y"}]}`, true},
		{"escaped key", `{"v":1,"points":[{"\u006b":"1","symbol":"A"}]}`, true},
		{"encoder's order, then an unknown key", `{"v":1,"points":[{"k":"1","symbol":"A","note":"x"}]}`, false},
		{"encoder's order, malformed value", `{"v":1,"points":[{"k":"1","price":1.,"volume":1}]}`, false},
		{"encoder's order, exponent integer", `{"v":1,"points":[{"k":"1","volume":1e2}]}`, false},
		{"encoder's order, fractional integer", `{"v":1,"points":[{"k":"1","timestamp":1.5}]}`, false},
		{"encoder's order, leading zero", `{"v":1,"points":[{"k":"1","price":01}]}`, false},
		{"fractional volume", `{"v":1,"points":[{"k":"1","volume":0.015},{"k":"2","volume":123.000000000000000001}]}`, true},
		{"volume beyond int64: Validate's to refuse", `{"v":1,"points":[{"k":"1","volume":9223372036854775808.5}]}`, true},
		{"volume of 19 fraction digits", `{"v":1,"points":[{"k":"1","volume":10000.0000000000000000001}]}`, false},
		{"volume of 61 integer digits", `{"v":1,"points":[{"k":"1","volume":1000000000000000000000000000000000000000000000000000000000000}]}`, false},
		{"volume of 60 integer digits: Validate's to refuse", `{"v":1,"points":[{"k":"1","volume":100000000000000000000000000000000000000000000000000000000000.5}]}`, true},
		{"volume with trailing zeros", `{"v":1,"points":[{"k":"1","volume":1.50}]}`, false},
		{"volume with an exponent", `{"v":1,"points":[{"k":"1","volume":15e-1}]}`, false},
		{"volume negative", `{"v":1,"points":[{"k":"1","volume":-5}]}`, false},
		{"volume negative zero", `{"v":1,"points":[{"k":"1","volume":-0}]}`, false},
		{"volume as a string", `{"v":1,"points":[{"k":"1","volume":"5"}]}`, false},

		{"repeated points merge in encoding/json", `{"v":1,"points":[{"k":"1","price":2}],"points":[{"k":"3"}]}`, false},
		{"unknown top-level key", `{"v":1,"extra":{"a":[1,2]},"points":[]}`, false},
		{"unknown point key", `{"v":1,"points":[{"k":"1","note":"x"}]}`, false},
		{"case-insensitive key", `{"V":1,"points":[]}`, false},
		{"null version", `{"v":null,"points":[]}`, false},
		{"null points", `{"v":1,"points":null}`, true},
		{"null points, then points", `{"v":1,"points":null,"points":[{"k":"1"}]}`, false},
		{"nullish", `{"v":1,"points":nul}`, false},
		{"null point", `{"v":1,"points":[null]}`, false},
		{"null price", `{"v":1,"points":[{"k":"1","price":null}]}`, false},
		{"fractional integer", `{"v":1.0}`, false},
		{"exponent integer", `{"v":1,"points":[{"k":"1","timestamp":1e3}]}`, false},
		{"int overflow", `{"v":1,"points":[{"k":"1","timestamp":9223372036854775808}]}`, false},
		{"float overflow", `{"v":1,"points":[{"k":"1","price":1e400}]}`, false},
		{"string for number", `{"v":"1"}`, false},
		{"number for string", `{"v":1,"origin":5}`, false},
		{"leading zero", `{"v":01}`, false},
		{"bare minus", `{"v":-}`, false},
		{"dangling fraction", `{"v":1,"points":[{"price":1.}]}`, false},
		{"dangling exponent", `{"v":1,"points":[{"price":1e}]}`, false},
		{"trailing comma", `{"v":1,}`, false},
		{"trailing comma in array", `{"v":1,"points":[{},]}`, false},
		{"missing colon", `{"v" 1}`, false},
		{"trailing garbage", `{"v":1} x`, false},
		{"two values", `{"v":1}{"v":1}`, false},
		{"truncated", `{"v":1,"points":[{"k":"1"`, false},
		{"unterminated string", `{"v":1,"origin":"abc`, false},
		{"escape at end", `{"v":1,"origin":"abc\`, false},
		{"control character", "{\"v\":1,\"origin\":\"a\tb\"}", false},
		{"array at top", `[]`, false},
		{"null at top", `null`, false},
		{"byte order mark", "\ufeff{\"v\":1}", false},
		{"empty", ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFastAgrees(t, []byte(tc.body)); got != tc.fast {
				t.Fatalf("fast path handled = %v, want %v", got, tc.fast)
			}
		})
	}
}

// TestEncoderOrderMatchesMessageEncoder: the shortcut of decodeFast reads
// every member of a point MessageEncoder wrote with every field, so the
// order it expects is the encoder's.
func TestEncoderOrderMatchesMessageEncoder(t *testing.T) {
	var p Point
	fillNonZero(reflect.ValueOf(&p).Elem()) // every field, including any added later
	enc, err := NewMessageEncoder("o", 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := enc.Add(p, 1); !ok || err != nil {
		t.Fatalf("Add: %v %v", ok, err)
	}
	body := string(enc.Bytes())
	open := strings.Index(body, "[{")
	if open < 0 {
		t.Fatalf("no point in %s", body)
	}
	d := fastDecoder{s: body, i: open + 2}
	var got QueuedPoint
	n, ok := d.encoderOrder(&got)
	if !ok || n != len(pointMembers) || d.s[d.i] != '}' {
		t.Fatalf("the shortcut read %d of %d members of %s (ok %v), stopping at %.30q", n, len(pointMembers), body, ok, d.s[d.i:])
	}
	if !reflect.DeepEqual(got.Point, p) {
		t.Fatalf("the shortcut read %+v, want %+v", got.Point, p)
	}
}

// TestPlainEnd: the word-at-a-time scan stops where the byte-at-a-time one
// does, for every byte value at every place of a word, after plain bytes
// and after other special ones (whose borrows must not hide it).
func TestPlainEnd(t *testing.T) {
	naive := func(s string, i int) int {
		for i < len(s) && plain[s[i]] {
			i++
		}
		return i
	}
	r := rand.New(rand.NewPCG(8, 9))
	specials := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, '!', '#', '[', ']'}
	for c := range 256 {
		for at := range 20 {
			for _, before := range append([]byte{'a'}, specials...) {
				b := []byte(strings.Repeat("a", 20))
				b[at] = byte(c)
				if at > 0 && r.IntN(2) == 0 {
					b[r.IntN(at)] = before // maybe special, maybe earlier
				}
				s := string(b)
				for start := range 3 {
					if got, want := plainEnd(s, start), naive(s, start); got != want {
						t.Fatalf("plainEnd(%q, %d) = %d, want %d", s, start, got, want)
					}
				}
			}
		}
	}
}

// TestEightDigits: the word-at-a-time digit parser agrees with strconv on
// runs of eight digits, and refuses a word with any other byte anywhere.
func TestEightDigits(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for range 100000 {
		s := fmt.Sprintf("%08d", r.IntN(100_000_000))
		want, _ := strconv.ParseUint(s, 10, 64)
		if got, ok := eightDigits(s); !ok || got != want {
			t.Fatalf("eightDigits(%q) = %d, %v", s, got, ok)
		}
		b := []byte(s)
		b[r.IntN(8)] = byte(r.IntN(256))
		_, err := strconv.ParseUint(string(b), 10, 64)
		if _, ok := eightDigits(string(b)); ok != (err == nil) {
			t.Fatalf("eightDigits(%q) ok = %v, strconv: %v", b, ok, err)
		}
	}
	for c := range 256 {
		for at := range 8 {
			b := []byte("12345678")
			b[at] = byte(c)
			_, err := strconv.ParseUint(string(b), 10, 64)
			if _, ok := eightDigits(string(b)); ok != (err == nil) {
				t.Fatalf("eightDigits(%q) ok = %v, strconv: %v", b, ok, err)
			}
		}
	}
}

// TestDecodeFastPointsCapacity: the points of an encoded message fill their
// slice exactly, and braces inside strings do not make it larger than the
// body's bytes allow.
func TestDecodeFastPointsCapacity(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	m := randomMessage(r, 16)
	body, err := EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decodeFast(string(body))
	if !ok || len(got.Points) != len(m.Points) || cap(got.Points) != len(m.Points) {
		t.Fatalf("%d points in a slice of %d (ok %v), want %d in %d", len(got.Points), cap(got.Points), ok, len(m.Points), len(m.Points))
	}
	braces := `{"v":1,"origin":"` + strings.Repeat("{", 10000) + `","points":[{"k":"1.5"}]}`
	got, ok = decodeFast(braces)
	if !ok || len(got.Points) != 1 || cap(got.Points) > len(braces)/minPointBytes+1 {
		t.Fatalf("%d points in a slice of %d (ok %v) for a body of %d bytes", len(got.Points), cap(got.Points), ok, len(braces))
	}
}

// TestDecodeFastKnowsEveryField fails when a field is added to QueuedPoint or
// Message without teaching decodeFast its key: such a body would silently
// fall back to the slow path.
func TestDecodeFastKnowsEveryField(t *testing.T) {
	m := Message{Version: MessageVersion, Origin: "o", Points: []QueuedPoint{{Key: "1.5"}}}
	fillNonZero(reflect.ValueOf(&m.Points[0]).Elem())
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("Message has %d JSON fields, decodeFast knows 3 (v, origin, points)", len(keys))
	}
	if !checkFastAgrees(t, body) {
		t.Fatalf("decodeFast does not handle every field of %s", body)
	}
}

// fillNonZero sets every settable scalar field of v to a non-zero value.
func fillNonZero(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Struct:
			fillNonZero(f)
		case reflect.Pointer:
			if f.Type().Elem().Kind() == reflect.Struct && f.CanSet() {
				f.Set(reflect.New(f.Type().Elem()))
				fillNonZero(f.Elem())
			}
		case reflect.String:
			if f.Type() == reflect.TypeFor[Decimal]() {
				f.SetString("1.5")
				break
			}
			f.SetString("X" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		}
	}
}

func TestDecodeFastRoundTripsEncodedMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for n := range 200 {
		m := randomMessage(r, n)
		body, err := EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if !checkFastAgrees(t, body) {
			t.Fatalf("fast path does not handle an encoded message: %s", body)
		}
		got, err := DecodeMessage(body)
		if err != nil {
			t.Fatal(err)
		}
		m.Version = MessageVersion
		if len(m.Points) == 0 {
			m.Points = got.Points // nil vs empty is not what this test is about
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip changed the message:\n got %+v\nwant %+v", got, m)
		}
	}
}

func randomMessage(r *rand.Rand, n int) Message {
	syms := []string{"AAPL", "BRK.B", "BTC-USD", "X"}
	origins := []string{"s3://market-data-dev/a.csv#v1", "api:req-1", "s3://b/<&>\"€\\.ndjson.gz"}
	m := Message{Origin: origins[r.IntN(len(origins))]}
	for i := range n % 17 {
		p := Point{
			Symbol:    syms[r.IntN(len(syms))],
			Timestamp: r.Int64N(4_000_000_000_000),
			Price:     math.Float64frombits(r.Uint64()>>2 | 1<<62>>2), // positive, wide range
			Volume:    randomVolume(r),
		}
		if math.IsNaN(p.Price) || math.IsInf(p.Price, 0) {
			p.Price = 1
		}
		var pt, bt, at string
		if r.IntN(4) == 0 {
			p.Price, pt = randomExactPrice(r)
		}
		if r.IntN(2) == 0 {
			p.Bid, p.Ask = r.Float64()*1000, r.Float64()*1000
			p.Exchange = "XNAS"
			if r.IntN(3) == 0 {
				p.Bid, bt = randomExactPrice(r)
				p.Ask, at = randomExactPrice(r)
			}
		}
		p.SetTexts(pt, bt, at)
		if c := []string{"", "0", "14,37", "2", "12,33"}[r.IntN(5)]; c != "" {
			p.Conditions = c
		}
		m.Points = append(m.Points, QueuedPoint{Key: sortKey(p, m.Origin, int64(i)), Point: p})
	}
	return m
}

// randomVolume is a valid volume: an integer up to int64, or a fraction of
// up to MaxDecimalScale digits.
func randomVolume(r *rand.Rand) Decimal {
	if r.IntN(2) == 0 {
		return Units(r.Uint64N(1 << 63))
	}
	return Decimal(appendUnits(nil, r.Uint64(), r.IntN(MaxDecimalScale+1)))
}

func FuzzDecodeMessage(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 5 {
		body, _ := EncodeMessage(randomMessage(r, n*3))
		f.Add(body)
	}
	f.Add([]byte(`{"v":1,"origin":"a\u0026b","points":[{"k":"1","price":1e2,"volume":-0}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1"}],"points":[{"price":2}]}`))
	f.Add([]byte(`{"V":1,"Points":[{"K":"1"}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1.5","symbol":"A\u0042","price":263.65999999999997,"volume":999999999999999999,"bid":9007199254740993,"ask":0.0000000000000000000001,"exchange":"X"},{"ask":-0,"k":"2"}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1","conditions":"14,37","conditions":"\u0030"}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1","pt":"1.5","pt":"2"},{"k":"2","pt":null,"bt":""},{"at":"3.0000000000000000001","k":"3","price":3}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1.5","volume":0.015},{"k":"2.5","volume":1.50},{"k":"3.5","volume":15e-1}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1.5","volume":0.0000000000000000001},{"k":"2.5","volume":-2.5},{"k":"3.5","volume":00.1}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1.5","volume":10000.0000000000000000001}]}`))
	f.Add([]byte(`{"v":1,"points":[{"k":"1.5","volume":1000000000000000000000000000000000000000000000000000000000000},{"k":"2.5","volume":100000000000000000000000000000000000000000000000000000000000.5}]}`))
	f.Add([]byte(`{"v":2,"origin":"o","points":null,"bars":[{"k":"60000.5","symbol":"AAPL","start":60000,"length":60000,"open":1,"high":2,"low":1,"close":2,"volume":10,"trades":3}]}`))
	f.Add([]byte(`{"v":1,"origin":"o","points":[],"bars":[{"k":"60000.5"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastAgrees(t, body)
		m, err := DecodeMessage(body)
		if err == nil && m.Version != MessageVersion && m.Version != MessageVersionBars || err == nil && m.Version == MessageVersion && len(m.Bars) > 0 {
			t.Fatalf("accepted version %d with %d bars", m.Version, len(m.Bars))
		}
		ms, errs := DecodeMessageString(string(body))
		if (err == nil) != (errs == nil) || !reflect.DeepEqual(m, ms) {
			t.Fatalf("DecodeMessage and DecodeMessageString disagree: %v / %v", err, errs)
		}
	})
}

func TestDecodeMessageErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `garbage`, "decode message: invalid character"},
		{"old version", `{"v":0,"points":[]}`, "unsupported version 0"},
		{"future version", `{"v":3,"points":[]}`, "unsupported version 3"},
		{"missing key", `{"v":1,"points":[{"k":"1.5"},{"symbol":"AAPL"}]}`, "point 1 has no key"},
		{"missing key via slow path", `{"v":1,"x":null,"points":[{"symbol":"AAPL"}]}`, "point 0 has no key"},
		{"wrong type", `{"v":1,"points":[{"k":"1","price":"1"}]}`, "cannot unmarshal string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMessage([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// BenchmarkDecodeMessage compares the fast path with encoding/json on a
// ~1 MiB body.
func BenchmarkDecodeMessage(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	m := Message{Origin: "s3://market-data-dev/uploads/ticks.csv#3Lg8xVd2ZQ"}
	for i := range 7000 {
		p := Point{Symbol: "AAPL", Timestamp: 1_700_000_000_000 + int64(i), Price: float64(r.IntN(100_000))/100 + 1,
			Volume: Units(r.Uint64N(10_000)), Bid: 100.25, Ask: 100.5, Exchange: "XNAS"}
		m.Points = append(m.Points, QueuedPoint{Key: sortKey(p, m.Origin, int64(i)), Point: p})
	}
	body, err := EncodeMessage(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (Message, error)
	}{
		{"DecodeMessage", DecodeMessage},
		{"encoding/json", func(body []byte) (Message, error) {
			var m Message
			return m, json.Unmarshal(body, &m)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := bc.decode(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(m.Points))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
