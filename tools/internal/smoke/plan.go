package smoke

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/tradegen"
)

// KeyPrefix is where smoke runs put their objects: KeyPrefix<run id>/.
const KeyPrefix = "smoke/"

// SymbolPrefix starts every smoke symbol; the run id and a letter for the
// path (F: file through S3, A: POST /ingest) follow, so runs never share a
// symbol and each path's windows are exactly predictable.
const SymbolPrefix = "SMK"

// runIDLen is the length of a run id: 8 characters of A-Z 0-9 (36^8 ≈ 2.8e12
// ids), short enough that SymbolPrefix + id + path letter stays within the
// symbol limit.
const runIDLen = 8

// Plan is one smoke run's input and the answers it must produce: the known
// trades of each path, in two closed windows of the recent past.
type Plan struct {
	RunID string
	// Key is the uploaded object's key, under Prefix.
	Prefix, Key string
	FileSymbol  string // the CSV's trades
	APISymbol   string // the POST /ingest batch's trades
	FileTrades  []marketdata.Point
	APITrades   []marketdata.Point
	// From and To bound the windows of the run: [From, To).
	From, To int64
}

// The bad records each path carries on purpose, so the report's and the
// API's rejection counts are checked too.
const (
	BadFileRows   = 1
	BadAPIRecords = 1
)

// NewRunID returns a random run id.
func NewRunID() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, runIDLen)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// shape is one trade of a window: its offset into the window, its price
// above the symbol's base, its volume. The first and last offsets are the
// window's only trades in their millisecond (open and close are then
// unambiguous). Prices are multiples of 1/4 and volumes small integers, so
// every price×volume and every sum is exact in float64 and the VWAP is the
// same whatever the order of the sums: the comparison can be exact.
var shape = []struct {
	offset time.Duration
	dp     float64
	volume int64
}{
	{1 * time.Second, 0.25, 100},
	{61 * time.Second, 1.50, 250},
	{61*time.Second + time.Millisecond, -0.75, 75},
	{137 * time.Second, 0.75, 40},
	{limits.AggregationWindow - time.Second, 0.50, 300},
}

// windows is how many consecutive windows each symbol trades in.
const windows = 2

// NewPlan returns the plan of run id at time now: trades in the two windows
// that closed between 10 and 20 minutes before now (closed, well inside the
// accepted timestamps and the API's default last 24 hours).
func NewPlan(runID string, now time.Time) (Plan, error) {
	if len(runID) != runIDLen {
		return Plan{}, fmt.Errorf("run id %q: want %d characters", runID, runIDLen)
	}
	p := Plan{
		RunID: runID, Prefix: KeyPrefix + runID + "/",
		FileSymbol: SymbolPrefix + runID + "F", APISymbol: SymbolPrefix + runID + "A",
	}
	p.Key = p.Prefix + "trades.csv"
	for _, s := range []string{p.FileSymbol, p.APISymbol} {
		if !marketdata.ValidSymbol(s) {
			return Plan{}, fmt.Errorf("run id %q makes the invalid symbol %q", runID, s)
		}
	}
	win := limits.AggregationWindow.Milliseconds()
	p.From = marketdata.WindowStart(now.UnixMilli()) - 3*win
	p.To = p.From + windows*win
	p.FileTrades = trades(p.FileSymbol, p.From, 100)
	p.APITrades = trades(p.APISymbol, p.From, 250)
	return p, nil
}

func trades(symbol string, from int64, base float64) []marketdata.Point {
	var pts []marketdata.Point
	for w := 0; w < windows; w++ {
		start := from + int64(w)*limits.AggregationWindow.Milliseconds()
		for i, s := range shape {
			pts = append(pts, marketdata.Point{
				Symbol: symbol, Timestamp: start + s.offset.Milliseconds(),
				Price: base + float64(2*w) + s.dp, Volume: marketdata.Units(uint64(s.volume + int64(10*w*i))), Exchange: "XNAS",
			})
		}
	}
	return pts
}

// badRow is a trade with a negative price: the pipeline must refuse it.
func badRow(symbol string, ts int64) tradegen.Row {
	t := strconv.FormatInt(ts, 10)
	return tradegen.Row{Bad: true, Why: "negative price",
		BadCSV:  symbol + "," + t + ",-1,100,,,XNAS",
		BadJSON: `{"symbol":"` + symbol + `","timestamp":` + t + `,"price":-1,"volume":100}`}
}

// CSV is the uploaded object: a header, the file trades and BadFileRows bad
// rows in the middle.
func (p Plan) CSV() []byte {
	var b bytes.Buffer
	b.WriteString(tradegen.CSVHeader + "\n")
	for i, t := range p.FileTrades {
		if i == len(p.FileTrades)/2 {
			b.WriteString(badRow(p.FileSymbol, t.Timestamp).CSV() + "\n")
		}
		b.WriteString(tradegen.Row{Point: t}.CSV() + "\n")
	}
	return b.Bytes()
}

// IngestBody is the POST /ingest body: {"points": [...]} with the API trades
// and BadAPIRecords bad records in the middle.
func (p Plan) IngestBody() []byte {
	parts := make([]string, 0, len(p.APITrades)+BadAPIRecords)
	for i, t := range p.APITrades {
		if i == len(p.APITrades)/2 {
			parts = append(parts, badRow(p.APISymbol, t.Timestamp).JSON())
		}
		parts = append(parts, tradegen.Row{Point: t}.JSON())
	}
	return []byte(`{"points":[` + strings.Join(parts, ",") + `]}`)
}
