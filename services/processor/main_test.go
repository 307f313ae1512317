package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

func TestNewHandlerNeedsItsEnvironment(t *testing.T) {
	tests := []struct {
		name, table, bus string
		wantErr          string
	}{
		{"nothing set", "", "", lambdaenv.TableName},
		{"no bus", "MarketDataState-dev", "", lambdaenv.EventBusName},
		{"no table", "", "MarketDataEvents-dev", lambdaenv.TableName},
		{"both set", "MarketDataState-dev", "MarketDataEvents-dev", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(lambdaenv.TableName, tc.table)
			t.Setenv(lambdaenv.EventBusName, tc.bus)
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "testing")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
			h, err := newHandler(context.Background(), slog.Default())
			if tc.wantErr == "" {
				if err != nil || h == nil {
					t.Fatalf("newHandler: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to name %s", err, tc.wantErr)
			}
		})
	}
}
