package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

// svgDoc is the part of the SVG the tests read back.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	ViewBox string   `xml:"viewBox,attr"`
	Groups  []struct {
		Class string  `xml:"class,attr"`
		Start int64   `xml:"data-start,attr"`
		End   int64   `xml:"data-end,attr"`
		Wick  svgLine `xml:"line"`
		Body  svgRect `xml:"rect"`
	} `xml:"g"`
	Rects []svgRect `xml:"rect"`
}

type svgLine struct {
	Class  string  `xml:"class,attr"`
	X1     float64 `xml:"x1,attr"`
	X2     float64 `xml:"x2,attr"`
	Y1     float64 `xml:"y1,attr"`
	Y2     float64 `xml:"y2,attr"`
	Stroke string  `xml:"stroke,attr"`
}

type svgRect struct {
	Class  string  `xml:"class,attr"`
	Start  int64   `xml:"data-start,attr"`
	X      float64 `xml:"x,attr"`
	Y      float64 `xml:"y,attr"`
	Width  float64 `xml:"width,attr"`
	Height float64 `xml:"height,attr"`
	Fill   string  `xml:"fill,attr"`
}

// parse checks that the page is self-contained and returns its SVG.
func parse(t *testing.T, page string) svgDoc {
	t.Helper()
	for _, banned := range []string{"<script", "<link", "@import", "@font-face", "src=", "href="} {
		if strings.Contains(page, banned) {
			t.Fatalf("the page is not self-contained: it has %q", banned)
		}
	}
	i, j := strings.Index(page, "<svg"), strings.LastIndex(page, "</svg>")
	if i < 0 || j < i {
		t.Fatalf("no inline SVG in the page:\n%s", page)
	}
	var doc svgDoc
	if err := xml.Unmarshal([]byte(page[i:j+len("</svg>")]), &doc); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v", err)
	}
	return doc
}

// walk makes n consecutive windows of size step from a random walk, with
// gaps when gaps is set.
func walk(r *rand.Rand, n int, step int64, gaps bool) []marketdata.Aggregate {
	var ws []marketdata.Aggregate
	start, price := int64(1772463600000), 100.0
	for range n {
		o := price
		c := math.Round((o+(r.Float64()-0.5)*4)*100) / 100
		hi := math.Max(o, c) + math.Round(r.Float64()*100)/100
		lo := math.Min(o, c) - math.Round(r.Float64()*100)/100
		ws = append(ws, marketdata.Aggregate{WindowStart: start, WindowEnd: start + step, Open: o, High: hi, Low: lo, Close: c, Volume: marketdata.Units(r.Uint64N(10000))})
		price = c
		start += step
		if gaps && r.IntN(4) == 0 {
			start += step * int64(1+r.IntN(5)) // a closed market
		}
	}
	return ws
}

