package handler

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Catalog is the table access of GET /symbols and GET
// /symbols/{symbol}/latest (implemented by table.Table).
type Catalog interface {
	// Symbols returns up to limit symbols of the symbols index after the
	// symbol after, with their latest points, and the symbol to resume
	// after ("" on the last page).
	Symbols(ctx context.Context, after string, limit int) ([]marketdata.Latest, string, error)
	// Latest returns symbol's latest point; false when it has none.
	Latest(ctx context.Context, symbol string) (marketdata.Latest, bool, error)
}

// getSymbols answers GET /symbols?next=&limit= with a page of every symbol
// the pipeline has seen, in symbol order, each with its latest price and
// time (marketdata.SymbolsResponse): limit symbols (1 to
// limits.DynamoBatchGetItems, the default) after the symbol next.
func (h *Handler) getSymbols(ctx context.Context, req events.APIGatewayProxyRequest) (any, error) {
	q := req.QueryStringParameters
	after := q[marketdata.APIQueryNext]
	if has(q, marketdata.APIQueryNext) && !marketdata.ValidSymbol(after) {
		return nil, badRequest("parameter %q: %q is not a token of a previous answer", marketdata.APIQueryNext, after)
	}
	limit, err := pageLimit(q[marketdata.APIQueryLimit], has(q, marketdata.APIQueryLimit), limits.DynamoBatchGetItems)
	if err != nil {
		return nil, err
	}
	page, next, err := h.Catalog.Symbols(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing symbols: %w", err)
	}
	return marketdata.SymbolsResponse{Symbols: page, Next: next}, nil
}

// pageLimit reads a limit parameter: an integer from 1 to most, most when
// not given.
func pageLimit(s string, given bool, most int) (int, error) {
	if !given {
		return most, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, badRequest("parameter %q: %q is not an integer from 1 to %d", marketdata.APIQueryLimit, s, most)
	}
	return n, nil
}

// getLatest answers GET /symbols/{symbol}/latest with symbol's latest point
// (marketdata.Latest), 404 for a symbol without one.
func (h *Handler) getLatest(ctx context.Context, req events.APIGatewayProxyRequest) (any, error) {
	symbol := req.PathParameters[marketdata.APISymbolParam]
	if err := checkSymbol(symbol); err != nil {
		return nil, err
	}
	l, ok, err := h.Catalog.Latest(ctx, symbol)
	if err != nil {
		return nil, fmt.Errorf("latest of %s: %w", symbol, err)
	}
	if !ok {
		return nil, notFound("unknown symbol %q", symbol)
	}
	return l, nil
}
