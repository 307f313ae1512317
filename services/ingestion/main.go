// Command ingestion is the DataIngestion Lambda: it ingests S3 ObjectCreated
// notifications and API Gateway POST /ingest requests into the processing
// queue (see internal/handler).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/handler"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/lambdamain"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// function is the whole command: main runs it, the tests build it.
var function = lambdamain.Function[*handler.Handler]{
	Name:  "ingestion",
	Env:   lambdaenv.Ingestion,
	Build: newHandler,
	Entry: func(h *handler.Handler) any { return h.Invoke },
}

func main() { function.Main() }

// newHandler builds the clients, once, and the handler over them.
func newHandler(s lambdamain.Setup) (*handler.Handler, error) {
	cfg, env := s.AWS, s.Env
	// A custom endpoint (a local emulator) serves buckets by path, not by
	// virtual host. These are the SDK's own variables, not the stack's.
	custom := s.Getenv("AWS_ENDPOINT_URL_S3") != "" || s.Getenv("AWS_ENDPOINT_URL") != ""
	return &handler.Handler{
		S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom }),
		Publisher: &queue.Publisher{Client: sqs.NewFromConfig(cfg), QueueURL: env.Get(lambdaenv.QueueURL)},
		Reports:   &report.Store{DB: dynamodb.NewFromConfig(cfg), Table: env.Get(lambdaenv.TableName)},
		Log:       s.Log,

		MetricNamespace: env.Get(lambdaenv.MetricNamespace),
	}, nil
}
