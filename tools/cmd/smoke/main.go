// Command smoke proves a running pipeline end to end (see package
// tools/internal/smoke for the steps). `go run mage.go smoke` runs it.
//
//	go run ./tools/cmd/smoke [--stack dev] [--stacks-dir stacks]      # the deployed stack, with your AWS credentials
//	go run ./tools/cmd/smoke --local [--synth-dir build/synth] [--build-dir build]  # a local pipeline started for the run
//
// It exits 1 when a step fails, naming what was expected and what was seen.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/marketanalytics/pipeline/tools/internal/cli"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

type options struct {
	stack, stacksDir   string
	local              bool
	synthDir, buildDir string
	timeout, pollEvery time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.stack, "stack", envOr("STACK", "dev"), "the deployed stack to test (default $STACK, else dev)")
	flag.StringVar(&o.stacksDir, "stacks-dir", "stacks", "directory of the four Pulumi projects (their outputs are read with `pulumi stack output --json`)")
	flag.BoolVar(&o.local, "local", false, "start the local pipeline from --synth-dir and --build-dir and test it instead of AWS")
	pipeline.DirFlags(flag.CommandLine, &o.synthDir, &o.buildDir) // for --local
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "how long each waiting step (aggregates, report) may take")
	flag.DurationVar(&o.pollEvery, "poll", 2*time.Second, "pause between polls")
	cli.Main("smoke", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	opts := smoke.Options{Out: os.Stdout, Timeout: o.timeout, PollEvery: o.pollEvery}
	if o.local {
		p, err := pipeline.Start(ctx, pipeline.Config{SynthDir: o.synthDir, BuildDir: o.buildDir, Instances: 1, Progress: os.Stdout})
		defer p.Stop()
		if err != nil {
			return err
		}
		t, c, err := smoke.LocalTarget(p)
		if err != nil {
			return err
		}
		fmt.Printf("local pipeline: API %s, moto %s, logs %s\n", t.IngestURL, p.Moto.Endpoint(), p.LogDir)
		return smoke.Run(ctx, t, c, opts)
	}
	t, err := smoke.StackTarget(ctx, smoke.ExecRunner, o.stacksDir, o.stack)
	if err != nil {
		return err
	}
	c, err := smoke.AWSClients(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("stack %s: bucket %s, table %s, API %s\n", o.stack, t.Bucket, t.Table, t.IngestURL)
	return smoke.Run(ctx, t, c, opts)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
