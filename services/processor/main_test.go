package main

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// The handler is built from exactly the variables of lambdaenv.Processor,
// each required.
func TestNewHandlerNeedsItsEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	full := map[string]string{}
	for _, name := range lambdaenv.Processor {
		full[name] = "value-of-" + name
	}
	type test struct {
		name    string
		env     map[string]string
		wantErr []string
	}
	tests := []test{
		{"all set", full, nil},
		{"nothing set", nil, lambdaenv.Processor},
	}
	for _, name := range lambdaenv.Processor {
		env := maps.Clone(full)
		delete(env, name)
		tests = append(tests, test{"without " + name, env, []string{name}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := function.New(context.Background(), slog.Default(), func(k string) string { return tc.env[k] })
			if len(tc.wantErr) == 0 {
				if err != nil || h == nil {
					t.Fatalf("newHandler: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("newHandler succeeded")
			}
			for _, name := range tc.wantErr {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("err = %v, want it to name %s", err, name)
				}
			}
		})
	}
}
