package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/table"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

func TestNewHandlerEnvironment(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	full := map[string]string{lambdaenv.TableName: "MarketDataState-dev", lambdaenv.MetricNamespace: "MarketAnalytics/Pipeline-dev"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"complete", full, ""},
		{"no table", map[string]string{lambdaenv.MetricNamespace: "ns"}, lambdaenv.TableName},
		{"no namespace", map[string]string{lambdaenv.TableName: "t"}, lambdaenv.MetricNamespace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "us-east-1")
			h, err := newHandler(context.Background(), log, func(k string) string { return tt.env[k] })
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
