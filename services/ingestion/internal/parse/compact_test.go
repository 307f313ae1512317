package parse

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// compactLines are valid records in the compact form Alpaca and our own
// writers write, by profile, in several member orders and with the
// variants their fields take.
var compactLines = map[string][]string{marketdata.ProfileAlpacaTrades: {
	`{"T":"t","S":"AAPL","i":52983525029461,"x":"V","p":189.12,"s":100,"c":["@","T"],"t":"2024-05-31T13:30:00.001234567Z","z":"C"}`,
	`{"t":"2024-05-31T13:30:00Z","x":"P","p":0.5,"s":3,"c":["@"],"i":7,"z":"A","S":"BRK.B"}`,
	`{"S":"MSFT","t":"2024-05-31T09:30:00.5-04:00","p":415,"s":1,"x":"Q","z":"B","c":[" ","I"]}`,
	`{"S":"NVDA","t":"2024-05-31T13:30:00.123456789+00:00","p":1050.125,"s":25,"x":"D","c":[],"z":"C","u":"incorrect"}`,
	`{"S":"SPY","t":"2024-05-31T13:30:00.1Z","p":527.37,"s":9,"x":"K"}`,
	`{"S":"AAPL","t":"2024-05-31T13:30:00.000000001Z","p":189,"s":100,"c":["@","F","T"],"z":"C","x":"V","i":1,"T":"t"}`,
}, marketdata.ProfileNative: {
	`{"symbol":"AAPL","timestamp":1717243200000,"price":189.12,"volume":300,"bid":189.11,"ask":189.13,"exchange":"XNAS"}`,
	`{"symbol":"BTC-USD","timestamp":"2024-06-01T12:00:00.123456Z","price":67000.5,"volume":2}`,
	`{"timestamp":1717243200123456,"symbol":"MSFT","volume":1,"price":415,"exchange":"ARCX","ask":416}`,
	`{"symbol":"NVDA","timestamp":1717243200,"price":1050.125,"volume":25,"conditions":"14,37"}`,
}}

// TestFastCompactTakesTheWritersForm: the fast path reads the valid
// records (the benchmarks' too: Alpaca's trades, gen's NDJSON) itself,
// not by falling back, once the previous record has set the guesses of
// the names' order.
func TestFastCompactTakesTheWritersForm(t *testing.T) {
	_, alpaca := profileObject(marketdata.ProfileAlpacaTrades, 100)
	for profile, data := range map[string][]byte{marketdata.ProfileAlpacaTrades: alpaca, marketdata.ProfileNative: gen.Bytes(gen.NDJSON, 100)} {
		lines := append(strings.Split(strings.TrimSpace(string(data)), "\n"), compactLines[profile]...)
		p := &Parser{Now: testNow}
		if err := p.use(profileNamed(profile), "t.ndjson"); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			p.rec = Record{}
			p.jsonPoint([]byte(l)) // sets the guesses
			p.rec = Record{}
			if !p.fastCompact([]byte(l)) || p.rec.Err != nil {
				t.Fatalf("%s: fastCompact(%s) not taken or refused: %v", profile, l, p.rec.Err)
			}
		}
	}
}

// TestFastAlpacaTradeAgrees holds the fast path to jsontext's (the simple
// reference): every valid trade, and each of it with one byte removed,
// replaced, or the line cut there, gives the same records, refusals and
// timestamp units both ways.
func TestFastCompactAgrees(t *testing.T) {
	subst := []byte{'"', '\\', ',', '}', '{', '[', ']', ':', 'n', '0', '9', '-', '.', 'e', 'Z', ' ', 'x', 0x7f, 0xc3, 0}
	for profile, lines := range compactLines {
		for _, line := range lines {
			var b bytes.Buffer
			add := func(l []byte) {
				b.Write(bytes.ReplaceAll(l, []byte("\n"), []byte(" ")))
				b.WriteByte('\n')
			}
			add([]byte(line))
			for i := range len(line) {
				add([]byte(line[:i] + line[i+1:]))
				add([]byte(line[:i]))
				for _, c := range subst {
					add([]byte(line[:i] + string([]byte{c}) + line[i+1:]))
				}
			}
			opts := Options{Profile: profile}
			if profile == marketdata.ProfileNative {
				opts = Options{} // detected: a forced native is CSV
			}
			fast, ferr := fuzzRunWith(t, "t.ndjson", b.Bytes(), false, opts)
			slow, serr := fuzzRunWith(t, "t.ndjson", b.Bytes(), true, opts)
			assertSame(t, fast, ferr, slow, serr)
			accepted := 0
			for i := range fast {
				if fast[i].unit != slow[i].unit {
					t.Fatalf("record %d: unit %q fast, %q slow", i, fast[i].unit, slow[i].unit)
				}
				if fast[i].category == "" {
					accepted++
				}
			}
			if ferr != nil {
				t.Fatalf("%s: %v", profile, ferr)
			}
			if fast[0].category != "" || accepted < 2 || accepted == len(fast) {
				t.Fatalf("%s: %d of %d mutations accepted (first: %s); the table no longer tests both outcomes", line, accepted, len(fast), fast[0].reason)
			}
		}
	}
}