func TestRender(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const m5, h1 = 5 * 60_000, 3_600_000
	flat := []marketdata.Aggregate{{WindowStart: 0, WindowEnd: m5, Open: 10, High: 10, Low: 10, Close: 10, Volume: "0"}}
	tests := []struct {
		name    string
		windows []marketdata.Aggregate
	}{
		{"a trading day of 5-minute windows", walk(r, 78, m5, false)},
		{"hours with gaps", walk(r, 40, h1, true)},
		{"one window", walk(r, 1, m5, false)},
		{"one price, no volume", flat},
		{"two windows, one up one down", []marketdata.Aggregate{
			{WindowStart: 2 * m5, WindowEnd: 3 * m5, Open: 5, High: 6, Low: 4, Close: 4.5, Volume: "10"},
			{WindowStart: m5, WindowEnd: 2 * m5, Open: 5, High: 5.5, Low: 4.8, Close: 5.25, Volume: "30"}}},
		// Sale conditions: a window without any price (no candle, its
		// volume bar only) and one with high and low but no open or close.
		{"windows without prices", []marketdata.Aggregate{
			{WindowStart: 0, WindowEnd: m5, Open: 5, High: 6, Low: 4, Close: 4.5, Volume: "10"},
			{WindowStart: m5, WindowEnd: 2 * m5, Volume: "40"},
			{WindowStart: 2 * m5, WindowEnd: 3 * m5, High: 7, Low: 5, Volume: "20"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, "TEST", tc.windows); err != nil {
				t.Fatal(err)
			}
			doc := parse(t, buf.String())
			if doc.ViewBox != "0 0 "+strconv.Itoa(Width)+" "+strconv.Itoa(Height) {
				t.Errorf("viewBox %q", doc.ViewBox)
			}
			byStart := map[int64]marketdata.Aggregate{}
			lo, hi, vmax := math.Inf(1), math.Inf(-1), 0.0
			priced := 0
			for _, a := range tc.windows {
				v, _ := a.Volume.Float64()
				vmax = max(vmax, v)
				if a.High == 0 {
					continue // no candle
				}
				if a.Open == 0 { // a wick alone
					a.Open, a.Close = (a.High+a.Low)/2, (a.High+a.Low)/2
				}
				byStart[a.WindowStart] = a
				lo, hi = math.Min(lo, a.Low), math.Max(hi, a.High)
				priced++
			}
			if hi == lo {
				lo, hi = lo-0.5, hi+0.5
			}
			// The price scale, from the extents alone: the highest high at
			// PriceTop, the lowest low at PriceBottom.
			y := func(p float64) float64 { return PriceTop + (hi-p)/(hi-lo)*(PriceBottom-PriceTop) }
			var candles int
			prevRight := math.Inf(-1)
			top, bottom := math.Inf(1), math.Inf(-1)
			for _, g := range doc.Groups {
				if g.Class != "candle" {
					continue
				}
				candles++
				a, ok := byStart[g.Start]
				if !ok {
					t.Fatalf("a candle at %d, which is no window's start", g.Start)
				}
				delete(byStart, g.Start) // one candle per window
				want := Down
				if a.Close >= a.Open {
					want = Up
				}
				if g.Wick.Stroke != want || g.Body.Fill != want {
					t.Errorf("window %d (open %v close %v): wick %s, body %s, want %s", a.WindowStart, a.Open, a.Close, g.Wick.Stroke, g.Body.Fill, want)
				}
				near(t, "wick top (high)", g.Wick.Y1, y(a.High), 0.01)
				near(t, "wick bottom (low)", g.Wick.Y2, y(a.Low), 0.01)
				mid := (y(a.Open) + y(a.Close)) / 2
				h := math.Max(math.Abs(y(a.Open)-y(a.Close)), minBody)
				near(t, "body top", g.Body.Y, mid-h/2, 0.02)
				near(t, "body height", g.Body.Height, h, 0.02)
				// Candles in time order, inside the plot, the wick in the body's middle.
				if g.Body.X < prevRight || g.Body.X < left || g.Body.X+g.Body.Width > Width-right {
					t.Errorf("window %d: body [%v, %v] overlaps the previous candle (ends %v) or leaves the plot", a.WindowStart, g.Body.X, g.Body.X+g.Body.Width, prevRight)
				}
				near(t, "wick x", g.Wick.X1, g.Body.X+g.Body.Width/2, 0.02)
				prevRight = g.Body.X + g.Body.Width
				top, bottom = math.Min(top, g.Wick.Y1), math.Max(bottom, g.Wick.Y2)
			}
			if candles != priced || len(byStart) != 0 {
				t.Fatalf("%d candles for %d windows (without a candle: %v)", candles, len(tc.windows), byStart)
			}
			if flat := tc.windows[0].High == tc.windows[0].Low && len(tc.windows) == 1; !flat {
				near(t, "highest wick", top, PriceTop, 0.01)
				near(t, "lowest wick", bottom, PriceBottom, 0.01)
			}
			var bars int
			tallest := 0.0
			for _, v := range doc.Rects {
				if v.Class != "volume" {
					continue
				}
				bars++
				a := tc.windows[0]
				for _, w := range tc.windows {
					if w.WindowStart == v.Start {
						a = w
					}
				}
				if vmax > 0 {
					av, _ := a.Volume.Float64()
					near(t, "volume bar height", v.Height, av/vmax*(VolumeBottom-VolumeTop), 0.01)
				}
				near(t, "volume bar base", v.Y+v.Height, VolumeBottom, 0.01)
				tallest = math.Max(tallest, v.Height)
			}
			if bars != len(tc.windows) {
				t.Errorf("%d volume bars for %d windows", bars, len(tc.windows))
			}
			if vmax > 0 {
				near(t, "tallest volume bar", tallest, VolumeBottom-VolumeTop, 0.01)
			}
		})
	}
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, ws := range map[string][]marketdata.Aggregate{
		"no windows":   nil,
		"empty window": {{WindowStart: 5, WindowEnd: 5, Open: 1, High: 1, Low: 1, Close: 1}},
	} {
		if err := Render(&bytes.Buffer{}, "X", ws); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestFetch(t *testing.T) {
	ws := walk(rand.New(rand.NewPCG(3, 4)), 3, 300_000, false)
	var seen []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r)
		switch {
		case !strings.Contains(r.Header.Get("Authorization"), "/execute-api/aws4_request"):
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Path == "/prod/aggregates/BRK.B":
			_ = json.NewEncoder(w).Encode(ws)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"unknown symbol"}`))
		}
	}))
	defer srv.Close()
	c := smoke.Clients{HTTP: srv.Client(), Region: "us-east-1",
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("testing", "testing", ""))}
	base := srv.URL + "/prod/aggregates/"

	got, err := Fetch(context.Background(), c, base, Query{Symbol: "BRK.B", From: "1772463600000", To: "2026-03-03T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ws) || got[2] != ws[2] {
		t.Errorf("fetched %+v, served %+v", got, ws)
	}
	q := seen[0].URL.Query()
	if q.Get(marketdata.APIQueryFrom) != "1772463600000" || q.Get(marketdata.APIQueryTo) != "2026-03-03T00:00:00Z" || q.Has(IntervalParam) {
		t.Errorf("query %v: want from and to as given and no interval", q)
	}
	if _, err := Fetch(context.Background(), c, base, Query{Symbol: "BRK.B", Interval: "1h"}); err != nil {
		t.Fatal(err)
	}
	if q := seen[1].URL.Query(); q.Get(IntervalParam) != "1h" || q.Has(marketdata.APIQueryFrom) {
		t.Errorf("query %v: want the interval only", q)
	}
	_, err = Fetch(context.Background(), c, base, Query{Symbol: "NOPE"})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/NOPE") {
		t.Errorf("unknown symbol: error %v, want the 404 and the URL", err)
	}
	if _, err := Fetch(context.Background(), c, base, Query{}); err == nil {
		t.Error("no symbol: no error")
	}
}

func TestWrite(t *testing.T) {
	ws := walk(rand.New(rand.NewPCG(5, 6)), 4, 3_600_000, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/EMPTY") {
			w.Write([]byte("[]"))
			return
		}
		_ = json.NewEncoder(w).Encode(ws)
	}))
	defer srv.Close()
	c := smoke.Clients{HTTP: srv.Client(), Region: "us-east-1",
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("testing", "testing", ""))}
	path := filepath.Join(t.TempDir(), "charts", "X.html")
	got, n, err := Write(context.Background(), c, srv.URL+"/prod/aggregates", Query{Symbol: "X", Interval: "1h"}, path)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if got != path || n != len(ws) || strings.Count(string(page), `class="candle"`) != len(ws) {
		t.Errorf("wrote %s with %d windows (%d candles), want %s with %d", got, n, strings.Count(string(page), `class="candle"`), path, len(ws))
	}
	if _, _, err := Write(context.Background(), c, srv.URL+"/prod/aggregates", Query{Symbol: "EMPTY"}, path); err == nil || !strings.Contains(err.Error(), "/EMPTY") {
		t.Errorf("no windows: error %v, want one naming the request", err)
	}
}

// A window holding a bar without VWAP (README, Bars) says so in its
// candle's tooltip instead of showing a VWAP of 0.
func TestRenderVWAPUnknown(t *testing.T) {
	w := marketdata.Aggregate{Symbol: "AAPL", WindowStart: 1_717_162_200_000, WindowEnd: 1_717_162_500_000, Open: 191.29, High: 191.5,
		Low: 191.1, Close: 191.42, Volume: "120345", VWAPUnknown: true, Trades: 1523, FirstTs: 1_717_162_200_000, LastTs: 1_717_162_499_999}
	known := w
	known.WindowStart, known.WindowEnd, known.VWAPUnknown, known.VWAP = w.WindowEnd, w.WindowEnd+300_000, false, 191.3312
	var b strings.Builder
	if err := Render(&b, "AAPL", []marketdata.Aggregate{w, known}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "VWAP unknown trades 1523") || !strings.Contains(b.String(), "VWAP 191.3312 trades") ||
		strings.Contains(b.String(), "VWAP 0 ") {
		t.Fatalf("tooltips: %s", b.String())
	}
}
