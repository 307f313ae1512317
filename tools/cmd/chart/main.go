// Command chart writes a self-contained HTML page (inline SVG candlesticks
// and volume bars) of a symbol's windows, read through the API: the
// deployed stack's (its outputs through `pulumi stack output`, your AWS
// credentials) or, with --endpoint, a local pipeline's (`go run mage.go
// local --serve` prints its API URL; the local credentials).
//
//	go run ./tools/cmd/chart SYMBOL [--interval 1h] [--from T] [--to T] [--out FILE]
//	                         [--stack NAME | --endpoint URL]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/chart"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

type options struct {
	q                          chart.Query
	out, stack, stacksDir, api string
}

func main() {
	o, err := parseArgs(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// parseArgs reads one symbol and the flags, before or after it.
func parseArgs(args []string, usage io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: chart SYMBOL [flags] (flags before or after the symbol)")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.q.Interval, "interval", "", "window size asked of the API, one of "+strings.Join(marketdata.IntervalNames(), ", ")+"; empty: the API's default")
	fs.StringVar(&o.q.From, "from", "", "start, epoch ms or RFC 3339; empty: the API's default (24 hours before --to)")
	fs.StringVar(&o.q.To, "to", "", "end (exclusive), epoch ms or RFC 3339; empty: now")
	fs.StringVar(&o.out, "out", "", "the HTML file to write (default build/charts/SYMBOL.html)")
	fs.StringVar(&o.stack, "stack", envOr("STACK", "dev"), "the deployed stack to read (default $STACK, else dev)")
	fs.StringVar(&o.stacksDir, "stacks-dir", "stacks", "directory of the Pulumi projects, for --stack")
	fs.StringVar(&o.api, "endpoint", "", "a local pipeline's API stage URL (e.g. http://127.0.0.1:PORT/prod) instead of the deployed stack")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return options{}, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 1 {
		fs.Usage()
		return options{}, fmt.Errorf("want one symbol, got %q", pos)
	}
	o.q.Symbol = pos[0]
	if !marketdata.ValidSymbol(o.q.Symbol) { // also keeps the default --out inside build/charts
		return options{}, fmt.Errorf("%q is not a symbol (A-Z 0-9 . -, as the pipeline stores them)", o.q.Symbol)
	}
	if o.q.Interval != "" {
		if _, err := marketdata.ParseInterval(o.q.Interval); err != nil {
			return options{}, err
		}
	}
	if o.out == "" {
		o.out = filepath.Join("build", "charts", o.q.Symbol+".html")
	}
	return o, nil
}

func run(ctx context.Context, o options) error {
	var aggregatesURL string
	var c smoke.Clients
	if o.api != "" {
		aggregatesURL = strings.TrimSuffix(o.api, "/") + "/" + marketdata.APIAggregatesPart
		c = smoke.Clients{HTTP: &http.Client{Timeout: 30 * time.Second}, Credentials: awsx.Credentials(), Region: naming.Region}
	} else {
		t, err := smoke.StackTarget(ctx, smoke.ExecRunner, o.stacksDir, o.stack)
		if err != nil {
			return err
		}
		if c, err = smoke.AWSClients(ctx); err != nil {
			return err
		}
		aggregatesURL = t.AggregatesURL
	}
	path, n, err := chart.Write(ctx, c, aggregatesURL, o.q, o.out)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d windows\n", path, n)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
