// Package handler is the DataAggregator's Lambda handler. One function serves
// three event shapes, told apart by their JSON, not by a flag:
//
//   - the processor's custom EventBridge event (marketdata.EventSource /
//     marketdata.EventDetailType): recompute the named (symbol, window) pairs;
//   - the EventBridge schedule (marketdata.ScheduledEventSource /
//     marketdata.ScheduledEventDetailType): finalise the window that closed
//     before the tick, and the one before it, for every symbol the processor
//     listed in their ACTIVE5M items;
//   - API Gateway REST proxy GET /aggregates/{symbol}?from=&to=: serve the
//     stored aggregates.
package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// Store is the table access the handler needs (implemented by table.Table).
type Store interface {
	// WindowSummary merges the window's partials; RawWindowSummary folds
	// its raw points (the repair path). Both return the items they read.
	WindowSummary(ctx context.Context, symbol string, start int64) (ohlcv.Summary, int64, bool, error)
	RawWindowSummary(ctx context.Context, symbol string, start int64) (ohlcv.Summary, int64, bool, error)
	PutAggregate(ctx context.Context, a marketdata.Aggregate) (bool, error)
	// ReplaceAggregate writes without PutAggregate's guard (from raw).
	ReplaceAggregate(ctx context.Context, a marketdata.Aggregate) error
	ActiveWindows(ctx context.Context, fromStart, toStart int64) ([]marketdata.WindowRef, error)
	Aggregates(ctx context.Context, symbol string, fromStart, toStart int64) ([]marketdata.Aggregate, error)
	SymbolKnown(ctx context.Context, symbol string) (bool, error)
}

// Metrics is the part of the CloudWatch client the handler uses.
type Metrics interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// DefaultConcurrency bounds the windows recomputed at once.
const DefaultConcurrency = 8

// Handler handles every event the aggregator receives.
type Handler struct {
	Store Store
	// Catalog serves GET /symbols and GET /symbols/{symbol}/latest.
	Catalog   Catalog
	Metrics   Metrics
	Namespace string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log is the logger (slog.Default() when nil).
	Log *slog.Logger
	// Concurrency bounds the windows recomputed at once (DefaultConcurrency when 0).
	Concurrency int
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log(ctx context.Context) *slog.Logger {
	l := h.Log
	if l == nil {
		l = slog.Default()
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		l = l.With("awsRequestId", lc.AwsRequestID)
	}
	return l
}

// Result summarises a recomputation; it is the invocation's output for the
// EventBridge shapes (useful when invoking the function by hand).
type Result struct {
	// Windows is the number of distinct valid (symbol, window) pairs asked for.
	Windows int `json:"windows"`
	// Written counts the aggregate items written.
	Written int `json:"written"`
	// Empty counts windows without any point (nothing written).
	Empty int `json:"empty"`
	// Stale counts windows whose stored aggregate already counted more
	// points (see table.PutAggregate; nothing written).
	Stale int `json:"stale"`
	// Failed counts windows that could not be recomputed.
	Failed int `json:"failed"`
	// Points is the number of raw points aggregated.
	Points int64 `json:"points"`
	// ItemsRead counts the items read to aggregate them: partials, or raw
	// points on the from-raw path. ItemsRead over the points stored is the
	// read amplification (README, "Linear aggregation").
	ItemsRead int64 `json:"itemsRead"`
	// FromRaw says the windows were recomputed from their raw points.
	FromRaw bool `json:"fromRaw,omitempty"`
	// NewestMillis is the timestamp of the newest point aggregated.
	NewestMillis int64 `json:"newestMillis,omitempty"`
}

// probe holds the fields that tell the event shapes apart. It is not
// events.CloudWatchEvent: that type's time.Time would refuse the whole event
// on a malformed time, which Invoke reports for the schedule alone.
type probe struct {
	// EventBridge
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
	// API Gateway REST proxy
	HTTPMethod     string          `json:"httpMethod"`
	RequestContext json.RawMessage `json:"requestContext"`
}

// ErrUnknownEvent is returned for an event of no known shape.
var ErrUnknownEvent = errors.New("unrecognised event")

// Invoke is the Lambda entry point.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	log := h.log(ctx)
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		log.Error("event is not a JSON object", "error", err, "bytes", len(raw))
		return nil, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
	}
	switch {
	case p.HTTPMethod != "" && len(p.RequestContext) > 0:
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			// The probe decoded, so this is a field of the wrong type;
			// answer it rather than fail the invocation (a 502).
			log.Warn("malformed API Gateway event", "error", err)
			return apiresp.Error(http.StatusBadRequest, "malformed request", ""), nil
		}
		return h.serveAPI(ctx, log, req), nil
	case p.Source == marketdata.ScheduledEventSource && p.DetailType == marketdata.ScheduledEventDetailType:
		tick, err := time.Parse(time.RFC3339, p.Time)
		if err != nil {
			log.Error("scheduled event without a valid time", "time", p.Time, "error", err)
			return nil, fmt.Errorf("%w: scheduled event time %q: %v", ErrUnknownEvent, p.Time, err)
		}
		return h.finalise(ctx, log, tick)
	case p.Source == marketdata.EventSource && p.DetailType == marketdata.EventDetailType:
		var d marketdata.WindowsChanged
		if err := json.Unmarshal(p.Detail, &d); err != nil {
			log.Error("custom event with a malformed detail", "error", err)
			return nil, fmt.Errorf("%w: %s detail: %v", ErrUnknownEvent, marketdata.EventDetailType, err)
		}
		return h.windowsChanged(ctx, log, d)
	default:
		log.Error("unrecognised event", "source", p.Source, "detailType", p.DetailType, "bytes", len(raw))
		return nil, fmt.Errorf("%w (source %q, detail-type %q)", ErrUnknownEvent, p.Source, p.DetailType)
	}
}

