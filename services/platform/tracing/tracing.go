// Package tracing is the only place that knows the tracing backend (AWS X-Ray
// today). Services call Instrument on their AWS configuration and Handler on
// their Lambda handler; a move to OpenTelemetry changes this package alone.
//
// Tracing must never break a function: without an X-Ray daemon (locally, or
// under the Runtime Interface Emulator) segments are dropped with a log line
// and the work carries on.
package tracing

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// Init configures the tracer: a missing segment (no Lambda trace header, no
// daemon) is logged, never a panic, unless AWS_XRAY_CONTEXT_MISSING says
// otherwise. Tracer logs go to stderr at warning level.
func Init() error {
	xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelWarn))
	if os.Getenv("AWS_XRAY_CONTEXT_MISSING") != "" {
		return nil
	}
	return xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultLogErrorStrategy()})
}

// Instrument adds a subsegment per AWS SDK call to cfg's clients.
func Instrument(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// Subsegment runs fn inside a named subsegment of the current trace. Without
// a trace in ctx it just runs fn.
func Subsegment(ctx context.Context, name string, fn func(context.Context) error) error {
	return xray.Capture(ctx, name, fn)
}
