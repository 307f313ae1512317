// Package marketdata defines the pipeline's data contract: the market data
// point and its validation, the processing-queue message, the DynamoDB item
// key patterns and the custom EventBridge event.
package marketdata

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/limits"
)

// Point is one market data point (a trade or quote tick).
//
// The dynamodbav tags are the attributes of its raw point item (see
// RawPointItem), where the range key is not the timestamp but the point's
// range key (AppendSortKey), so the milliseconds are stored as "ms".
type Point struct {
	Symbol string `json:"symbol" dynamodbav:"symbol"`
	// Timestamp is epoch milliseconds (UTC).
	Timestamp int64   `json:"timestamp" dynamodbav:"ms"`
	Price     float64 `json:"price" dynamodbav:"price"`
	// Volume is a non-negative decimal (Decimal), at most MaxDecimalScale
	// fraction digits: crypto sizes are fractional.
	Volume Decimal `json:"volume" dynamodbav:"volume"`
	// Bid and Ask are optional; zero means absent.
	Bid      float64 `json:"bid,omitempty" dynamodbav:"bid,omitempty"`
	Ask      float64 `json:"ask,omitempty" dynamodbav:"ask,omitempty"`
	Exchange string  `json:"exchange,omitempty" dynamodbav:"exchange,omitempty"`
	// SubMilliNanos is the rest of a timestamp given finer than Timestamp
	// (µs, ns, an RFC 3339 fraction): the nanoseconds within its
	// millisecond, 0 to 999999. It only orders the points of one
	// millisecond, through the range key AppendSortKey writes (its leading
	// digits); the key travels in the queue message, so neither the message
	// nor the stored item carries the field itself.
	SubMilliNanos int32 `json:"-" dynamodbav:"-"`
	// Conditions are the trade's sale conditions in the pipeline's one
	// form (conditions.NormalizeIDs: Polygon ids, comma-separated, e.g.
	// "14,37"); empty for a trade without conditions, which updates every
	// field of its window.
	Conditions string `json:"conditions,omitempty" dynamodbav:"conditions,omitempty"`
	// PriceTexts holds the exact texts of the price, bid and ask whose
	// floats do not say them (PriceText, BidText, AskText), nil when there
	// is none: almost always, so a point pays 8 bytes for them, not 48 (the
	// processor decodes 1,800 points per message). The queue message
	// carries them as "pt", "bt" and "at"; the raw item stores each as its
	// number (readers that want them decode with ddbitem, see
	// RawPointItem.ExactPrices).
	*PriceTexts `dynamodbav:"-"`
}

// PriceTexts are a point's exact price texts (AppendExactPrice): each
// empty when its float says the price.
type PriceTexts struct {
	Price string `json:"pt,omitempty"`
	Bid   string `json:"bt,omitempty"`
	Ask   string `json:"at,omitempty"`
}

// PriceText is the price's exact text, "" when Price says it.
func (p Point) PriceText() string {
	if p.PriceTexts == nil {
		return ""
	}
	return p.PriceTexts.Price
}

// BidText is the bid's exact text, "" when Bid says it.
func (p Point) BidText() string {
	if p.PriceTexts == nil {
		return ""
	}
	return p.PriceTexts.Bid
}

// AskText is the ask's exact text, "" when Ask says it.
func (p Point) AskText() string {
	if p.PriceTexts == nil {
		return ""
	}
	return p.PriceTexts.Ask
}

// SetTexts sets the exact texts of the price, bid and ask: PriceTexts
// stays nil when all are empty.
func (p *Point) SetTexts(price, bid, ask string) {
	if price == "" && bid == "" && ask == "" {
		p.PriceTexts = nil
		return
	}
	p.PriceTexts = &PriceTexts{Price: price, Bid: bid, Ask: ask}
}

// NanosPerMilli is one past the largest Point.SubMilliNanos.
const NanosPerMilli = 1_000_000

// Validation errors. Reasons reported to users wrap these.
var (
	ErrSymbol    = errors.New("invalid symbol")
	ErrPrice     = errors.New("invalid price")
	ErrVolume    = errors.New("invalid volume")
	ErrTimestamp = errors.New("invalid timestamp")
	ErrQuote     = errors.New("invalid bid/ask")
	ErrExchange  = errors.New("invalid exchange")
	ErrCondition = errors.New("invalid conditions")
)

// MaxExchangeLen bounds the optional exchange code.
const MaxExchangeLen = 16

// Price bounds. A valid price (and bid and ask) must be stored exactly in a
// DynamoDB number, whose magnitude range is 1e-130 to 1e126; the bounds below
// leave that range far behind while covering every real instrument, from
// sub-micro-cent tokens to the largest index levels. Without them an absurd
// but "positive and finite" price would pass ingestion and then poison the
// processor's write.
const (
	MinPrice = 1e-12
	MaxPrice = 1e15
)