// windowsChanged recomputes the windows a custom event names. Invalid
// references are reported (the invocation fails after the valid ones are
// done, so the event is retried and finally lands in the DLQ, visible)
// rather than silently dropped.
func (h *Handler) windowsChanged(ctx context.Context, log *slog.Logger, d marketdata.WindowsChanged) (Result, error) {
	maxStart := h.now().Add(limits.MaxFutureSkew).UnixMilli()
	var valid []marketdata.WindowRef
	var invalid []error
	for _, w := range d.Windows {
		if err := checkRef(w, maxStart); err != nil {
			invalid = append(invalid, err)
			log.Error("invalid window in custom event", "symbol", w.Symbol, "start", w.Start, "error", err)
			continue
		}
		valid = append(valid, w)
	}
	res, err := h.recompute(ctx, log, valid, d.FromRaw)
	h.publish(ctx, log, res)
	if len(invalid) > 0 {
		err = errors.Join(err, fmt.Errorf("%d invalid window reference(s), first: %w", len(invalid), invalid[0]))
	}
	log.Info("windows changed", "requested", len(d.Windows), "result", res, "error", err)
	return res, err
}

func checkRef(w marketdata.WindowRef, maxStart int64) error {
	switch {
	case !marketdata.ValidSymbol(w.Symbol):
		return fmt.Errorf("%w %q", marketdata.ErrSymbol, w.Symbol)
	case w.Start < 0 || w.Start > maxStart:
		return fmt.Errorf("window start %d out of range", w.Start)
	case marketdata.WindowStart(w.Start) != w.Start:
		return fmt.Errorf("window start %d is not a multiple of %s", w.Start, limits.AggregationWindow)
	}
	return nil
}

// finalise handles a schedule tick: the windows marketdata.ScheduledWindows
// names (the window that closed last before the tick, and the one before it,
// so a late or missed tick loses nothing), for every symbol listed in those
// windows' ACTIVE5M items. The processor lists a window only while a tick can
// still read it (marketdata.IndexHorizon); older windows reach the aggregator
// through the custom events alone.
func (h *Handler) finalise(ctx context.Context, log *slog.Logger, tick time.Time) (Result, error) {
	from, to := marketdata.ScheduledWindows(tick)
	refs, err := h.Store.ActiveWindows(ctx, from, to)
	if err != nil {
		log.Error("reading active windows", "from", from, "to", to, "error", err)
		return Result{}, err
	}
	maxStart := h.now().Add(limits.MaxFutureSkew).UnixMilli()
	valid := refs[:0:0]
	var invalid []error
	for _, ref := range refs {
		if err := checkRef(ref, maxStart); err != nil {
			// Only the processor writes ACTIVE5M items; a bad entry is a bug
			// there, reported here and never used as a key.
			invalid = append(invalid, err)
			log.Error("invalid entry in "+marketdata.ActiveWindows+" item", "symbol", ref.Symbol, "start", ref.Start, "error", err)
			continue
		}
		valid = append(valid, ref)
	}
	res, err := h.recompute(ctx, log, valid, false)
	h.publish(ctx, log, res)
	if len(invalid) > 0 {
		err = errors.Join(err, fmt.Errorf("%d invalid %s entries, first: %w", len(invalid), marketdata.ActiveWindows, invalid[0]))
	}
	log.Info("schedule", "tick", tick, "windows", []int64{from, to}, "result", res, "error", err)
	return res, err
}

