package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/marketanalytics/pipeline/tools/internal/chart"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

// chartSpan is how much of a symbol's windows its chart shows: the last day
// of them (a generated trading day whole; a long --file's last day).
const chartSpan = 24 * time.Hour

// writeCharts writes one chart per aggregated symbol into
// <build dir>/local/charts, read through the local API as a user would, and
// prints their paths.
func writeCharts(ctx context.Context, p *pipeline.Pipeline, o options, res *loadResult) error {
	t, c, err := smoke.LocalTarget(p)
	if err != nil {
		return err
	}
	syms := make([]string, 0, len(res.windows))
	for s, ws := range res.windows {
		if len(ws) > 0 {
			syms = append(syms, s)
		}
	}
	sort.Strings(syms)
	dir := filepath.Join(o.buildDir, "local", "charts")
	fmt.Printf("\n== charts (%s)\n", dir)
	for _, s := range syms {
		ws := res.windows[s]
		first, last := ws[0].WindowStart, ws[0].WindowEnd
		for _, a := range ws {
			first, last = min(first, a.WindowStart), max(last, a.WindowEnd)
		}
		first = max(first, last-chartSpan.Milliseconds())
		q := chart.Query{Symbol: s, From: strconv.FormatInt(first, 10), To: strconv.FormatInt(last, 10)}
		path, n, err := chart.Write(ctx, c, t.AggregatesURL, q, filepath.Join(dir, s+".html"))
		if err != nil {
			return fmt.Errorf("chart of %s: %w", s, err)
		}
		fmt.Printf("  %-8s %4d windows  %s\n", s, n, path)
	}
	return nil
}
