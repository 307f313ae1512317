package marketdata

// Aggregate is one (symbol, 5-minute window) aggregate, as stored in the table
// under AggregateKey(Symbol) / WindowStart and as served by GET /aggregates.
type Aggregate struct {
	Symbol      string  `json:"symbol"`
	WindowStart int64   `json:"windowStart"`
	WindowEnd   int64   `json:"windowEnd"`
	Open        float64 `json:"open"`
	High        float64 `json:"high"`
	Low         float64 `json:"low"`
	Close       float64 `json:"close"`
	Volume      int64   `json:"volume"`
	VWAP        float64 `json:"vwap"`
	Trades      int64   `json:"trades"`
	FirstTs     int64   `json:"firstTimestamp"`
	LastTs      int64   `json:"lastTimestamp"`
	UpdatedAt   int64   `json:"updatedAt"`
}

// Rejection reports one refused record: where it was and why.
type Rejection struct {
	// Index is the 0-based position in a JSON array / API body, or the
	// 1-based line number in a CSV or NDJSON file.
	Index  int64  `json:"index"`
	Reason string `json:"reason"`
}

// IngestResponse is the body of POST /ingest's 202 answer.
type IngestResponse struct {
	Accepted int `json:"accepted"`
	// Rejected lists the refused records, all of them unless the list would
	// make the answer too large; RejectedCount always counts all of them.
	Rejected      []Rejection `json:"rejected"`
	RejectedCount int         `json:"rejectedCount"`
	RequestID     string      `json:"requestId"`
}

// ErrorResponse is the body of every 4xx/5xx answer of the API.
type ErrorResponse struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}
