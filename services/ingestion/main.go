// Command ingestion is the DataIngestion Lambda: it ingests S3 ObjectCreated
// notifications and API Gateway POST /ingest requests into the processing
// queue (see internal/handler).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/handler"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/envconfig"
	"github.com/marketanalytics/pipeline/services/platform/logging"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

func main() {
	log := logging.Init("ingestion")
	if err := tracing.Init(); err != nil {
		log.Warn("tracing disabled", "error", err.Error())
	}
	h, err := newHandler(context.Background(), log, os.Getenv)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Invoke)
}

// newHandler builds the clients, once, and the handler over them, from the
// environment read by getenv.
func newHandler(ctx context.Context, log *slog.Logger, getenv func(string) string) (*handler.Handler, error) {
	env, err := envconfig.Load(lambdaenv.Ingestion, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	// A custom endpoint (a local emulator) serves buckets by path, not by
	// virtual host. These are the SDK's own variables, not the stack's.
	custom := getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
	return &handler.Handler{
		S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom }),
		Publisher: &queue.Publisher{Client: sqs.NewFromConfig(cfg), QueueURL: env.Get(lambdaenv.QueueURL)},
		Reports:   &report.Store{DB: dynamodb.NewFromConfig(cfg), Table: env.Get(lambdaenv.TableName)},
		Log:       log,

		MetricNamespace: env.Get(lambdaenv.MetricNamespace),
	}, nil
}
