// Package tradegen generates a realistic trading day of market data: several
// symbols with their own price level and activity, prices following a random
// walk, bursts of trades in the same millisecond, bid/ask quotes around the
// price, exchanges, and a few bad rows of the kinds real feeds contain.
package tradegen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Symbol is one instrument of the day.
type Symbol struct {
	Name   string
	Price  float64 // opening price
	Weight float64 // share of the day's trades
	Tick   float64 // price increment
}

// Symbols is the default universe.
var Symbols = []Symbol{
	{"AAPL", 189.50, 0.22, 0.01},
	{"MSFT", 415.20, 0.16, 0.01},
	{"NVDA", 880.10, 0.18, 0.01},
	{"BRK.B", 410.30, 0.06, 0.01},
	{"TSLA", 251.40, 0.14, 0.01},
	{"SPY", 521.75, 0.12, 0.01},
	{"BTC-USD", 67050.00, 0.12, 0.5},
}

var exchanges = []string{"XNAS", "XNYS", "ARCX", "BATS", "IEXG", "EDGX"}

// Row is one generated record: a valid point, or a bad row with the raw
// fields a feed would carry and why it is bad.
type Row struct {
	Point marketdata.Point
	// Bad rows carry their CSV line and JSON object as they would appear.
	Bad     bool
	BadCSV  string
	BadJSON string
	Why     string
}

