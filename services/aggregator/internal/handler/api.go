package handler

import (
	"context"
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

// API of GET /aggregates/{symbol}?from=&to=.
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

// serveAPI answers GET /aggregates/{symbol}?from=&to= with the stored
// aggregates of the windows overlapping [from, to), in window order, as a JSON
// array of marketdata.Aggregate. from and to are epoch milliseconds or RFC
// 3339; to defaults to now and from to DefaultQueryRange before to. Errors
// are a marketdata.ErrorResponse: 400 for bad parameters, 404 for a symbol
// the pipeline never saw, 500 (never a 502, never internal details) when the
// table fails.
func (h *Handler) serveAPI(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse) {
	reqID := req.RequestContext.RequestID
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic serving API request", "panic", fmt.Sprint(r), "path", req.Path)
			resp = apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
		}
	}()
	symbol, ok := req.PathParameters[marketdata.APISymbolParam]
	// The local pipeline's API glue may leave Resource empty; the path
	// parameter is what matters.
	route := marketdata.RouteAggregates
	if req.Resource != route.Path && req.Resource != "" || !ok {
		return apiresp.Error(http.StatusNotFound, "no such resource", reqID)
	}
	if req.HTTPMethod != route.Method {
		r := apiresp.Error(http.StatusMethodNotAllowed, "method "+req.HTTPMethod+" not allowed; use "+route.Method, reqID)
		r.Headers["Allow"] = route.Method
		return r
	}
	if !marketdata.ValidSymbol(symbol) {
		return apiresp.Error(http.StatusBadRequest, fmt.Sprintf("invalid symbol %q: want 1-%d upper-case letters, digits, '.' or '-', like AAPL, BRK.B or BTC-USD", apiresp.Clip(symbol, maxEcho), limits.MaxSymbolLen), reqID)
	}
	from, to, msg := h.queryRange(req)
	if msg != "" {
		return apiresp.Error(http.StatusBadRequest, msg, reqID)
	}

	// Windows overlapping [from, to) start in [WindowStart(from), to-1].
	aggs, err := h.Store.Aggregates(ctx, symbol, marketdata.WindowStart(from), to-1)
	if err != nil {
		log.Error("reading aggregates", "symbol", symbol, "error", err)
		return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
	}
	if len(aggs) == 0 {
		known, err := h.Store.SymbolKnown(ctx, symbol)
		if err != nil {
			log.Error("looking up symbol", "symbol", symbol, "error", err)
			return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
		}
		if !known {
			return apiresp.Error(http.StatusNotFound, fmt.Sprintf("unknown symbol %q", symbol), reqID)
		}
	}
	answer, err := apiresp.Encode(http.StatusOK, aggs)
	if err != nil {
		log.Error("encoding aggregates", "symbol", symbol, "error", err)
		return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
	}
	return answer
}

// queryRange reads from and to; msg says what is wrong with them.
func (h *Handler) queryRange(req events.APIGatewayProxyRequest) (from, to int64, msg string) {
	for _, name := range marketdata.RouteAggregates.Query {
		if len(req.MultiValueQueryStringParameters[name]) > 1 {
			return 0, 0, fmt.Sprintf("parameter %q given more than once", name)
		}
	}
	to = h.now().UnixMilli()
	if s, ok := req.QueryStringParameters[marketdata.APIQueryTo]; ok {
		v, err := parseInstant(s)
		if err != nil {
			return 0, 0, fmt.Sprintf("parameter %q: %v", marketdata.APIQueryTo, err)
		}
		to = v
	}
	from = to - DefaultQueryRange.Milliseconds()
	if s, ok := req.QueryStringParameters[marketdata.APIQueryFrom]; ok {
		v, err := parseInstant(s)
		if err != nil {
			return 0, 0, fmt.Sprintf("parameter %q: %v", marketdata.APIQueryFrom, err)
		}
		from = v
	}
	// Only the default reaches below 0, when "to" is in 1970's first day.
	from = max(from, 0)
	switch {
	case from >= to:
		return 0, 0, fmt.Sprintf("%q (%d) must be before %q (%d)", marketdata.APIQueryFrom, from, marketdata.APIQueryTo, to)
	case to-from > MaxQueryRange.Milliseconds():
		return 0, 0, fmt.Sprintf("range from %d to %d is wider than the maximum of %s", from, to, MaxQueryRange)
	}
	return from, to, ""
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
