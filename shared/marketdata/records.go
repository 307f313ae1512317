package marketdata

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
	// Volume is the exact Σ volume: an integer when integral, else a
	// decimal with the volumes' digits ("12.3456789"), a JSON number.
	Volume Decimal `json:"volume" dynamodbav:"volume"`
	VWAP   float64 `json:"vwap" dynamodbav:"vwap"`
	Trades int64   `json:"trades" dynamodbav:"trades"`
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