// Day generates n rows of the session that starts at open (6.5 hours, like
// the NYSE's regular session), sorted by time, with about one bad row in
// badEvery (0: none). The same seed gives the same day.
func Day(seed uint64, open time.Time, n, badEvery int) []Row {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	session := 390 * time.Minute
	type state struct {
		Symbol
		price float64
	}
	states := make([]*state, len(Symbols))
	var total float64
	for i, s := range Symbols {
		states[i] = &state{Symbol: s, price: s.Price}
		total += s.Weight
	}
	// Trade times: uniform over the session, denser at the open and close
	// (a U-shaped intraday profile), sorted.
	times := make([]int64, n)
	for i := range times {
		u := r.Float64()
		// U shape: mix a uniform with mass near both ends.
		if r.Float64() < 0.35 {
			u = math.Pow(u, 3)
			if r.Float64() < 0.5 {
				u = 1 - u
			}
		}
		times[i] = open.UnixMilli() + int64(u*float64(session.Milliseconds()-1))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	rows := make([]Row, 0, n)
	for i := 0; i < n; i++ {
		// Pick the symbol by weight.
		x, si := r.Float64()*total, 0
		for si < len(states)-1 && x > states[si].Weight {
			x -= states[si].Weight
			si++
		}
		s := states[si]
		ts := times[i]
		// Bursts: a sweep of the book prints several trades in the same
		// millisecond at neighbouring prices.
		burst := 1
		if r.Float64() < 0.08 {
			burst = 2 + r.IntN(6)
		}
		for b := 0; b < burst && len(rows) < n; b++ {
			s.price = math.Max(s.Tick, s.price*(1+r.NormFloat64()*0.0004))
			price := math.Round(s.price/s.Tick) * s.Tick
			spread := s.Tick * float64(1+r.IntN(3))
			vol := int64(100 * (1 + r.IntN(10)))
			if r.Float64() < 0.3 {
				vol = int64(1 + r.IntN(99)) // odd lot
			}
			p := marketdata.Point{
				Symbol: s.Name, Timestamp: ts, Price: round(price, s.Tick), Volume: marketdata.Units(uint64(vol)),
				Bid: round(price-spread/2, s.Tick), Ask: round(price+spread/2, s.Tick),
				Exchange: exchanges[r.IntN(len(exchanges))],
			}
			if p.Bid <= 0 {
				p.Bid = 0
			}
			rows = append(rows, Row{Point: p})
			if b > 0 {
				i++
			}
		}
	}
	if badEvery > 0 {
		nbad := max(1, len(rows)/badEvery)
		for k := 0; k < nbad; k++ {
			at := r.IntN(len(rows) + 1)
			rows = append(rows[:at], append([]Row{badRow(r, k, open)}, rows[at:]...)...)
		}
	}
	return rows
}

func round(v, tick float64) float64 {
	d := 2
	if tick >= 0.5 {
		d = 1
	}
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// badRow returns one of the bad rows real feeds contain.
func badRow(r *rand.Rand, k int, open time.Time) Row {
	ts := open.UnixMilli() + int64(r.IntN(390*60*1000))
	t := strconv.FormatInt(ts, 10)
	switch k % 6 {
	case 0:
		return Row{Bad: true, Why: "negative price", BadCSV: "AAPL," + t + ",-189.50,100,,,XNAS",
			BadJSON: `{"symbol":"AAPL","timestamp":` + t + `,"price":-189.5,"volume":100}`}
	case 1:
		return Row{Bad: true, Why: "lower-case symbol", BadCSV: "msft," + t + ",415.20,200,,,XNAS",
			BadJSON: `{"symbol":"msft","timestamp":` + t + `,"price":415.2,"volume":200}`}
	case 2:
		return Row{Bad: true, Why: "bid above ask", BadCSV: "TSLA," + t + ",251.40,100,251.60,251.30,BATS",
			BadJSON: `{"symbol":"TSLA","timestamp":` + t + `,"price":251.4,"volume":100,"bid":251.6,"ask":251.3}`}
	case 3:
		return Row{Bad: true, Why: "missing price", BadCSV: "NVDA," + t + ",,300,,,XNAS",
			BadJSON: `{"symbol":"NVDA","timestamp":` + t + `,"volume":300}`}
	case 4:
		return Row{Bad: true, Why: "NaN price", BadCSV: "SPY," + t + ",NaN,100,,,ARCX",
			BadJSON: `{"symbol":"SPY","timestamp":` + t + `,"price":"NaN","volume":100}`}
	default:
		fut := strconv.FormatInt(time.Now().Add(72*time.Hour).UnixMilli(), 10)
		return Row{Bad: true, Why: "timestamp 3 days in the future", BadCSV: "AAPL," + fut + ",189.50,100,,,XNAS",
			BadJSON: `{"symbol":"AAPL","timestamp":` + fut + `,"price":189.5,"volume":100}`}
	}
}

// SessionOpen returns the open (13:30 UTC, 09:30 New York in summer) of the
// latest session that has begun by now.
func SessionOpen(now time.Time) time.Time {
	now = now.UTC()
	open := time.Date(now.Year(), now.Month(), now.Day(), 13, 30, 0, 0, time.UTC)
	if open.After(now) {
		open = open.AddDate(0, 0, -1)
	}
	return open
}

// CSVHeader is the header line of the CSV format.
const CSVHeader = "symbol,timestamp,price,volume,bid,ask,exchange"

// CSV renders a row as a CSV line (no newline).
func (r Row) CSV() string {
	if r.Bad {
		return r.BadCSV
	}
	p := r.Point
	return fmt.Sprintf("%s,%d,%s,%s,%s,%s,%s", p.Symbol, p.Timestamp, num(p.Price), p.Volume, optNum(p.Bid), optNum(p.Ask), p.Exchange)
}

// JSON renders a row as a JSON object (no newline).
func (r Row) JSON() string {
	if r.Bad {
		return r.BadJSON
	}
	p := r.Point
	s := fmt.Sprintf(`{"symbol":%q,"timestamp":%d,"price":%s,"volume":%s`, p.Symbol, p.Timestamp, num(p.Price), p.Volume)
	if p.Bid > 0 {
		s += `,"bid":` + num(p.Bid)
	}
	if p.Ask > 0 {
		s += `,"ask":` + num(p.Ask)
	}
	if p.Exchange != "" {
		s += fmt.Sprintf(`,"exchange":%q`, p.Exchange)
	}
	return s + "}"
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optNum(v float64) string {
	if v == 0 {
		return ""
	}
	return num(v)
}
