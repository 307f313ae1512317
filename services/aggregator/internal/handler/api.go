package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Ranges of GET /aggregates/{symbol}?from=&to= and POST /query.
const (
	// MaxQueryRange is the widest from-to range one request may ask for:
	// 7 days is 2016 windows, a response of about 500 KB, well inside
	// Lambda's 6 MB synchronous payload limit.
	MaxQueryRange = 7 * 24 * time.Hour
	// DefaultQueryRange is the range served when "from" is omitted: the
	// last day before "to" (which defaults to now).
	DefaultQueryRange = 24 * time.Hour
	// maxMillis is 9999-12-31T23:59:59.999Z.
	maxMillis = 253402300799999
	// maxEcho bounds the bytes of input an error message quotes.
	maxEcho = 40
)

// serveAPI answers the API's read routes (marketdata.Routes whose service is
// the aggregator), dispatched on the event's route template ("resource"):
// GET /aggregates/{symbol}, POST /query, GET /symbols and GET
// /symbols/{symbol}/latest. Errors are a marketdata.ErrorResponse: 400 for a
// bad request, 404 for an unknown route or symbol, 405 for another method,
// 500 (never a 502, never internal details) when the table fails.
func (h *Handler) serveAPI(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse) {
	reqID := req.RequestContext.RequestID
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic serving API request", "panic", fmt.Sprint(r), "path", req.Path)
			resp = apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
		}
	}()
	resource := req.Resource
	if _, ok := req.PathParameters[marketdata.APISymbolParam]; resource == "" && ok {
		// The local pipeline's API glue may leave Resource empty; a symbol
		// path parameter alone is GET /aggregates' (the oldest route).
		resource = marketdata.RouteAggregates.Path
	}
	var route marketdata.Route
	for _, r := range marketdata.Routes {
		if r.Path == resource && r.Service == serviceName {
			route = r
			if r.Method == req.HTTPMethod {
				break
			}
		}
	}
	if route.Path == "" {
		return apiresp.Error(http.StatusNotFound, "no such resource", reqID)
	}
	for _, name := range route.PathParams() {
		if _, ok := req.PathParameters[name]; !ok {
			return apiresp.Error(http.StatusNotFound, "no such resource", reqID)
		}
	}
	if req.HTTPMethod != route.Method {
		r := apiresp.Error(http.StatusMethodNotAllowed, "method "+req.HTTPMethod+" not allowed; use "+route.Method, reqID)
		r.Headers["Allow"] = route.Method
		return r
	}
	for _, name := range route.Query {
		if len(req.MultiValueQueryStringParameters[name]) > 1 {
			return apiresp.Error(http.StatusBadRequest, fmt.Sprintf("parameter %q given more than once", name), reqID)
		}
	}
	var (
		body any
		err  error
	)
	switch route.String() {
	case marketdata.RouteAggregates.String():
		body, err = h.getAggregates(ctx, req)
	case marketdata.RouteQuery.String():
		body, err = h.postQuery(ctx, req)
	case marketdata.RouteSymbols.String():
		body, err = h.getSymbols(ctx, req)
	case marketdata.RouteLatest.String():
		body, err = h.getLatest(ctx, req)
	default:
		// A route of this service in the table without a handler here: the
		// tests assert there is none.
		log.Error("route without a handler", "route", route.String())
		return apiresp.Error(http.StatusNotFound, "no such resource", reqID)
	}
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return apiresp.Error(ae.status, ae.msg, reqID)
	case err != nil:
		log.Error("serving "+route.String(), "path", req.Path, "error", err)
		return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
	}
	answer, err := apiresp.Encode(http.StatusOK, body)
	if err != nil {
		log.Error("encoding answer of "+route.String(), "path", req.Path, "error", err)
		return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
	}
	return answer
}

// serviceName is the aggregator's name in the route table: the service of
// the route it has always served.
var serviceName = marketdata.RouteAggregates.Service

// apiError is a client error: its status and message are the answer.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// checkSymbol refuses an invalid symbol with a 400 that says what is valid.
func checkSymbol(symbol string) error {
	if !marketdata.ValidSymbol(symbol) {
		return badRequest("invalid symbol %q: want 1-%d upper-case letters, digits, '.' or '-', like AAPL, BRK.B or BTC-USD", apiresp.Clip(symbol, maxEcho), limits.MaxSymbolLen)
	}
	return nil
}

