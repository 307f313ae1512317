// Package handler is the DataIngestion function: one handler for S3
// ObjectCreated notifications and API Gateway proxy requests (POST /ingest),
// told apart by the shape of the event.
package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/apiresp"
)

// ObjectGetter is the part of the S3 client the handler uses.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ ObjectGetter = (*s3.Client)(nil)

// ReportStore keeps the ingestion reports (report.Store over DynamoDB).
type ReportStore interface {
	Claim(ctx context.Context, o report.Object, owner string, now, leaseUntil time.Time) (report.Claim, error)
	Finish(ctx context.Context, o report.Object, owner string, attempts int64, started, now time.Time, r report.Result) error
	NoteRedelivery(ctx context.Context, o report.Object) error
}

var _ ReportStore = (*report.Store)(nil)

// Defaults of the Handler's budgets.
const (
	// DefaultReportBudget bounds the listed rejections of a report item,
	// keeping it far below DynamoDB's 400 KB item limit.
	DefaultReportBudget = 100 << 10
	// DefaultResponseBudget bounds the listed rejections of an API answer,
	// far below Lambda's 6 MB response limit.
	DefaultResponseBudget = 1 << 20
)

// Handler ingests market data. Build it once per process.
type Handler struct {
	S3        ObjectGetter
	Publisher *queue.Publisher
	Reports   ReportStore
	Log       *slog.Logger
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// ReportBudget and ResponseBudget bound the bytes of listed rejections
	// (defaults DefaultReportBudget, DefaultResponseBudget).
	ReportBudget, ResponseBudget int
	// ReadRetries is how often a failed object read is resumed where it
	// stopped (default 3).
	ReadRetries int
	// MetricNamespace is the CloudWatch namespace of the metrics the
	// handler logs in embedded metric format; "" logs none.
	MetricNamespace string
	// Sleep waits between read retries (default: backoff.Sleep, a timer);
	// tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// UnzippedMax bounds the file a zipped object may unpack to (default
	// limits.UnzippedMaxBytes); tests lower it.
	UnzippedMax int64
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// probe holds just enough of an event to tell its kind.
type probe struct {
	Records []struct {
		EventSource string          `json:"eventSource"`
		S3          json.RawMessage `json:"s3"`
	} `json:"Records"`
	HTTPMethod     *string         `json:"httpMethod"`
	RequestContext json.RawMessage `json:"requestContext"`
	Event          string          `json:"Event"`
	Service        string          `json:"Service"`
}

// ErrUnknownEvent is returned for an event that is neither an S3
// notification nor an API Gateway proxy request.
var ErrUnknownEvent = errors.New("unrecognised event: neither an S3 notification nor an API Gateway REST proxy request")

// Invoke is the Lambda handler. It decides by the event's shape: Records
// holding "s3" entries is an S3 notification (the result is nil, and an
// error makes Lambda retry the event); "httpMethod" with "requestContext" is
// an API Gateway proxy request (the result is always a proxy response, never
// an error, so API Gateway never answers 502).
func (h *Handler) Invoke(ctx context.Context, event json.RawMessage) (result any, err error) {
	var p probe
	if err := json.Unmarshal(event, &p); err != nil {
		h.log().Error("event is not a JSON object", "error", err.Error())
		return nil, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
	}
	switch {
	case p.HTTPMethod != nil && len(p.RequestContext) > 0:
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(event, &req); err != nil {
			h.log().Error("malformed API Gateway event", "error", err.Error())
			return apiresp.Error(http.StatusInternalServerError, "internal error", ""), nil
		}
		return h.API(ctx, req), nil
	case isS3(p):
		var ev events.S3Event
		if err := json.Unmarshal(event, &ev); err != nil {
			h.log().Error("malformed S3 event", "error", err.Error())
			return nil, fmt.Errorf("malformed S3 event: %w", err)
		}
		return nil, h.S3Event(ctx, ev)
	case p.Service == "Amazon S3" && p.Event == "s3:TestEvent":
		h.log().Info("S3 test event ignored")
		return nil, nil
	}
	h.log().Error("unrecognised event", "error", ErrUnknownEvent.Error(), "bytes", len(event))
	return nil, ErrUnknownEvent
}

func isS3(p probe) bool {
	if len(p.Records) == 0 {
		return false
	}
	for _, r := range p.Records {
		if len(r.S3) == 0 || r.EventSource != "aws:s3" {
			return false
		}
	}
	return true
}

// recovered turns a panic into an error with the stack logged (never sent to
// a client).
func (h *Handler) recovered(v any) error {
	h.log().Error("panic", "error", fmt.Sprint(v), "stack", string(debug.Stack()))
	return fmt.Errorf("internal error: panic: %v", v)
}

// requestID is the Lambda request id, which Lambda keeps across the retries
// of one asynchronous invocation; a random id outside Lambda.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "local-" + hex.EncodeToString(b[:])
}
