package triggers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/tools/internal/lambdarun"
)

// InvokeAsync accepts an asynchronous invocation of the function named name
// (its name or ARN), as Lambda's Invoke with InvocationType Event does: the
// call returns once the event is queued; Lambda's retries and the function's
// dead-letter queue apply to it as to an S3 or EventBridge event.
func (g *Glue) InvokeAsync(name string, payload []byte) error {
	fn := g.byName(name)
	if fn == nil {
		return fmt.Errorf("function %s not found", name)
	}
	g.invokeAsync(fn, payload, "Invoke (Event)", nil)
	return nil
}

func (g *Glue) byName(name string) *Function {
	for arn, fn := range g.fns {
		if fn.Name == name || arn == name {
			return fn
		}
	}
	return nil
}

// invokePath is the path of Lambda's Invoke API.
const invokePath = "/2015-03-31/functions/{name}/invocations"

// ServeInvokeAPI serves Lambda's Invoke API (the part the SDK's
// lambda.Invoke uses) on addr, so that tools talking to the local pipeline
// (`mage dlq:redrive`, `mage replay`) invoke the local functions as they
// would on AWS: X-Amz-Invocation-Type Event is accepted with 202 and
// delivered asynchronously, RequestResponse runs the function and answers
// its result (with X-Amz-Function-Error when it failed). It returns the
// endpoint URL and a function closing the server.
func (g *Glue) ServeInvokeAPI(addr string) (string, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+invokePath, func(w http.ResponseWriter, r *http.Request) {
		fn := g.byName(r.PathValue("name"))
		if fn == nil {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			http.Error(w, `{"Type":"User","message":"Function not found: `+r.PathValue("name")+`"}`, http.StatusNotFound)
			return
		}
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
		case "Event":
			g.invokeAsync(fn, payload, "Invoke (Event)", nil)
			w.WriteHeader(http.StatusAccepted)
		case "", "RequestResponse":
			out, err := fn.Invoker.Invoke(g.ctx, payload)
			if err != nil {
				var fe *lambdarun.FunctionError
				if !errors.As(err, &fe) {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				out = []byte(fmt.Sprintf(`{"errorMessage":%q}`, fe.Message))
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out)
		default:
			http.Error(w, "unsupported invocation type "+typ, http.StatusBadRequest)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + strings.Replace(ln.Addr().String(), "[::]", "127.0.0.1", 1), func() { _ = srv.Close() }, nil
}

// deadLetterEvent sends an event EventBridge could not deliver to a rule
// target to the target's dead-letter queue, with the attributes EventBridge
// adds (ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN, RETRY_ATTEMPTS).
// Delivery failures for missing permissions are not retried by EventBridge.
func (g *Glue) deadLetterEvent(ctx context.Context, queueArn string, payload []byte, code string, cause error, ruleArn, targetArn string) error {
	url, err := g.queueURL(ctx, queueArn)
	if err != nil {
		return err
	}
	str := func(v string) sqstypes.MessageAttributeValue {
		return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err = g.aws.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(string(payload)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"ERROR_CODE":     str(code),
			"ERROR_MESSAGE":  str(cause.Error()),
			"RULE_ARN":       str(ruleArn),
			"TARGET_ARN":     str(targetArn),
			"RETRY_ATTEMPTS": {DataType: aws.String("Number"), StringValue: aws.String("0")},
		},
	})
	if err == nil {
		g.stats.DeadLettered.Add(1)
	}
	return err
}

// Break makes every asynchronous invocation of the function named name fail
// with a function error carrying message, until restore is called: a broken
// deploy, for the end-to-end tests of the dead-letter queue.
func (g *Glue) Break(name, message string) (restore func(), err error) {
	fn := g.byName(name)
	if fn == nil {
		return nil, fmt.Errorf("function %s not found", name)
	}
	g.broken.Store(fn.ARN, &lambdarun.FunctionError{Type: "Runtime.ExitError", Message: message})
	return func() { g.broken.Delete(fn.ARN) }, nil
}

// invoker is fn's invoker, or a failing one while fn is broken.
func (g *Glue) invoker(fn *Function) Invoker {
	if err, ok := g.broken.Load(fn.ARN); ok {
		return brokenInvoker{err.(error)}
	}
	return fn.Invoker
}

type brokenInvoker struct{ err error }

func (b brokenInvoker) Invoke(context.Context, []byte) ([]byte, error) { return nil, b.err }
