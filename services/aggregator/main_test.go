package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/handler"
	"github.com/marketanalytics/pipeline/services/aggregator/internal/table"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

func TestNewHandlerEnvironment(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	full := map[string]string{}
	for _, name := range lambdaenv.Aggregator {
		full[name] = "value-of-" + name
	}
	type test struct {
		name    string
		env     map[string]string
		wantErr string
	}
	tests := []test{{"complete", full, ""}}
	// Each variable of the service's list is required.
	for _, name := range lambdaenv.Aggregator {
		env := maps.Clone(full)
		delete(env, name)
		tests = append(tests, test{"without " + name, env, name})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "us-east-1")
			h, err := function.New(context.Background(), log, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cw, ok := h.Metrics.(*cloudwatch.Client)
			if !ok {
				t.Fatalf("metrics client %T", h.Metrics)
			}
			// moto (the local emulator) does not speak CloudWatch's default CBOR protocol.
			if id := cw.Options().Protocol.ID(); id.String() != "aws.protocols#awsJson1_0" {
				t.Errorf("CloudWatch protocol %s, want aws.protocols#awsJson1_0", id)
			}
			if tb := h.Store.(*table.Table); tb.Name != full[lambdaenv.TableName] || h.Namespace != full[lambdaenv.MetricNamespace] {
				t.Errorf("table %q namespace %q", tb.Name, h.Namespace)
			}
		})
	}
}

// TestLambdaHandlerShape runs the handler through aws-lambda-go's reflection
// wrapper, as lambda.Start does: the signature is accepted, an API answer
// serialises as API Gateway expects, and an unknown event is an error.
func TestLambdaHandlerShape(t *testing.T) {
	h := &handler.Handler{Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	lh := lambda.NewHandler(function.Entry(h))

	ev, err := os.ReadFile("testdata/api_get_bad_symbol.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := lh.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 400 ||
		resp.Headers["Content-Type"] != "application/json" || !strings.Contains(resp.Body, `"message":"invalid symbol`) {
		t.Errorf("API answer %s (%v)", out, err)
	}

	if _, err := lh.Invoke(context.Background(), []byte(`{"Records":[]}`)); err == nil {
		t.Error("an unknown event did not fail the invocation")
	}
}
