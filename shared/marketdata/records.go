package marketdata

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Aggregate is one (symbol, 5-minute window) aggregate, as stored in the table
// under AggregateKey(Symbol) / WindowStart and as served by GET /aggregates.
type Aggregate struct {
	// Symbol is not stored as such: the item's hash key is
	// AggregateKey(Symbol) (see AggregateItem).
	Symbol      string `json:"symbol" dynamodbav:"-"`
	WindowStart int64  `json:"windowStart" dynamodbav:"timestamp"` // the range key
	WindowEnd   int64  `json:"windowEnd" dynamodbav:"windowEnd"`   // exclusive
	// Open and close (with their times FirstTs and LastTs), high and low
	// are left out (0) when the sale conditions of every trade of the
	// window exclude them (see Partial): no trade may set them.
	Open  float64 `json:"open,omitempty" dynamodbav:"open,omitempty"`
	High  float64 `json:"high,omitempty" dynamodbav:"high,omitempty"`
	Low   float64 `json:"low,omitempty" dynamodbav:"low,omitempty"`
	Close float64 `json:"close,omitempty" dynamodbav:"close,omitempty"`
	// The exact texts of open, high, low and close (Partial's), when the
	// floats' shortest texts are other numbers: the items store them as
	// the numbers (AggregateItem.ExactPrices) and the API answers them as
	// JSON numbers with those digits (MarshalJSON).
	OpenText, HighText, LowText, CloseText string `json:"-" dynamodbav:"-"`
	// Volume is the exact Σ volume: an integer when integral, else a
	// decimal with the volumes' digits ("12.3456789"), a JSON number.
	Volume Decimal `json:"volume" dynamodbav:"volume"`
	// VWAP is left out of an answer (0) when it is unknown: VWAPUnknown.
	VWAP float64 `json:"vwap,omitempty" dynamodbav:"vwap"`
	// VWAPUnknown: the window holds bars that gave no VWAP (Polygon's
	// minute aggregates), so its VWAP cannot be computed; none is invented.
	VWAPUnknown bool  `json:"vwapUnknown,omitempty" dynamodbav:"vwapUnknown,omitempty"`
	Trades      int64 `json:"trades" dynamodbav:"trades"`
	// Excluded counts the trades (of Trades) whose conditions exclude them
	// from open, close, high and low.
	Excluded int64 `json:"excludedTrades" dynamodbav:"excluded,omitempty"`
	// FirstTs and LastTs are the times of the open and the close.
	FirstTs   int64 `json:"firstTimestamp,omitempty" dynamodbav:"firstTimestamp,omitempty"`
	LastTs    int64 `json:"lastTimestamp,omitempty" dynamodbav:"lastTimestamp,omitempty"`
	UpdatedAt int64 `json:"updatedAt" dynamodbav:"updatedAt"`
	// PV and Prices are the window's exact Σ price×volume and Σ price
	// (Partial.Sums' text), stored so that larger intervals merged on read
	// (Rollup) are exact too; empty on windows written before they were
	// kept. Not part of the API's answers.
	PV     string `json:"-" dynamodbav:"pv,omitempty"`
	Prices string `json:"-" dynamodbav:"prices,omitempty"`
}

// Rejection reports one refused record: where it was and why.
type Rejection struct {
	// Index is the 0-based position in a JSON array / API body, or the
	// 1-based line number in a CSV or NDJSON file.
	Index  int64  `json:"index" dynamodbav:"index"`
	Reason string `json:"reason" dynamodbav:"reason"`
}

// IngestResponse is the body of POST /ingest's 202 answer.
type IngestResponse struct {
	Accepted int `json:"accepted"`
	// Rejected lists the refused records, all of them unless the list would
	// make the answer too large; RejectedCount always counts all of them.
	Rejected      []Rejection `json:"rejected"`
	RejectedCount int         `json:"rejectedCount"`
	// Profile is the ingestion profile the body was read with (Profiles).
	Profile   string `json:"profile,omitempty"`
	RequestID string `json:"requestId"`
}

// ErrorResponse is the body of every 4xx/5xx answer of the API.
type ErrorResponse struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

// exactJSON is an Aggregate's JSON with its prices as numbers of their
// exact digits: the fields named as plain's prices dominate them.
type exactJSON struct {
	plainAggregate
	Open  json.Number `json:"open,omitempty"`
	High  json.Number `json:"high,omitempty"`
	Low   json.Number `json:"low,omitempty"`
	Close json.Number `json:"close,omitempty"`
}

type plainAggregate Aggregate

// jsonPrice is the JSON number of the price x with exact text t: t, else
// x as encoding/json writes a float64; "" (left out) for 0.
func jsonPrice(x float64, t string) json.Number {
	switch {
	case t != "":
		return json.Number(t)
	case x == 0:
		return ""
	}
	return json.Number(appendJSONFloat(nil, x))
}

// readJSONPrice reads a JSON number into a price and its exact text.
func readJSONPrice(n json.Number, x *float64, t *string) error {
	if n == "" {
		return nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrPrice, clip(string(n)), err)
	}
	text, why := ExactPrice(string(n), f)
	if why != "" {
		return fmt.Errorf("%w %q: %s", ErrPrice, clip(string(n)), why)
	}
	*x, *t = f, text
	return nil
}

// MarshalJSON writes a as encoding/json would, its open, high, low and
// close with their exact digits (the text when there is one).
func (a Aggregate) MarshalJSON() ([]byte, error) {
	if a.OpenText == "" && a.HighText == "" && a.LowText == "" && a.CloseText == "" {
		return json.Marshal(plainAggregate(a))
	}
	return json.Marshal(exactJSON{plainAggregate(a), jsonPrice(a.Open, a.OpenText), jsonPrice(a.High, a.HighText),
		jsonPrice(a.Low, a.LowText), jsonPrice(a.Close, a.CloseText)})
}

// UnmarshalJSON reads what MarshalJSON writes: prices of more digits than
// a float64 keeps get their exact text.
func (a *Aggregate) UnmarshalJSON(b []byte) error {
	var e exactJSON
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	*a = Aggregate(e.plainAggregate)
	for _, f := range [...]struct {
		n json.Number
		x *float64
		t *string
	}{{e.Open, &a.Open, &a.OpenText}, {e.High, &a.High, &a.HighText}, {e.Low, &a.Low, &a.LowText}, {e.Close, &a.Close, &a.CloseText}} {
		if err := readJSONPrice(f.n, f.x, f.t); err != nil {
			return err
		}
	}
	return nil
}