// recompute aggregates and writes each distinct window, a bounded number at
// once, from its partials or, fromRaw, its raw points. A failed window does not stop the others; the error names how many
// failed, so the event is retried (recomputing is idempotent).
func (h *Handler) recompute(ctx context.Context, log *slog.Logger, refs []marketdata.WindowRef, fromRaw bool) (Result, error) {
	refs = slices.Clone(refs)
	slices.SortFunc(refs, func(a, b marketdata.WindowRef) int {
		return cmp.Or(strings.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Start, b.Start))
	})
	refs = slices.Compact(refs)

	var (
		mu  sync.Mutex
		res = Result{Windows: len(refs), FromRaw: fromRaw}
		g   errgroup.Group // no shared context: a failed window stops no other
	)
	workers := h.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	g.SetLimit(workers)
	for _, ref := range refs {
		g.Go(func() error {
			o, err := h.window(ctx, ref, fromRaw)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Failed++
				log.Error("window failed", "symbol", ref.Symbol, "start", ref.Start, "error", err)
			}
			res.Points += o.points
			res.ItemsRead += o.read
			res.NewestMillis = max(res.NewestMillis, o.newest)
			switch o.outcome {
			case written:
				res.Written++
			case empty:
				res.Empty++
			case stale:
				res.Stale++
				log.Info("stored aggregate counts more points; kept", "symbol", ref.Symbol, "start", ref.Start, "points", o.points)
			}
			return err
		})
	}
	firstErr := g.Wait()
	if res.Failed > 0 {
		return res, fmt.Errorf("%d of %d windows failed, first: %w", res.Failed, res.Windows, firstErr)
	}
	return res, nil
}

type outcome int

const (
	failed outcome = iota
	written
	empty
	stale
)

type windowOutcome struct {
	outcome outcome
	points  int64
	newest  int64
	read    int64
}

// window recomputes one window, from its partials or its raw points, and
// writes its aggregate.
func (h *Handler) window(ctx context.Context, ref marketdata.WindowRef, fromRaw bool) (windowOutcome, error) {
	summary := h.Store.WindowSummary
	if fromRaw {
		summary = h.Store.RawWindowSummary
	}
	sum, read, ok, err := summary(ctx, ref.Symbol, ref.Start)
	if err != nil {
		return windowOutcome{read: read}, err
	}
	if !ok {
		return windowOutcome{outcome: empty, read: read}, nil
	}
	o := windowOutcome{points: sum.Trades, newest: sum.LastMillis, read: read}
	agg := NewAggregate(ref, sum, h.now())
	if fromRaw {
		// The raw points are the truth: replace whatever is stored (see
		// table.ReplaceAggregate).
		if err := h.Store.ReplaceAggregate(ctx, agg); err != nil {
			o.outcome = failed
			return o, err
		}
		o.outcome = written
		return o, nil
	}
	wrote, err := h.Store.PutAggregate(ctx, agg)
	switch {
	case err != nil:
		o.outcome = failed
		return o, err
	case wrote:
		o.outcome = written
	default:
		o.outcome = stale
	}
	return o, nil
}

// NewAggregate is the aggregate of ref summarised by sum, computed at now.
func NewAggregate(ref marketdata.WindowRef, sum ohlcv.Summary, now time.Time) marketdata.Aggregate {
	return marketdata.Aggregate{
		Symbol:      ref.Symbol,
		WindowStart: ref.Start,
		WindowEnd:   marketdata.WindowEnd(ref.Start),
		Open:        sum.Open,
		High:        sum.High,
		Low:         sum.Low,
		Close:       sum.Close,
		OpenText:    sum.OpenText,
		HighText:    sum.HighText,
		LowText:     sum.LowText,
		CloseText:   sum.CloseText,
		Volume:      sum.Volume,
		VWAP:        sum.VWAP,
		VWAPUnknown: sum.VWAPUnknown,
		Trades:      sum.Trades,
		Excluded:    sum.Excluded,
		FirstTs:     sum.FirstMillis,
		LastTs:      sum.LastMillis,
		UpdatedAt:   now.UnixMilli(),
		PV:          sum.PV,
		Prices:      sum.Prices,
	}
}

// publish sends the invocation's metrics in one PutMetricData call. The lag
// is only sent when a point was aggregated. A failure is logged (as an error,
// which the log metric filter counts) but does not fail the invocation: the
// aggregates are written, and a retry would only redo them.
func (h *Handler) publish(ctx context.Context, log *slog.Logger, res Result) {
	now := h.now()
	data := []cwtypes.MetricDatum{
		{MetricName: aws.String(naming.MetricPointsAggregated), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(float64(res.Points)), Timestamp: aws.Time(now)},
		{MetricName: aws.String(naming.MetricWindowsWritten), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(float64(res.Written)), Timestamp: aws.Time(now)},
		{MetricName: aws.String(naming.MetricItemsRead), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(float64(res.ItemsRead)), Timestamp: aws.Time(now)},
	}
	if res.Points > 0 {
		lag := max(now.UnixMilli()-res.NewestMillis, 0)
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String(naming.MetricAggregationLag), Unit: cwtypes.StandardUnitMilliseconds, Value: aws.Float64(float64(lag)), Timestamp: aws.Time(now)})
	}
	if _, err := h.Metrics.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(h.Namespace), MetricData: data}); err != nil {
		log.Error("publishing metrics", "namespace", h.Namespace, "error", err)
	}
}