// getAggregates answers GET /aggregates/{symbol}?from=&to=&interval= with the
// aggregates of symbol at the interval (marketdata.Intervals; the stored
// 5-minute windows by default) whose buckets overlap [from, to), in order,
// as a JSON array of marketdata.Aggregate; 404 for a symbol the pipeline
// never saw.
func (h *Handler) getAggregates(ctx context.Context, req events.APIGatewayProxyRequest) (any, error) {
	symbol := req.PathParameters[marketdata.APISymbolParam]
	if err := checkSymbol(symbol); err != nil {
		return nil, err
	}
	q := req.QueryStringParameters
	from, to, err := h.queryRange(q[marketdata.APIQueryFrom], q[marketdata.APIQueryTo], has(q, marketdata.APIQueryFrom), has(q, marketdata.APIQueryTo))
	if err != nil {
		return nil, err
	}
	iv, err := interval(q[marketdata.APIQueryInterval], has(q, marketdata.APIQueryInterval))
	if err != nil {
		return nil, err
	}
	aggs, err := h.aggregates(ctx, symbol, from, to, iv)
	if err != nil {
		return nil, err
	}
	if len(aggs) == 0 {
		known, err := h.Store.SymbolKnown(ctx, symbol)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: %w", symbol, err)
		}
		if !known {
			return nil, notFound("unknown symbol %q", symbol)
		}
	}
	return aggs, nil
}

func has(q map[string]string, name string) bool {
	_, ok := q[name]
	return ok
}

// interval reads an interval parameter; absent, the stored windows.
func interval(s string, given bool) (marketdata.Interval, error) {
	if !given {
		return marketdata.DefaultInterval, nil
	}
	iv, err := marketdata.ParseInterval(s)
	if err != nil {
		return marketdata.Interval{}, badRequest("parameter %q: %v", marketdata.APIQueryInterval, err)
	}
	return iv, nil
}

// aggregates returns symbol's aggregates at iv whose buckets overlap [from,
// to), each bucket whole: the stored windows from the start of from's
// bucket to the end of to's, merged (marketdata.RollUp).
func (h *Handler) aggregates(ctx context.Context, symbol string, from, to int64, iv marketdata.Interval) ([]marketdata.Aggregate, error) {
	// Windows overlapping [from, to) start in [WindowStart(from), to-1];
	// a wider bucket reaches to the last window of to-1's bucket.
	lastWindow := iv.End(iv.Start(to-1)) - limits.AggregationWindow.Milliseconds()
	windows, err := h.Store.Aggregates(ctx, symbol, iv.Start(from), max(to-1, lastWindow))
	if err != nil {
		return nil, fmt.Errorf("reading aggregates of %s: %w", symbol, err)
	}
	return marketdata.RollUp(windows, iv), nil
}

// queryRange reads the from and to of a request (the query parameters or
// POST /query's fields; given says whether each is there). to defaults to
// now and from to DefaultQueryRange before to; from must be before to, at
// most MaxQueryRange.
func (h *Handler) queryRange(fromS, toS string, fromGiven, toGiven bool) (from, to int64, err error) {
	to = h.now().UnixMilli()
	if toGiven {
		v, err := parseInstant(toS)
		if err != nil {
			return 0, 0, badRequest("parameter %q: %v", marketdata.APIQueryTo, err)
		}
		to = v
	}
	from = to - DefaultQueryRange.Milliseconds()
	if fromGiven {
		v, err := parseInstant(fromS)
		if err != nil {
			return 0, 0, badRequest("parameter %q: %v", marketdata.APIQueryFrom, err)
		}
		from = v
	}
	// Only the default reaches below 0, when "to" is in 1970's first day.
	from = max(from, 0)
	switch {
	case from >= to:
		return 0, 0, badRequest("%q (%d) must be before %q (%d)", marketdata.APIQueryFrom, from, marketdata.APIQueryTo, to)
	case to-from > MaxQueryRange.Milliseconds():
		return 0, 0, badRequest("range from %d to %d is wider than the maximum of %s", from, to, MaxQueryRange)
	}
	return from, to, nil
}

// parseInstant reads epoch milliseconds or an RFC 3339 time.
func parseInstant(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty; want epoch milliseconds or an RFC 3339 time")
	}
	if strings.Trim(s, "0123456789") == "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms > maxMillis {
			return 0, fmt.Errorf("%q is out of range", apiresp.Clip(s, maxEcho))
		}
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil && strings.Contains(s, " ") {
		// An unescaped '+' of a UTC offset arrives as a space when the
		// client did not percent-encode it.
		t, err = time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+"))
	}
	if err != nil {
		return 0, fmt.Errorf("%q is neither epoch milliseconds nor an RFC 3339 time", apiresp.Clip(s, maxEcho))
	}
	ms := t.UnixMilli()
	if ms < 0 || ms > maxMillis {
		return 0, fmt.Errorf("%q is out of range (1970 to 9999)", apiresp.Clip(s, maxEcho))
	}
	return ms, nil
}
