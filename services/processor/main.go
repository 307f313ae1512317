// Command processor is the DataProcessor Lambda: it stores the points of the
// processing queue's messages in the table, keeps each symbol's latest state,
// and tells the aggregator which windows changed (see internal/processor).
package main

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/marketanalytics/pipeline/services/platform/lambdamain"
	"github.com/marketanalytics/pipeline/services/processor/internal/processor"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

var (
	_ processor.DynamoDB       = (*dynamodb.Client)(nil)
	_ processor.EventPublisher = (*eventbridge.Client)(nil)
)

// function is the whole command: main runs it, the tests build it.
var function = lambdamain.Function[*processor.Handler]{
	Name:  "processor",
	Env:   lambdaenv.Processor,
	Build: newHandler,
	Entry: func(h *processor.Handler) any { return h.Handle },
}

func main() {
	processor.TuneGC(os.Getenv(processor.LambdaMemoryEnv))
	function.Main()
}

// newHandler builds the clients, once, and the handler over them.
func newHandler(s lambdamain.Setup) (*processor.Handler, error) {
	cfg, env := s.AWS, s.Env
	return processor.New(dynamodb.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), processor.Config{
		Table:    env.Get(lambdaenv.TableName),
		EventBus: env.Get(lambdaenv.EventBusName),
		Logger:   s.Log,
	})
}
