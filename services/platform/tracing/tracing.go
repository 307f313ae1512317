// Package tracing is the only place that knows the tracing backend (AWS X-Ray
// today). Services call Init at cold start, and awsconfig.Load calls
// Instrument on their AWS configuration; a move to OpenTelemetry changes this
// package alone.
//
// Tracing must never break a function: without an X-Ray daemon (locally, or
// under the Runtime Interface Emulator) segments are dropped with a log line
// and the work carries on.
package tracing

import (
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// Init configures the tracer: a missing segment (no Lambda trace header, as
// under the Runtime Interface Emulator or in tests) is logged once as a
// warning and tracing is skipped; it never panics and never fails a call.
// AWS_XRAY_CONTEXT_MISSING, when set, takes precedence. Tracer logs go to
// stderr at warning level.
func Init() error {
	xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelWarn))
	if os.Getenv("AWS_XRAY_CONTEXT_MISSING") != "" {
		return nil
	}
	return xray.Configure(xray.Config{ContextMissingStrategy: &warnOnce{}})
}

// warnOnce is a context-missing strategy that logs the first occurrence and
// stays quiet after that. The message avoids the words the functions' error
// metric filter counts, since a missing trace is not an error of ours.
type warnOnce struct{ once sync.Once }

var _ ctxmissing.Strategy = (*warnOnce)(nil)

// ContextMissing implements ctxmissing.Strategy.
func (w *warnOnce) ContextMissing(v interface{}) {
	w.once.Do(func() {
		slog.Warn("no X-Ray segment in context: AWS calls are not traced (normal outside Lambda)", "detail", fmt.Sprint(v))
	})
}

// Instrument adds a subsegment per AWS SDK call to cfg's clients.
func Instrument(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}
