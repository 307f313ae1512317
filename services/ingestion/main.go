// Command ingestion is the DataIngestion Lambda: it ingests S3 ObjectCreated
// notifications and API Gateway POST /ingest requests into the processing
// queue (see internal/handler).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/handler"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/logging"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/naming"
)

func main() {
	log := logging.Init("ingestion")
	if err := tracing.Init(); err != nil {
		log.Warn("tracing disabled", "error", err.Error())
	}
	env := map[string]string{}
	for _, name := range []string{lambdaenv.TableName, lambdaenv.QueueURL} {
		if env[name] = os.Getenv(name); env[name] == "" {
			log.Error("missing environment variable", "name", name)
			os.Exit(1)
		}
	}
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		log.Error("cannot load the AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	// A custom endpoint (a local emulator) serves buckets by path, not by
	// virtual host.
	custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	// The metric namespace derives from the suffix the stack sets, as the
	// aggregator's METRIC_NAMESPACE does (one place: naming).
	var namespace string
	if names, err := naming.New(os.Getenv(lambdaenv.EnvironmentSuffix)); err == nil {
		namespace = names.MetricNamespace()
	} else {
		log.Warn("no metrics: cannot derive the metric namespace", "name", lambdaenv.EnvironmentSuffix, "error", err.Error())
	}
	h := &handler.Handler{
		S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom }),
		Publisher: &queue.Publisher{Client: sqs.NewFromConfig(cfg), QueueURL: env[lambdaenv.QueueURL]},
		Reports:   &report.Store{DB: dynamodb.NewFromConfig(cfg), Table: env[lambdaenv.TableName]},
		Log:       log,

		MetricNamespace: namespace,
	}
	lambda.Start(h.Invoke)
}
