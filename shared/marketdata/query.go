package marketdata

import "encoding/json"

// Bodies of the API's read routes besides GET /aggregates (which answers a
// JSON array of Aggregate). Every error answer is an ErrorResponse.

// QueryRequest is the body of POST /query: the aggregates of many symbols
// over one range at one interval, in one signed call.
type QueryRequest struct {
	// Symbols are the symbols to answer, at most limits.QueryMaxSymbols,
	// each once; the results follow their order.
	Symbols []string `json:"symbols"`
	// From and To are epoch milliseconds or RFC 3339, as GET /aggregates'
	// query parameters, with the same defaults (to: now; from: a day
	// before to) and the same maximum range.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Interval is one of Intervals' names; DefaultInterval when empty.
	Interval string `json:"interval,omitempty"`
	// Limit caps the aggregates of one answer, 1 to
	// limits.QueryMaxAggregates (the default).
	Limit int `json:"limit,omitempty"`
	// Next is the previous answer's Next: the request, unchanged but for
	// this field, then answers the rest.
	Next string `json:"next,omitempty"`
}

// QueryResponse is the body of POST /query's 200 answer.
type QueryResponse struct {
	// Results hold the requested symbols in request order, each with its
	// aggregates in window order. A symbol whose aggregates span two
	// answers appears in both.
	Results []SymbolAggregates `json:"results"`
	// Unknown lists the requested symbols the pipeline never saw (their
	// results are empty).
	Unknown []string `json:"unknown,omitempty"`
	// Next, when set, is the token of the rest of the answer.
	Next string `json:"next,omitempty"`
}

// SymbolAggregates are one symbol's aggregates in a QueryResponse.
type SymbolAggregates struct {
	Symbol     string      `json:"symbol"`
	Aggregates []Aggregate `json:"aggregates"`
}

// Latest is a symbol's latest point, from its latest-state item: the body
// of GET /symbols/{symbol}/latest and an entry of GET /symbols.
type Latest struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	// PriceText is Price's exact text (Point.PriceText), answered as the
	// price's digits (MarshalJSON).
	PriceText string `json:"-"`
	// Timestamp is the point's epoch milliseconds.
	Timestamp int64 `json:"timestamp"`
	// UpdatedAt is when the pipeline stored it (epoch ms).
	UpdatedAt int64 `json:"updatedAt"`
}

// SymbolsResponse is the body of GET /symbols's 200 answer: a page of the
// symbols index in symbol order.
type SymbolsResponse struct {
	// Symbols are the page's symbols with their latest point. A symbol
	// whose latest state expired (no point for limits.DataRetention) is
	// listed without one: Price and Timestamp 0.
	Symbols []Latest `json:"symbols"`
	// Next, when set, is the value of the "next" parameter that asks for
	// the following page.
	Next string `json:"next,omitempty"`
}

type plainLatest Latest

// MarshalJSON writes l as encoding/json would, its price with its exact
// digits.
func (l Latest) MarshalJSON() ([]byte, error) {
	if l.PriceText == "" {
		return json.Marshal(plainLatest(l))
	}
	return json.Marshal(struct {
		plainLatest
		Price json.Number `json:"price"`
	}{plainLatest(l), json.Number(l.PriceText)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Latest) UnmarshalJSON(b []byte) error {
	var e struct {
		plainLatest
		Price json.Number `json:"price"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	*l = Latest(e.plainLatest)
	return readJSONPrice(e.Price, &l.Price, &l.PriceText)
}
