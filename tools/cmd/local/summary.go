package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/countproxy"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

func summarize(ctx context.Context, p *pipeline.Pipeline, o options, res *loadResult) error {
	var stored, trades int64
	syms := make([]string, 0, len(res.aggTrades))
	for s, n := range res.aggTrades {
		trades += n
		stored += res.stored[s]
		syms = append(syms, s)
	}
	sort.Strings(syms)
	counted := len(res.stored) > 0
	if !counted {
		stored = trades
	}
	fmt.Println("\n== summary")
	if res.generated > 0 {
		fmt.Printf("rows sent:        %d (%d bad on purpose), %d S3 objects and %d POST /ingest requests\n",
			res.generated, res.badRows, len(res.objects), res.apiRequests)
	}
	how := "counted in the table"
	if !counted {
		how = "Σ trades of the aggregates; too many to count with plain moto's Query"
	}
	fmt.Printf("points stored:    %d (%s), accepted %d, aggregated %d", stored, how, res.expected, trades)
	if stored == res.expected && trades == res.expected {
		fmt.Println(" ✓")
	} else {
		fmt.Println(" ✗ MISMATCH")
	}
	var rejected int
	for _, n := range res.rejections {
		rejected += n
	}
	fmt.Printf("rejected:         %d\n", rejected)
	reasons := make([]string, 0, len(res.rejections))
	for r := range res.rejections {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Printf("  %5d  %s\n", res.rejections[r], r)
	}
	for _, s := range res.rejectionSamples {
		fmt.Printf("         e.g. %s\n", s)
	}
	var windows int
	for _, s := range syms {
		windows += len(res.windows[s])
	}
	fmt.Printf("windows:          %d five-minute windows aggregated over %d symbols\n", windows, len(syms))
	if lin, err := measureLinearity(ctx, p, res.start, syms, stored); err != nil {
		fmt.Printf("read amplification: not measured (%v)\n", err)
	} else {
		fmt.Print(lin)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "symbol\twindow (UTC)\topen\thigh\tlow\tclose\tvolume\tVWAP\ttrades\t")
	for i, s := range syms {
		if i >= 3 {
			break
		}
		aggs := res.windows[s]
		for j := 0; j < len(aggs) && j < 3; j++ {
			a := aggs[len(aggs)/2+j-1+boolInt(len(aggs) < 3)]
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.4f\t%d\t\n", s,
				time.UnixMilli(a.WindowStart).UTC().Format("15:04")+"–"+time.UnixMilli(a.WindowEnd).UTC().Format("15:04"),
				a.Open, a.High, a.Low, a.Close, a.Volume, a.VWAP, a.Trades)
		}
	}
	tw.Flush()
	dlq, err := p.QueueURL(outputs.DLQArn)
	if err != nil {
		return err
	}
	depth, err := p.QueueDepth(ctx, dlq, true)
	if err != nil {
		return err
	}
	fmt.Printf("DLQ depth:        %d\n", depth)

	fmt.Println("\n== measurements")
	stor := res.storedAt.Sub(res.start)
	agg := res.aggregatedAt.Sub(res.start)
	fmt.Printf("throughput:       %.0f points/s stored (%d in %s, until the processing queue was empty), %.0f points/s aggregated (in %s)\n",
		float64(res.expected)/stor.Seconds(), res.expected, stor.Round(time.Millisecond), float64(res.expected)/agg.Seconds(), agg.Round(time.Millisecond))
	fmt.Println("                  (from the first upload until done, checked every 2 s)")
	for _, loaded := range []bool{true, false} {
		var rd, ag []time.Duration
		for _, pr := range res.probes {
			if pr.underLoad == loaded {
				rd = append(rd, pr.readable)
				ag = append(ag, pr.aggregated)
			}
		}
		if len(rd) == 0 {
			continue
		}
		when := "idle pipeline, after the load"
		if loaded {
			when = fmt.Sprintf("during the load, one every %s, queueing behind the backlog", probeEvery)
		}
		fmt.Printf("latency, %d probes (%s):\n", len(rd), when)
		fmt.Printf("  POST /ingest → readable in the table:  p50 %s  p99 %s\n", percentile(rd, .5).Round(time.Millisecond), percentile(rd, .99).Round(time.Millisecond))
		fmt.Printf("  POST /ingest → window aggregated:      p50 %s  p99 %s\n", percentile(ag, .5).Round(time.Millisecond), percentile(ag, .99).Round(time.Millisecond))
	}
	fmt.Printf("AWS requests (per caller; \"client\" is this loader and its polling, \"glue\" the local Lambda/EventBridge plumbing):\n")
	fmt.Print(countproxy.Table(p.Proxy.Counts(), res.expected))
	fmt.Print(perService(p.Proxy.Counts(), res.expected))

	fmt.Println("\n== endpoints")
	stage, err := p.StageURL()
	if err == nil {
		fmt.Printf("API:   %s  (routes: %s)\n", stage, routes(p))
	}
	fmt.Printf("AWS:   %s  (moto behind the counting proxy; bucket %s, table %s)\n", p.Endpoint, p.Bucket(), p.Table())
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// perService sums the functions' and the glue's requests per service (the
// pipeline's own cost, without the loader's polling), per million points.
func perService(counts map[countproxy.Key]int64, points int64) string {
	sum := map[string]int64{}
	for k, v := range counts {
		if k.Caller == "client" {
			continue
		}
		sum[k.Service] += v
	}
	svcs := make([]string, 0, len(sum))
	for s := range sum {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	var b strings.Builder
	b.WriteString("per service (functions + glue), per million points:")
	for _, s := range svcs {
		fmt.Fprintf(&b, "  %s %.0f", s, float64(sum[s])*1e6/float64(max(points, 1)))
	}
	b.WriteString("\n")
	return b.String()
}

func routes(p *pipeline.Pipeline) string {
	var rs []string
	for _, api := range p.APIs {
		for _, r := range api.Routes {
			rs = append(rs, r.Method+" "+r.Path+" ("+r.Authorization+")")
		}
	}
	return strings.Join(rs, ", ")
}

func serveHelp(p *pipeline.Pipeline) {
	stage, _ := p.StageURL()
	now := time.Now().UnixMilli()
	fmt.Printf(`
== serving (Ctrl-C stops moto, the emulators and the API)
The local credentials are testing / testing (region us-east-1).

  # signed POST /ingest (curl ≥ 7.75)
  curl --aws-sigv4 "aws:amz:us-east-1:execute-api" --user testing:testing \
    -H 'Content-Type: application/json' \
    -d '{"points":[{"symbol":"AAPL","timestamp":%d,"price":190.12,"volume":300}]}' \
    %s/ingest

  # aggregates of a symbol
  curl --aws-sigv4 "aws:amz:us-east-1:execute-api" --user testing:testing %s/aggregates/AAPL

  # a file through S3 (triggers ingestion like the bucket notification does)
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    aws s3 cp trades.csv s3://%s/incoming/trades.csv --endpoint-url %s

  # the operator's view and the dead-letter queue (also dlq:show, dlq:redrive, replay)
  go run mage.go status --endpoint %s --lambda-endpoint %s
  go run mage.go dlq:list --endpoint %s --lambda-endpoint %s

`, now, stage, stage, p.Bucket(), p.Endpoint, p.Endpoint, p.LambdaEndpoint, p.Endpoint, p.LambdaEndpoint)
}
