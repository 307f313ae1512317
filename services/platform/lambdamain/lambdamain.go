// Package lambdamain is every Lambda's main: logging, tracing, the
// service's required environment, the AWS configuration, and the Lambda
// loop, so each command only says how its handler is built from them.
package lambdamain

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/envconfig"
	"github.com/marketanalytics/pipeline/services/platform/logging"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
)

// Setup is what a handler is built from at cold start.
type Setup struct {
	Env    envconfig.Env       // the service's shared/lambdaenv list, each set
	AWS    aws.Config          // from awsconfig.Load
	Log    *slog.Logger        // the service's logger
	Getenv func(string) string // for the SDK's own variables outside the list
}

// Function describes one Lambda: H is its handler type.
type Function[H any] struct {
	Name  string                 // the service name in every log line
	Env   []string               // its shared/lambdaenv list, each required
	Build func(Setup) (H, error) // the handler over its clients, built once
	Entry func(H) any            // the function lambda.Start runs
}

// New loads the environment (read with getenv) and the AWS configuration,
// then builds the handler. It is what Main runs, so the services' tests call
// it to check that every variable of the list is required.
func (f Function[H]) New(ctx context.Context, log *slog.Logger, getenv func(string) string) (H, error) {
	var zero H
	env, err := envconfig.Load(f.Env, getenv)
	if err != nil {
		return zero, err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return zero, err
	}
	return f.Build(Setup{Env: env, AWS: cfg, Log: log, Getenv: getenv})
}

// Main runs the function: it never returns. A cold-start failure exits 1
// after logging why, so Lambda reports an init error instead of a function
// that fails every event; tracing is optional (a function without the X-Ray
// daemon still serves).
func (f Function[H]) Main() {
	log := logging.Init(f.Name)
	if err := tracing.Init(); err != nil {
		log.Warn("tracing disabled", "error", err.Error())
	}
	h, err := f.New(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(f.Entry(h))
}
