// Command processor is the DataProcessor Lambda: it stores the points of the
// processing queue's messages in the table, keeps each symbol's latest state,
// and tells the aggregator which windows changed (see internal/processor).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
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
	h, err := newHandler(context.Background(), log)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func newHandler(ctx context.Context, log *slog.Logger) (*processor.Handler, error) {
	table, bus := os.Getenv(lambdaenv.TableName), os.Getenv(lambdaenv.EventBusName)
	if table == "" || bus == "" {
		return nil, fmt.Errorf("environment variables %s and %s must be set", lambdaenv.TableName, lambdaenv.EventBusName)
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return processor.New(dynamodb.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), processor.Config{
		Table:    table,
		EventBus: bus,
		Logger:   log,
	})
}
