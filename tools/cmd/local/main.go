// Command local runs the whole pipeline on this machine: moto, each
// function's real bootstrap under the Lambda Runtime Interface Emulator, the
// triggers and the REST API, all read from the offline synth
// (build/synth/*.json). It loads a generated trading day (or --file) through
// S3 and through the API, waits until the aggregates are written, and prints
// a summary with throughput, latency and AWS request counts. `go run mage.go
// local` runs it after building and synthesizing.
//
//	go run ./tools/cmd/local [--points N] [--file PATH] [--serve] [--schedule-every D]
//	                         [--synth-dir DIR] [--build-dir DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/marketanalytics/pipeline/tools/internal/cli"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/triggers"
)

type options struct {
	file          string
	points        int
	serve         bool
	scheduleEvery time.Duration
	synthDir      string
	buildDir      string
	apiShare      float64
	instances     int
	timeout       time.Duration
	seed          uint64
	verbose       bool
	fastQuery     bool
	retryAfter    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.file, "file", "", "load this CSV / NDJSON / JSON array file (optionally .gz) instead of a generated day; it goes through S3")
	flag.IntVar(&o.points, "points", 20000, "points of the generated trading day")
	flag.BoolVar(&o.serve, "serve", false, "keep the pipeline running after the load, for manual use (Ctrl-C stops it)")
	flag.DurationVar(&o.scheduleEvery, "schedule-every", 0, "fire the schedule rules this often instead of their rate (e.g. 30s); 0 keeps rate(5 minutes)")
	pipeline.DirFlags(flag.CommandLine, &o.synthDir, &o.buildDir)
	flag.Float64Var(&o.apiShare, "api-share", 0.1, "share of the generated points sent through POST /ingest (the rest goes through S3)")
	flag.IntVar(&o.instances, "instances", 1, "emulators per function (the local concurrency of each function); moto is one Python process, and more than one processor at a time overloads it on large loads (the processor then hits its timeout)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up waiting for the aggregates after this long")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated day")
	flag.BoolVar(&o.fastQuery, "moto-fast-query", true, "load motoserver's DynamoDB Query shim into moto (same answers; a Query no longer reads the whole table)")
	flag.DurationVar(&o.retryAfter, "retry-after", 0, "make messages of a failed SQS batch visible again after this long instead of the queue's visibility timeout; 0 keeps AWS's timing")
	flag.BoolVar(&o.verbose, "v", false, "print the glue's log (deliveries, failures) to stderr")
	cli.Main("local", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	cfg := pipeline.Config{
		SynthDir: o.synthDir, BuildDir: o.buildDir, Instances: o.instances, Progress: os.Stdout,
		Triggers:  triggers.Options{ScheduleEvery: o.scheduleEvery, RetryVisibility: o.retryAfter},
		FastQuery: o.fastQuery,
	}
	if o.verbose {
		cfg.Triggers.Log = os.Stderr
	}
	p, err := pipeline.Start(ctx, cfg)
	// Stop on every path: the end of the run, an error, Ctrl-C.
	defer p.Stop()
	if err != nil {
		return err
	}
	fmt.Print(p.Describe())
	fmt.Printf("logs: %s\n\n", p.LogDir)

	res, err := load(ctx, p, o)
	if err != nil {
		return err
	}
	if err := summarize(ctx, p, o, res); err != nil {
		return err
	}
	if err := writeCharts(ctx, p, o, res); err != nil {
		return err
	}
	if err := saveMeasured(p, o, res); err != nil {
		return err
	}
	if res.incomplete {
		return fmt.Errorf("incomplete: messages reached the DLQ and the aggregates miss points (see %s)", p.LogDir)
	}
	if !o.serve {
		return nil
	}
	serveHelp(p)
	<-ctx.Done()
	fmt.Println("\nlocal: stopping")
	return nil
}
