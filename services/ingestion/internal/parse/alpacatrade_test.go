package parse

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// alpacaTradeLines are valid Alpaca trades in the compact form Alpaca
// writes, in several member orders and with the variants its fields take.
var alpacaTradeLines = []string{
	`{"T":"t","S":"AAPL","i":52983525029461,"x":"V","p":189.12,"s":100,"c":["@","T"],"t":"2024-05-31T13:30:00.001234567Z","z":"C"}`,
	`{"t":"2024-05-31T13:30:00Z","x":"P","p":0.5,"s":3,"c":["@"],"i":7,"z":"A","S":"BRK.B"}`,
	`{"S":"MSFT","t":"2024-05-31T09:30:00.5-04:00","p":415,"s":1,"x":"Q","z":"B","c":[" ","I"]}`,
	`{"S":"NVDA","t":"2024-05-31T13:30:00.123456789+00:00","p":1050.125,"s":25,"x":"D","c":[],"z":"C","u":"incorrect"}`,
	`{"S":"SPY","t":"2024-05-31T13:30:00.1Z","p":527.37,"s":9,"x":"K"}`,
	`{"S":"AAPL","t":"2024-05-31T13:30:00.000000001Z","p":189,"s":100,"c":["@","F","T"],"z":"C","x":"V","i":1,"T":"t"}`,
}

// TestFastAlpacaTradeTakesAlpacasForm: the fast path reads the valid
// trades (the benchmark's too) itself, not by falling back.
func TestFastAlpacaTradeTakesAlpacasForm(t *testing.T) {
	_, data := profileObject(marketdata.ProfileAlpacaTrades, 100)
	lines := append(strings.Split(strings.TrimSpace(string(data)), "\n"), alpacaTradeLines...)
	p := &Parser{Now: testNow, Options: Options{Profile: marketdata.ProfileAlpacaTrades}}
	if err := p.use(alpacaTradesProfile, "t.ndjson"); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		p.rec = Record{}
		if !p.fastAlpacaTrade([]byte(l)) || p.rec.Err != nil {
			t.Fatalf("fastAlpacaTrade(%s) not taken or refused: %v", l, p.rec.Err)
		}
	}
}

// TestFastAlpacaTradeAgrees holds the fast path to jsontext's (the simple
// reference): every valid trade, and each of it with one byte removed,
// replaced, or the line cut there, gives the same records, refusals and
// timestamp units both ways.
func TestFastAlpacaTradeAgrees(t *testing.T) {
	subst := []byte{'"', '\\', ',', '}', '{', '[', ']', ':', 'n', '0', '9', '-', '.', 'e', 'Z', ' ', 'x', 0x7f, 0xc3, 0}
	for _, line := range alpacaTradeLines {
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
		opts := Options{Profile: marketdata.ProfileAlpacaTrades}
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
		if fast[0].category != "" || accepted < 2 || accepted == len(fast) {
			t.Fatalf("%s: %d of %d mutations accepted (first: %s); the table no longer tests both outcomes", line, accepted, len(fast), fast[0].reason)
		}
	}
}
