package marketdata

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// The low-volume items of the table (aggregates, latest state, the
// active-window index, ingestion reports) are these types, encoded and
// decoded by the services and tools with
// github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue through their
// dynamodbav tags; this module stays standard library only, so it holds only
// the types and their tags. Raw points are built by hand in the processor
// (see its benchmarks) from the Attr* names in keys.go.
//
// RawPointItem is a raw point's item as readers decode it (hash the symbol,
// range the point's range key). The processor builds these items by hand,
// without reflection, from the Attr* names in keys.go; its tests decode them
// with this type.
type RawPointItem struct {
	Key string `dynamodbav:"timestamp"` // N: the range key, read as its text
	Point
	Origin    string `dynamodbav:"origin,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// A type does not hold the key attributes the service derives (a latest
// state's or a report's key): writers add them, readers know them already.

// AggregateItem is the item of an Aggregate: hash AggregateKey(symbol), range
// the window start. Aggregates have no TTL: they are the pipeline's product
// and stay after their raw points expire.
type AggregateItem struct {
	Key string `dynamodbav:"symbol"`
	Aggregate
}

// NewAggregateItem returns the item of a.
func NewAggregateItem(a Aggregate) AggregateItem {
	return AggregateItem{Key: AggregateKey(a.Symbol), Aggregate: a}
}

// ErrItem means a table item is not of the kind its reader expected.
var ErrItem = errors.New("invalid item")

// Value returns the aggregate an item read back holds.
func (it AggregateItem) Value() (Aggregate, error) {
	sym, ok := strings.CutPrefix(it.Key, AggregatePrefix)
	if !ok || !ValidSymbol(sym) {
		return Aggregate{}, fmt.Errorf("%w: hash key %q is not an aggregate key", ErrItem, clip(it.Key))
	}
	a := it.Aggregate
	a.Symbol = sym
	return a, nil
}

// PartialItem is the item of a Partial (see Partial.Item): hash
// PartialKey(symbol), range PartialSortKey. It expires with the raw points it
// summarises. The processor builds these items by hand from the AttrPartial*
// names in keys.go (its tests decode them with this type, so the names cannot
// drift); the aggregator decodes them with this type.
type PartialItem struct {
	Key      string `dynamodbav:"symbol"`
	Range    string `dynamodbav:"timestamp"` // N: read as its text
	Trades   int64  `dynamodbav:"trades"`
	Excluded int64  `dynamodbav:"excluded,omitempty"` // trades excluded from every price field
	// The open, close, high and low are absent when the conditions of
	// every trade excluded them (see Partial).
	OpenKey  string  `dynamodbav:"openKey,omitempty"` // S: the open's range key
	Open     float64 `dynamodbav:"open,omitempty"`
	CloseKey string  `dynamodbav:"closeKey,omitempty"` // S: the close's range key
	Close    float64 `dynamodbav:"close,omitempty"`
	High     float64 `dynamodbav:"high,omitempty"`
	Low      float64 `dynamodbav:"low,omitempty"`
	// The exact texts of the prices above (Partial's), stored as their
	// numbers: see ExactPrices.
	OpenText, CloseText, HighText, LowText string `dynamodbav:"-"`
	Volume                                 string `dynamodbav:"volume"` // S: Σ volume, a decimal integer (may exceed int64)
	// PV and Prices are the exact Σ price×volume and Σ price (big.Float
	// 'p' text); both are left out of a partial of one point.
	PV     string `dynamodbav:"pv,omitempty"`
	Prices string `dynamodbav:"prices,omitempty"`
	// Bars and NoVWAP are Partial's (absent when 0).
	Bars      int64 `dynamodbav:"bars,omitempty"`
	NoVWAP    int64 `dynamodbav:"noVwap,omitempty"`
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// StateItem is a symbol's latest-state item (hash StateKey(symbol), range
// StateSortKey). The processor maintains it with conditional update
// expressions over the names in state.go, which equal these tags.
type StateItem struct {
	LastKey   string  `dynamodbav:"lastKey"` // N: a raw point's range key, read as its text
	LastPrice float64 `dynamodbav:"lastPrice"`
	// LastPriceText is LastPrice's exact text (Point.PriceText), stored as
	// the number lastPrice: see ExactPrices.
	LastPriceText string `dynamodbav:"-"`
	LastMillis    int64  `dynamodbav:"lastMs"`
	Points        int64  `dynamodbav:"points"`
	UpdatedAt     int64  `dynamodbav:"updatedAt"`
	ExpiresAt     int64  `dynamodbav:"expiresAt"`
}

// ActiveWindowItem is the ActiveWindows item of one window (range key the
// window start): the symbols that received points in it. The processor
// adds to the set with an update expression; a string set cannot be empty,
// so an item without symbols names none.
type ActiveWindowItem struct {
	Start     int64    `dynamodbav:"timestamp"`
	Symbols   []string `dynamodbav:"symbols,stringset,omitempty"`
	ExpiresAt int64    `dynamodbav:"expiresAt"`
}

// IngestionReport is the report item of one S3 object version (key
// ReportKey). Ingestion claims it with an update expression (status
// IN_PROGRESS, owner, lease, object, start) and replaces it with the final
// report, which has every attribute, when the object has been read.
type IngestionReport struct {
	Status       string `dynamodbav:"status,omitempty" json:"status"`
	Owner        string `dynamodbav:"owner,omitempty" json:"owner"`
	LeaseUntil   int64  `dynamodbav:"leaseUntil,omitempty" json:"leaseUntil,omitempty"` // epoch ms, while IN_PROGRESS
	Attempts     int64  `dynamodbav:"attempts" json:"attempts"`
	Redeliveries int64  `dynamodbav:"redeliveries,omitempty" json:"redeliveries,omitempty"`
	Bucket       string `dynamodbav:"bucket,omitempty" json:"bucket"`
	ObjectKey    string `dynamodbav:"objectKey,omitempty" json:"objectKey"`
	VersionID    string `dynamodbav:"versionId,omitempty" json:"versionId,omitempty"`
	ETag         string `dynamodbav:"eTag,omitempty" json:"eTag,omitempty"`
	Origin       string `dynamodbav:"origin,omitempty" json:"origin"`
	StartedAt    string `dynamodbav:"startedAt,omitempty" json:"startedAt"` // RFC 3339
	FinishedAt   string `dynamodbav:"finishedAt,omitempty" json:"finishedAt,omitempty"`
	Format       string `dynamodbav:"format,omitempty" json:"format,omitempty"`
	// Profile is the ingestion profile the object was read with (Profiles).
	Profile      string `dynamodbav:"profile,omitempty" json:"profile,omitempty"`
	Compressed   bool   `dynamodbav:"compressed" json:"compressed"`
	ArchivedFile string `dynamodbav:"archivedFile,omitempty" json:"archivedFile,omitempty"` // the file read inside a zipped object
	ObjectBytes  int64  `dynamodbav:"objectBytes" json:"objectBytes"`
	DataBytes    int64  `dynamodbav:"dataBytes" json:"dataBytes"`
	Records      int64  `dynamodbav:"records" json:"records"`
	Accepted     int64  `dynamodbav:"accepted" json:"accepted"`
	Rejected     int64  `dynamodbav:"rejected" json:"rejected"`
	Messages     int64  `dynamodbav:"messages" json:"messages"`
	MessageBytes int64  `dynamodbav:"messageBytes" json:"messageBytes"`
	SQSCalls     int64  `dynamodbav:"sqsCalls" json:"sqsCalls"`
	// Rejections lists the first rejected records, up to a byte budget;
	// RejectionCounts counts all of them per category.
	Rejections        []Rejection      `dynamodbav:"rejections" json:"rejections"`
	RejectionsOmitted int64            `dynamodbav:"rejectionsOmitted" json:"rejectionsOmitted"`
	RejectionCounts   map[string]int64 `dynamodbav:"rejectionCounts" json:"rejectionCounts"`
	// TimestampUnits counts the accepted points by the unit their timestamp
	// was read in (s, ms, us, ns or rfc3339).
	TimestampUnits map[string]int64 `dynamodbav:"timestampUnits" json:"timestampUnits"`
	// IgnoredColumns are the CSV columns that name no field.
	IgnoredColumns []string `dynamodbav:"ignoredColumns,omitempty" json:"ignoredColumns,omitempty"`
	Error          string   `dynamodbav:"error,omitempty" json:"error,omitempty"`
	ErrorCategory  string   `dynamodbav:"errorCategory,omitempty" json:"errorCategory,omitempty"`
	ExpiresAt      int64    `dynamodbav:"expiresAt" json:"expiresAt"`
}

// Statuses of an IngestionReport. IN_PROGRESS is written before the first
// message is sent; COMPLETED when the object has been read to its end;
// REJECTED when it has been read to its end but every record was refused
// (nothing was queued); or FAILED at an error in its content. The final
// states are never left again.
const (
	ReportInProgress = "IN_PROGRESS"
	ReportCompleted  = "COMPLETED"
	ReportRejected   = "REJECTED"
	ReportFailed     = "FAILED"
)

// Final reports whether the report is in a final state (COMPLETED, REJECTED
// or FAILED).
func (r IngestionReport) Final() bool {
	return r.Status == ReportCompleted || r.Status == ReportRejected || r.Status == ReportFailed
}

// attributes returns the attribute names of item type t: the dynamodbav tag
// names of its fields (embedded structs included), except those tagged "-",
// and except the omitempty ones unless optional.
func attributes(t reflect.Type, optional bool) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("dynamodbav")
		if f.Anonymous && tag == "" {
			names = append(names, attributes(f.Type, optional)...)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !optional && strings.Contains(","+opts+",", ",omitempty,") {
			continue
		}
		names = append(names, name)
	}
	return names
}

// CheckAttributes reports an error naming the attributes an item of type T
// always has (not omitempty) that item lacks, so that a reader sees an error
// rather than a zero. V is the SDK's AttributeValue, which this module does
// not import.
func CheckAttributes[T, V any](item map[string]V) error {
	var missing []string
	for _, name := range attributes(reflect.TypeFor[T](), false) {
		if _, ok := item[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %T lacks %s", ErrItem, *new(T), strings.Join(missing, ", "))
	}
	return nil
}

// PriceField is a price attribute of an item whose float field may come
// with an exact text (Point.PriceText): the number the item stores is the
// text when there is one. attributevalue reads the float; ddbitem.Decode
// then sets the text from the stored number (AppendExactPrice), and
// ddbitem.Encode writes the text over the float's number. This module does
// not import the SDK, so the items list their fields for it.
type PriceField struct {
	Attr  string
	Float *float64
	Text  *string
}

// ExactPrices lists the raw point's price, bid and ask. It gives the point
// a PriceTexts to write to; CompactPrices drops it again when it holds no
// text.
func (it *RawPointItem) ExactPrices() []PriceField {
	if it.PriceTexts == nil {
		it.PriceTexts = new(PriceTexts)
	}
	t := it.PriceTexts
	return []PriceField{{AttrPrice, &it.Price, &t.Price}, {AttrBid, &it.Bid, &t.Bid}, {AttrAsk, &it.Ask, &t.Ask}}
}

// CompactPrices leaves PriceTexts nil when it holds no text (a point's
// usual form, see Point.PriceTexts).
func (it *RawPointItem) CompactPrices() {
	if t := it.PriceTexts; t != nil && *t == (PriceTexts{}) {
		it.PriceTexts = nil
	}
}

// ExactPrices lists the partial's open, close, high and low.
func (it *PartialItem) ExactPrices() []PriceField {
	return []PriceField{{AttrOpen, &it.Open, &it.OpenText}, {AttrClose, &it.Close, &it.CloseText},
		{AttrHigh, &it.High, &it.HighText}, {AttrLow, &it.Low, &it.LowText}}
}

// ExactPrices lists the aggregate's open, close, high and low.
func (it *AggregateItem) ExactPrices() []PriceField {
	a := &it.Aggregate
	return []PriceField{{AttrOpen, &a.Open, &a.OpenText}, {AttrClose, &a.Close, &a.CloseText},
		{AttrHigh, &a.High, &a.HighText}, {AttrLow, &a.Low, &a.LowText}}
}

// ExactPrices lists the latest state's price.
func (it *StateItem) ExactPrices() []PriceField {
	return []PriceField{{AttrLastPrice, &it.LastPrice, &it.LastPriceText}}
}
