// Command processor is the DataProcessor Lambda: it stores the points of the
// processing queue's messages in the table, keeps each symbol's latest state,
// and tells the aggregator which windows changed (see internal/processor).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/envconfig"
	"github.com/marketanalytics/pipeline/services/platform/logging"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/services/processor/internal/processor"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

var (
	_ processor.DynamoDB       = (*dynamodb.Client)(nil)
	_ processor.EventPublisher = (*eventbridge.Client)(nil)
)

func main() {
	log := logging.Init("processor")
	if err := tracing.Init(); err != nil {
		log.Warn("tracing disabled", "error", err.Error())
	}
	h, err := newHandler(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// newHandler builds the clients, once, and the handler over them, from the
// environment read by getenv.
func newHandler(ctx context.Context, log *slog.Logger, getenv func(string) string) (*processor.Handler, error) {
	env, err := envconfig.Load(lambdaenv.Processor, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return processor.New(dynamodb.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), processor.Config{
		Table:    env.Get(lambdaenv.TableName),
		EventBus: env.Get(lambdaenv.EventBusName),
		Logger:   log,
	})
}