// ValidSymbol reports whether s is an upper-case ticker such as AAPL, BRK.B or
// BTC-USD: 1 to limits.MaxSymbolLen characters of A-Z, 0-9, '.' and '-', starting
// with a letter or digit.
func ValidSymbol(s string) bool {
	if len(s) == 0 || len(s) > limits.MaxSymbolLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// Validate checks p against the contract at time now. The error wraps one of
// the Err* sentinels and says what was wrong.
func (p Point) Validate(now time.Time) error {
	if !ValidSymbol(p.Symbol) {
		return fmt.Errorf("%w %q: want 1-%d of A-Z 0-9 . -", ErrSymbol, clip(p.Symbol), limits.MaxSymbolLen)
	}
	if math.IsNaN(p.Price) || math.IsInf(p.Price, 0) || p.Price <= 0 {
		return fmt.Errorf("%w %v: want a finite number > 0", ErrPrice, p.Price)
	}
	if !PriceInRange(p.Price, p.PriceText()) {
		return fmt.Errorf("%w %s: outside the storable range [%g, %g]", ErrPrice, PriceText(p.Price, p.PriceText()), MinPrice, MaxPrice)
	}
	if why := p.Volume.check(); why != "" {
		return fmt.Errorf("%w %q: %s", ErrVolume, clip(string(p.Volume)), why)
	}
	if p.Timestamp < 0 {
		return fmt.Errorf("%w %d: before 1970", ErrTimestamp, p.Timestamp)
	}
	// now.Add(skew).UnixMilli(), in integers (skew is whole milliseconds):
	// Validate runs once per point ingested.
	if max := now.UnixMilli() + limits.MaxFutureSkew.Milliseconds(); p.Timestamp > max {
		return fmt.Errorf("%w %d: more than %s in the future", ErrTimestamp, p.Timestamp, limits.MaxFutureSkew)
	}
	if p.SubMilliNanos < 0 || p.SubMilliNanos >= NanosPerMilli {
		return fmt.Errorf("%w %d: %d nanoseconds within the millisecond, want 0 to %d", ErrTimestamp, p.Timestamp, p.SubMilliNanos, NanosPerMilli-1)
	}
	for _, q := range [...]struct {
		name string
		v    float64
		t    string
	}{{"bid", p.Bid, p.BidText()}, {"ask", p.Ask, p.AskText()}} {
		if math.IsNaN(q.v) || math.IsInf(q.v, 0) || q.v < 0 {
			return fmt.Errorf("%w: %s %v: want a finite number > 0", ErrQuote, q.name, q.v)
		}
		if q.v != 0 && !PriceInRange(q.v, q.t) {
			return fmt.Errorf("%w: %s %s: outside the storable range [%g, %g]", ErrQuote, q.name, PriceText(q.v, q.t), MinPrice, MaxPrice)
		}
	}
	if p.PriceTexts != nil { // rare: the common path pays this one test
		if err := p.checkTexts(); err != nil {
			return err
		}
	}
	// Equal floats may still be bid > ask by their exact texts.
	if p.Bid > 0 && p.Ask > 0 && p.Bid >= p.Ask && (p.Bid > p.Ask || ComparePrices(p.Bid, p.BidText(), p.Ask, p.AskText()) > 0) {
		return fmt.Errorf("%w: bid %s > ask %s", ErrQuote, PriceText(p.Bid, p.BidText()), PriceText(p.Ask, p.AskText()))
	}
	if len(p.Exchange) > MaxExchangeLen {
		return fmt.Errorf("%w %q: longer than %d", ErrExchange, clip(p.Exchange), MaxExchangeLen)
	}
	if _, err := conditions.Of(p.Conditions); err != nil { // cached per distinct conditions
		return fmt.Errorf("%w %q: %w", ErrCondition, clip(p.Conditions), err)
	}
	return nil
}

// checkTexts checks the exact texts of the price, bid and ask against
// their floats (checkPriceText).
func (p Point) checkTexts() error {
	t := p.PriceTexts
	if why := checkPriceText(t.Price, p.Price); why != "" {
		return fmt.Errorf("%w %v: %s", ErrPrice, p.Price, why)
	}
	if why := checkPriceText(t.Bid, p.Bid); why != "" {
		return fmt.Errorf("%w: bid %v: %s", ErrQuote, p.Bid, why)
	}
	if why := checkPriceText(t.Ask, p.Ask); why != "" {
		return fmt.Errorf("%w: ask %v: %s", ErrQuote, p.Ask, why)
	}
	return nil
}

// Effect returns what the point updates in its window, from its
// conditions (cached per distinct conditions; see conditions.Of).
func (p Point) Effect() (conditions.Effect, error) { return conditions.Of(p.Conditions) }

// clip keeps error messages short when the input is huge.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
