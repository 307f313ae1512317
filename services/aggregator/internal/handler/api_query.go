package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// queryCursor is what a POST /query "next" token holds: the symbol, and the
// start of its first bucket, the next answer begins with. The token is its
// JSON in unpadded base64url: opaque to the client, checked against the
// request it comes back with (it only ever names data the request could
// read anyway).
type queryCursor struct {
	Symbol string `json:"s"`
	Start  int64  `json:"t"`
}

func (c queryCursor) token() string {
	b, _ := json.Marshal(c) // a struct of a string and an int cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// query is a validated POST /query request.
type query struct {
	symbols  []string
	from, to int64
	interval marketdata.Interval
	limit    int
	cursor   *queryCursor
}

// parseQuery reads and validates a POST /query body.
func (h *Handler) parseQuery(req events.APIGatewayProxyRequest) (query, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return query{}, badRequest("body is not valid base64")
		}
		body = b
	}
	var in marketdata.QueryRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return query{}, badRequest("body is not a query: %s; want {\"symbols\": [...], \"from\", \"to\", \"interval\", \"limit\", \"next\"}", apiresp.Clip(err.Error(), 2*maxEcho))
	}
	if dec.More() {
		return query{}, badRequest("body holds more than one JSON value")
	}
	var q query
	switch {
	case len(in.Symbols) == 0:
		return q, badRequest("\"symbols\" is empty; name 1 to %d symbols", limits.QueryMaxSymbols)
	case len(in.Symbols) > limits.QueryMaxSymbols:
		return q, badRequest("%d symbols; at most %d per query", len(in.Symbols), limits.QueryMaxSymbols)
	}
	seen := map[string]bool{}
	for i, s := range in.Symbols {
		if err := checkSymbol(s); err != nil {
			return q, badRequest("symbols[%d]: %v", i, err)
		}
		if seen[s] {
			return q, badRequest("symbols[%d]: %q named twice", i, s)
		}
		seen[s] = true
	}
	q.symbols = in.Symbols
	var err error
	if q.from, q.to, err = h.queryRange(in.From, in.To, in.From != "", in.To != ""); err != nil {
		return q, err
	}
	if q.interval, err = interval(in.Interval, in.Interval != ""); err != nil {
		return q, err
	}
	switch {
	case in.Limit == 0:
		q.limit = limits.QueryMaxAggregates
	case in.Limit < 1 || in.Limit > limits.QueryMaxAggregates:
		return q, badRequest("\"limit\" %d is not from 1 to %d", in.Limit, limits.QueryMaxAggregates)
	default:
		q.limit = in.Limit
	}
	if in.Next != "" {
		var c queryCursor
		b, err := base64.RawURLEncoding.DecodeString(in.Next)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || !seen[c.Symbol] || q.interval.Start(c.Start) != c.Start ||
			c.Start < q.interval.Start(q.from) || c.Start >= q.to {
			return q, badRequest("\"next\" %q is not a token of this query's answers", apiresp.Clip(in.Next, maxEcho))
		}
		q.cursor = &c
	}
	return q, nil
}

// postQuery answers POST /query (marketdata.QueryRequest) with the
// aggregates of each symbol, as GET /aggregates would answer them, in request
// order (marketdata.QueryResponse). An answer carries at most the request's
// limit of aggregates; the rest is asked for with its "next" token.
func (h *Handler) postQuery(ctx context.Context, req events.APIGatewayProxyRequest) (any, error) {
	q, err := h.parseQuery(req)
	if err != nil {
		return nil, err
	}
	symbols := q.symbols
	if q.cursor != nil {
		symbols = symbols[slices.Index(symbols, q.cursor.Symbol):]
	}
	resp := marketdata.QueryResponse{Results: []marketdata.SymbolAggregates{}}
	room := q.limit
	// Symbols are read a few at a time, in order, until the answer is full:
	// at most a batch less one is read for nothing.
	batch := h.Concurrency
	if batch <= 0 {
		batch = DefaultConcurrency
	}
	for len(symbols) > 0 && room > 0 {
		n := min(batch, len(symbols))
		got := make([][]marketdata.Aggregate, n)
		known := make([]bool, n)
		var g errgroup.Group
		for i, sym := range symbols[:n] {
			g.Go(func() error {
				aggs, err := h.aggregates(ctx, sym, q.from, q.to, q.interval)
				if err != nil {
					return err
				}
				if q.cursor != nil && sym == q.cursor.Symbol {
					aggs = slices.DeleteFunc(aggs, func(a marketdata.Aggregate) bool { return a.WindowStart < q.cursor.Start })
				}
				got[i], known[i] = aggs, true
				if len(aggs) == 0 {
					if known[i], err = h.Store.SymbolKnown(ctx, sym); err != nil {
						return fmt.Errorf("looking up %s: %w", sym, err)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i, sym := range symbols[:n] {
			if room == 0 {
				resp.Next = queryCursor{Symbol: sym, Start: q.interval.Start(q.from)}.token()
				return resp, nil
			}
			aggs := got[i]
			if len(aggs) > room {
				resp.Next = queryCursor{Symbol: sym, Start: aggs[room].WindowStart}.token()
				aggs = aggs[:room]
			}
			room -= len(aggs)
			resp.Results = append(resp.Results, marketdata.SymbolAggregates{Symbol: sym, Aggregates: aggs})
			if !known[i] {
				resp.Unknown = append(resp.Unknown, sym)
			}
			if resp.Next != "" {
				return resp, nil
			}
		}
		symbols = symbols[n:]
	}
	if len(symbols) > 0 {
		resp.Next = queryCursor{Symbol: symbols[0], Start: q.interval.Start(q.from)}.token()
	}
	return resp, nil
}
