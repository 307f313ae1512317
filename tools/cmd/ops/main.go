// Command ops is the operator's tooling behind `go run mage.go dlq:list`,
// `dlq:show`, `dlq:redrive`, `replay` and `status`:
//
//	go run ./tools/cmd/ops dlq list|show
//	go run ./tools/cmd/ops dlq redrive [--origin O] [--dry-run]
//	go run ./tools/cmd/ops replay --prefix P [--force]
//	go run ./tools/cmd/ops status
//
// Against a deployed stack (--stack, default $STACK or dev; the layers'
// outputs come from `pulumi stack output --json`, AWS credentials from the
// environment) or, with --endpoint and --lambda-endpoint, against the local
// pipeline (`go run mage.go local --serve` prints both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/ops"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
	"github.com/marketanalytics/pipeline/tools/motoserver"
)

const usage = `usage: ops [flags] dlq list|show | dlq redrive [--origin O] [--dry-run] | replay --prefix P [--force] | status`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ops:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fs := flag.NewFlagSet("ops", flag.ContinueOnError)
	stack := fs.String("stack", envOr("STACK", "dev"), "the deployed stack (all four layers)")
	endpoint := fs.String("endpoint", "", "moto endpoint of the local pipeline (instead of AWS)")
	lambdaEndpoint := fs.String("lambda-endpoint", "", "the local pipeline's Lambda Invoke endpoint (with --endpoint)")
	origin := fs.String("origin", "", "dlq redrive: only this origin (queue, ingestion, aggregator, eventbridge)")
	dryRun := fs.Bool("dry-run", false, "dlq redrive: print what would be done")
	prefix := fs.String("prefix", "", "replay: key prefix of the objects to re-ingest")
	force := fs.Bool("force", false, "replay: also objects whose report says completed")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	// Flags may follow the command too (`dlq redrive --dry-run`).
	var cmd []string
	for args := fs.Args(); len(args) > 0; args = fs.Args() {
		cmd = append(cmd, args[0])
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
	}
	o, err := ops.ParseOrigin(*origin)
	if err != nil {
		return err
	}
	t, err := target(ctx, *stack, *endpoint, *lambdaEndpoint)
	if err != nil {
		return err
	}
	out := os.Stdout
	switch fmt.Sprint(cmd) {
	case "[dlq list]":
		gs, err := t.List(ctx)
		if o != "" {
			gs = filter(gs, o)
		}
		ops.PrintList(out, gs, time.Now())
		return err
	case "[dlq show]":
		return t.Show(ctx, out)
	case "[dlq redrive]":
		res, err := t.Redrive(ctx, out, o, *dryRun)
		fmt.Fprintf(out, "redriven %v, kept %v, failed %v\n", res.Redriven, res.Kept, res.Failed)
		return err
	case "[replay]":
		if *prefix == "" {
			return errors.New("replay needs --prefix (use --prefix / for every object)")
		}
		p := *prefix
		if p == "/" {
			p = ""
		}
		sent, skipped, err := t.Replay(ctx, out, p, *force)
		fmt.Fprintf(out, "replayed %d object version(s), skipped %d already completed\n", sent, skipped)
		return err
	case "[status]":
		return t.Status(ctx, out)
	}
	return errors.New(usage)
}

func filter(gs []ops.Group, o ops.Origin) []ops.Group {
	for _, g := range gs {
		if g.Origin == o {
			return []ops.Group{g}
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// target resolves the pipeline: the local one from the synth the local
// pipeline was provisioned from, or the deployed stack from Pulumi.
func target(ctx context.Context, stack, endpoint, lambdaEndpoint string) (*ops.Target, error) {
	root, err := motoserver.RepoRoot()
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		if lambdaEndpoint == "" {
			return nil, errors.New("--endpoint needs --lambda-endpoint (both printed by `go run mage.go local --serve`)")
		}
		c := awsx.New(endpoint)
		pl, err := synthread.Load(filepath.Join(root, "build", "synth"))
		if err != nil {
			return nil, err
		}
		lcfg := c.Config.Copy()
		lcfg.BaseEndpoint = aws.String(lambdaEndpoint)
		return ops.NewTarget(ctx, ops.Clients{SQS: c.SQS, S3: c.S3, DynamoDB: c.DynamoDB,
			Lambda: lambda.NewFromConfig(lcfg), CloudWatch: cloudwatch.NewFromConfig(c.Config)}, ops.SynthOutputs(pl))
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(naming.Region))
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	outs, err := ops.PulumiOutputs(ctx, root, stack)
	if err != nil {
		return nil, err
	}
	return ops.NewTarget(ctx, ops.Clients{SQS: sqs.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg),
		Lambda: lambda.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg)}, outs)
}
