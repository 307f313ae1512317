// Package chart draws a symbol's windows as a self-contained HTML page: an
// inline SVG candlestick chart with volume bars, no script, no external
// font or style. The windows are read through the API (GET
// /aggregates/{symbol}, SigV4-signed), from a deployed stack or the local
// pipeline alike (`go run mage.go chart`, `go run mage.go local`).
package chart

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

// IntervalParam is GET /aggregates' query parameter for windows larger than
// five minutes (the route table's). It is sent only when an interval is
// asked for, so a chart also works against an API that does not know it.
const IntervalParam = marketdata.APIQueryInterval

// Query selects a symbol's windows. Empty fields are left to the API's
// defaults (five-minute windows, the last 24 hours); From and To are passed
// as given (epoch milliseconds or RFC 3339, as the API takes them).
type Query struct {
	Symbol, Interval, From, To string
}

// URL is the request's URL under aggregatesURL (the API's GET
// /aggregates/{symbol} URL without the symbol).
func (q Query) URL(aggregatesURL string) string {
	v := url.Values{}
	for _, p := range []struct{ name, value string }{
		{marketdata.APIQueryFrom, q.From}, {marketdata.APIQueryTo, q.To}, {IntervalParam, q.Interval}} {
		if p.value != "" {
			v.Set(p.name, p.value)
		}
	}
	u := strings.TrimSuffix(aggregatesURL, "/") + "/" + url.PathEscape(q.Symbol)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// Fetch reads the windows q selects through the API, signed with c's
// credentials.
func Fetch(ctx context.Context, c smoke.Clients, aggregatesURL string, q Query) ([]marketdata.Aggregate, error) {
	if q.Symbol == "" {
		return nil, errors.New("no symbol to chart")
	}
	u := q.URL(aggregatesURL)
	status, body, err := smoke.Send(ctx, c, time.Now(), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", u, status, clip(body))
	}
	var ws []marketdata.Aggregate
	if err := json.Unmarshal(body, &ws); err != nil {
		return nil, fmt.Errorf("GET %s: expected a JSON array of windows, saw %s: %w", u, clip(body), err)
	}
	return ws, nil
}

func clip(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Colours of rising (close ≥ open) and falling windows, for the candle and
// its volume bar.
const (
	Up   = "#1b9e77"
	Down = "#d95f02"
)

// Layout of the SVG, in its user units.
const (
	Width       = 1000
	Height      = 560
	left, right = 80, 20
	// The price panel spans [PriceTop, PriceBottom], the volume panel
	// [VolumeTop, VolumeBottom]; the highest high touches PriceTop, the
	// lowest low PriceBottom, the largest volume VolumeTop.
	PriceTop     = 50
	PriceBottom  = 380
	VolumeTop    = 410
	VolumeBottom = 520
	// bodyShare is the share of a window's width its candle body takes.
	bodyShare = 0.7
	// minBody is the least height of a candle body.
	minBody = 1
)

// Render writes the page of windows (any order; at least one) under title.
func Render(w io.Writer, title string, windows []marketdata.Aggregate) error {
	if len(windows) == 0 {
		return fmt.Errorf("%s: no windows to chart", title)
	}
	ws := slices.Clone(windows)
	slices.SortFunc(ws, func(a, b marketdata.Aggregate) int { return cmp.Compare(a.WindowStart, b.WindowStart) })
	t0, t1 := ws[0].WindowStart, ws[len(ws)-1].WindowEnd
	// Volumes are exact decimals: the bars scale by their float values,
	// the axis shows the largest one's digits.
	lo, hi, vmax, vmaxText := math.Inf(1), math.Inf(-1), 0.0, marketdata.Decimal("0")
	for _, a := range ws {
		if a.WindowEnd <= a.WindowStart {
			return fmt.Errorf("%s: window %d ends at %d, not after its start", title, a.WindowStart, a.WindowEnd)
		}
		if v, _ := a.Volume.Float64(); v > vmax {
			vmax, vmaxText = v, a.Volume
		}
		if a.High > 0 { // a window whose trades' conditions set no price has none to chart
			lo, hi = math.Min(lo, a.Low), math.Max(hi, a.High)
		}
	}
	if math.IsInf(lo, 1) { // no window has prices: an empty scale
		lo, hi = 0, 1
	}
	if hi == lo { // one price throughout: centre it
		lo, hi = lo-0.5, hi+0.5
	}
	x := func(ms int64) float64 { return left + float64(ms-t0)/float64(t1-t0)*(Width-left-right) }
	y := func(p float64) float64 { return PriceTop + (hi-p)/(hi-lo)*(PriceBottom-PriceTop) }
	vh := func(v marketdata.Decimal) float64 {
		if vmax == 0 {
			return 0
		}
		f, _ := v.Float64()
		return f / vmax * (VolumeBottom - VolumeTop)
	}

	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{margin:16px;font-family:sans-serif;color:#222}svg{max-width:100%%;height:auto}</style></head>
<body>
`, esc(title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="12">
`, Width, Height, Width, Height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16">%s</text>
`, left, esc(fmt.Sprintf("%s — %d windows, %s to %s UTC", title, len(ws), stamp(t0), stamp(t1))))
	// Price grid: five levels from the lowest low to the highest high,
	// labelled to one digit finer than their spacing.
	decimals := min(12, max(0, int(math.Ceil(-math.Log10((hi-lo)/4)))+1))
	for i := range 5 {
		p := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s" stroke="#ddd"/><text x="%d" y="%s" text-anchor="end">%s</text>
`, left, Width-right, f(y(p)), f(y(p)), left-6, f(y(p)+4), strconv.FormatFloat(p, 'f', decimals, 64))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>
`, left-6, VolumeTop+10, esc(vmaxText.String()))
	for _, t := range []int64{t0, t1} {
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>
`, f(x(t)), VolumeBottom+20, stamp(t))
	}
	for _, a := range ws {
		colour := Down
		if a.Close >= a.Open {
			colour = Up
		}
		if a.High == 0 {
			// No trade could set a price (see the README's Trade
			// conditions): no candle, the volume bar only.
			h := vh(a.Volume)
			xl, xr := x(a.WindowStart), x(a.WindowEnd)
			bw := (xr - xl) * bodyShare
			fmt.Fprintf(&b, `<rect class="volume" data-start="%d" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.6"/>
`, a.WindowStart, f(xl+(xr-xl-bw)/2), f(VolumeBottom-h), f(bw), f(h), colour)
			continue
		}
		vwap := fmt.Sprint(a.VWAP)
		if a.VWAPUnknown { // a bar without VWAP (README, Bars): none to show
			vwap = "unknown"
		}
		tip := fmt.Sprintf("%s: open %v high %v low %v close %v volume %s VWAP %s trades %d",
			stamp(a.WindowStart), a.Open, a.High, a.Low, a.Close, a.Volume, vwap, a.Trades)
		if a.Open == 0 {
			// High and low without open and close: the wick alone (a body
			// of no height at the middle of the range).
			a.Open, a.Close = (a.High+a.Low)/2, (a.High+a.Low)/2
		}
		xl, xr := x(a.WindowStart), x(a.WindowEnd)
		bw := (xr - xl) * bodyShare
		bx, cx := xl+(xr-xl-bw)/2, (xl+xr)/2
		top, bottom := y(math.Max(a.Open, a.Close)), y(math.Min(a.Open, a.Close))
		if bottom-top < minBody { // open = close: a thin bar, still visible
			top, bottom = (top+bottom-minBody)/2, (top+bottom+minBody)/2
		}
		fmt.Fprintf(&b, `<g class="candle" data-start="%d" data-end="%d"><title>%s</title><line class="wick" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s"/><rect class="body" x="%s" y="%s" width="%s" height="%s" fill="%s"/></g>
`, a.WindowStart, a.WindowEnd, esc(tip), f(cx), f(cx), f(y(a.High)), f(y(a.Low)), colour,
			f(bx), f(top), f(bw), f(bottom-top), colour)
		h := vh(a.Volume)
		fmt.Fprintf(&b, `<rect class="volume" data-start="%d" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.6"/>
`, a.WindowStart, f(bx), f(VolumeBottom-h), f(bw), f(h), colour)
	}
	b.WriteString("</svg>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// f formats a coordinate; a hundredth of a unit is finer than any screen.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04") }

// Write fetches q's windows and writes their page to path (creating its
// directory), returning path and the number of windows drawn.
func Write(ctx context.Context, c smoke.Clients, aggregatesURL string, q Query, path string) (string, int, error) {
	ws, err := Fetch(ctx, c, aggregatesURL, q)
	if err != nil {
		return "", 0, err
	}
	if len(ws) == 0 {
		return "", 0, fmt.Errorf("GET %s answered no windows: nothing to chart (is the range right? without --from and --to it is the last 24 hours)", q.URL(aggregatesURL))
	}
	title := q.Symbol
	if q.Interval != "" {
		title += " " + q.Interval
	}
	var b strings.Builder
	if err := Render(&b, title, ws); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", 0, err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", 0, err
	}
	return path, len(ws), nil
}
