package main

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// The handler is built from exactly the variables of lambdaenv.Ingestion:
// each is required, and each reaches the client it configures.
func TestNewHandlerEnvironment(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	t.Setenv("AWS_REGION", "us-east-1")
	full := map[string]string{}
	for _, name := range lambdaenv.Ingestion {
		full[name] = "value-of-" + name
	}
	for _, name := range lambdaenv.Ingestion {
		t.Run("without "+name, func(t *testing.T) {
			env := maps.Clone(full)
			delete(env, name)
			if _, err := function.New(context.Background(), log, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("err = %v, want one naming %s", err, name)
			}
		})
	}
	tests := []struct {
		name      string
		endpoint  map[string]string
		pathStyle bool
	}{
		{"AWS", nil, false},
		{"emulator for all services", map[string]string{"AWS_ENDPOINT_URL": "http://localhost:5000"}, true},
		{"emulator for S3", map[string]string{"AWS_ENDPOINT_URL_S3": "http://localhost:5000"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(full)
			maps.Copy(env, tc.endpoint)
			h, err := function.New(context.Background(), log, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Publisher.QueueURL; got != full[lambdaenv.QueueURL] {
				t.Errorf("queue URL %q", got)
			}
			if got := h.MetricNamespace; got != full[lambdaenv.MetricNamespace] {
				t.Errorf("metric namespace %q", got)
			}
			if st, ok := h.Reports.(*report.Store); !ok || st.Table != full[lambdaenv.TableName] {
				t.Errorf("report store %#v", h.Reports)
			}
			if got := h.S3.(*s3.Client).Options().UsePathStyle; got != tc.pathStyle {
				t.Errorf("path-style S3 addressing %v, want %v", got, tc.pathStyle)
			}
		})
	}
}
