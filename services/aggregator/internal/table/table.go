// Package table is the aggregator's access to the pipeline table: it reads a
// window's raw points, the ACTIVE5M index of windows with data, the stored
// aggregates and the latest-state items, and writes aggregate items. Every
// read is a GetItem or a paginated Query with a projection; nothing scans.
package table

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// DynamoDB is the part of the DynamoDB client the aggregator uses.
type DynamoDB interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Table reads and writes the pipeline table.
type Table struct {
	DB   DynamoDB
	Name string
	// PageLimit caps the items per Query page; 0 leaves DynamoDB's 1 MB
	// pages. Tests set it to force pagination.
	PageLimit int32
	// Backoff paces the retries of the keys a BatchGetItem leaves
	// unprocessed (the zero value: the platform's defaults).
	Backoff backoff.Policy
}

// Expression placeholders. "timestamp" is a DynamoDB reserved word, so every
// attribute goes through a name placeholder.
const (
	phHash       = "#h"
	phRange      = "#r"
	phPrice      = "#p"
	phVolume     = "#v"
	phConditions = "#c"
	phSet        = "#s"
	phTrades     = "#n"
)

// WindowSummary aggregates the window of symbol starting at start (epoch
// ms) by merging its partial aggregates (marketdata.Partial: the processor
// writes one per message and window), not by reading its raw points: a
// window recomputed at every batch that adds to it reads each batch's few
// partials, not every point stored so far again, so the reads grow with the
// points stored, not with their square. read is the number of items read.
// The partials are read with a strongly consistent, paginated Query on the
// range-key BETWEEN of marketdata.PartialRange and folded page by page. ok
// is false when the window has none. A partial that cannot be decoded is an
// error: an aggregate silently missing points would be wrong.
func (t *Table) WindowSummary(ctx context.Context, symbol string, start int64) (sum ohlcv.Summary, read int64, ok bool, err error) {
	lo, hi := marketdata.PartialRange(start)
	in := t.windowQuery(marketdata.PartialKey(symbol), lo, hi)
	var acc ohlcv.Accumulator
	err = t.query(ctx, in, func(item map[string]types.AttributeValue) error {
		read++
		var it marketdata.PartialItem
		if err := ddbitem.Decode(item, &it); err != nil {
			return fmt.Errorf("partial of %s in window %d: %w", symbol, start, err)
		}
		p, err := it.Partial()
		if err != nil {
			return fmt.Errorf("partial %s of %s: %w", it.Range, symbol, err)
		}
		acc.Merge(p)
		return nil
	})
	if err != nil {
		return ohlcv.Summary{}, read, false, err
	}
	sum, ok = acc.Summary()
	return sum, read, ok, nil
}

// RawWindowSummary is WindowSummary computed from the window's raw points
// and raw bars (the repair path, --from-raw): the same fold, so the same
// result to the last bit when the partials are complete. It projects only
// the points' key, price, volume and conditions (whose effect it applies as
// the processor does). A bar has no raw points to rebuild it from: its raw
// bar item (marketdata.RawBarItem) is folded in as the processor folded it
// into its partial, so a repair never drops a window's bars.
func (t *Table) RawWindowSummary(ctx context.Context, symbol string, start int64) (sum ohlcv.Summary, read int64, ok bool, err error) {
	lo, hi := marketdata.MillisRange(start, marketdata.WindowEnd(start))
	var acc ohlcv.Accumulator
	in := t.windowQuery(symbol, lo, hi)
	in.ProjectionExpression = aws.String(phRange + ", " + phPrice + ", " + phVolume + ", " + phConditions)
	in.ExpressionAttributeNames[phPrice] = marketdata.AttrPrice
	in.ExpressionAttributeNames[phVolume] = marketdata.AttrVolume
	in.ExpressionAttributeNames[phConditions] = marketdata.AttrConditions
	err = t.query(ctx, in, func(item map[string]types.AttributeValue) error {
		read++
		tk, err := decodeTick(item)
		if err != nil {
			return fmt.Errorf("raw point of %s in window %d: %w", symbol, start, err)
		}
		if err := acc.Add(tk); err != nil {
			return fmt.Errorf("raw point %s of %s: %w", marketdata.FormatSortKey(tk.Millis, tk.Disc), symbol, err)
		}
		return nil
	})
	if err != nil {
		return ohlcv.Summary{}, read, false, err
	}
	err = t.query(ctx, t.windowQuery(marketdata.BarKey(symbol), lo, hi), func(item map[string]types.AttributeValue) error {
		read++
		it, err := ddbitem.DecodeBar(item)
		if err != nil {
			return fmt.Errorf("raw bar of %s in window %d: %w", symbol, start, err)
		}
		ms, disc, err := marketdata.ParseSortKey(it.Key)
		if err == nil {
			err = it.Bar.Validate(time.Now()) // as the processor checked it: AddBar needs a valid bar
		}
		if err != nil {
			return fmt.Errorf("raw bar %s of %s: %w", it.Key, symbol, err)
		}
		acc.AddBar(ms, disc, it.Bar)
		return nil
	})
	if err != nil {
		return ohlcv.Summary{}, read, false, err
	}
	sum, ok = acc.Summary()
	return sum, read, ok, nil
}

// windowQuery is the Query of the items of hash between the range keys lo
// and hi (inclusive).
func (t *Table) windowQuery(hash, lo, hi string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                aws.String(t.Name),
		KeyConditionExpression:   aws.String(phHash + " = :h AND " + phRange + " BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{phHash: marketdata.AttrSymbol, phRange: marketdata.AttrTimestamp},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h":  &types.AttributeValueMemberS{Value: hash},
			":lo": &types.AttributeValueMemberN{Value: lo},
			":hi": &types.AttributeValueMemberN{Value: hi},
		},
		// The processor announces a window right after writing its items;
		// an eventually consistent read could miss them and store a stale
		// aggregate nothing would correct.
		ConsistentRead: aws.Bool(true),
	}
}

// decodeTick reads a raw point item projected to key, price, volume and
// conditions (absent: none). Conditions the table does not know are an
// error, as a bad price is.
func decodeTick(item map[string]types.AttributeValue) (ohlcv.Tick, error) {
	key, err := number(item, marketdata.AttrTimestamp)
	if err != nil {
		return ohlcv.Tick{}, err
	}
	ms, disc, err := marketdata.ParseSortKey(key)
	if err != nil {
		return ohlcv.Tick{}, err
	}
	ps, err := number(item, marketdata.AttrPrice)
	if err != nil {
		return ohlcv.Tick{}, fmt.Errorf("key %s: %w", key, err)
	}
	price, err := strconv.ParseFloat(ps, 64)
	if err != nil || !(price > 0) || math.IsInf(price, 0) {
		return ohlcv.Tick{}, fmt.Errorf("key %s: price %q is not a finite number > 0", key, ps)
	}
	text, why := marketdata.ExactPrice(ps, price) // "" unless the item holds more digits than the float
	if why != "" {
		return ohlcv.Tick{}, fmt.Errorf("key %s: price %q: %s", key, ps, why)
	}
	vs, err := number(item, marketdata.AttrVolume)
	if err != nil {
		return ohlcv.Tick{}, fmt.Errorf("key %s: %w", key, err)
	}
	vol, err := marketdata.ParseDecimal(vs)
	if err != nil {
		return ohlcv.Tick{}, fmt.Errorf("key %s: volume: %w", key, err)
	}
	tk := ohlcv.Tick{Millis: ms, Disc: disc, Price: price, PriceText: text, Volume: vol}
	if c, ok := item[marketdata.AttrConditions]; ok {
		s, isS := c.(*types.AttributeValueMemberS)
		if !isS {
			return ohlcv.Tick{}, fmt.Errorf("key %s: attribute %q is not a string", key, marketdata.AttrConditions)
		}
		tk.Conditions = s.Value
	}
	return tk, nil
}

// number returns the string of number attribute name.
func number(item map[string]types.AttributeValue, name string) (string, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return "", fmt.Errorf("attribute %q missing or not a number", name)
	}
	return n.Value, nil
}

// PutAggregate writes a's item. The write is conditional: it only replaces a
// stored aggregate of the same window that counted no more points. Points are
// only ever added to a window (a re-delivered point overwrites itself), so
// the point count only grows, and the guard keeps a slow recomputation that
// read fewer points from overwriting a newer one (two invocations racing on
// one window), and keeps a full aggregate once its raw points expired by TTL.
// Equal counts mean the same points, so a recomputation rewrites the same
// values (and a new updatedAt): idempotent. written is false when the guard
// refused the write.
func (t *Table) PutAggregate(ctx context.Context, a marketdata.Aggregate) (written bool, err error) {
	return t.putAggregate(ctx, a, true)
}

// ReplaceAggregate writes a's item without the guard of PutAggregate: the
// from-raw repair path, whose count of the raw points is the truth even
// when a stored aggregate counts more (a point that reached the table in
// two different messages is one raw item but counted by both partials).
func (t *Table) ReplaceAggregate(ctx context.Context, a marketdata.Aggregate) error {
	_, err := t.putAggregate(ctx, a, false)
	return err
}

func (t *Table) putAggregate(ctx context.Context, a marketdata.Aggregate, guarded bool) (written bool, err error) {
	item, err := AggregateItem(a)
	if err != nil {
		return false, err
	}
	if !guarded {
		if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: item}); err != nil {
			return false, fmt.Errorf("replace aggregate %s/%d: %w", a.Symbol, a.WindowStart, err)
		}
		return true, nil
	}
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.Name),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(" + phHash + ") OR " + phTrades + " <= :n"),
		ExpressionAttributeNames: map[string]string{phHash: marketdata.AttrSymbol, phTrades: marketdata.AttrTrades},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": numberValue(a.Trades),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put aggregate %s/%d: %w", a.Symbol, a.WindowStart, err)
	}
	return true, nil
}

// numberValue is an integer as a DynamoDB number.
func numberValue(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// AggregateItem is the table item of a (marketdata.AggregateItem).
func AggregateItem(a marketdata.Aggregate) (map[string]types.AttributeValue, error) {
	it := marketdata.NewAggregateItem(a)
	item, err := ddbitem.Encode(&it) // prices with their exact texts
	if err != nil {
		return nil, fmt.Errorf("encode aggregate %s/%d: %w", a.Symbol, a.WindowStart, err)
	}
	return item, nil
}

// ParseAggregateItem is the inverse of AggregateItem. An item lacking an
// attribute is an error, not a zero.
func ParseAggregateItem(item map[string]types.AttributeValue) (marketdata.Aggregate, error) {
	var it marketdata.AggregateItem
	if err := ddbitem.Decode(item, &it); err != nil {
		return marketdata.Aggregate{}, fmt.Errorf("aggregate item: %w", err)
	}
	return it.Value()
}

// ActiveWindows returns the (symbol, window) pairs the processor recorded in
// the ACTIVE5M items of the windows starting from fromStart to toStart
// (inclusive), sorted by window then symbol. It is a strongly consistent
// Query on the ACTIVE5M partition, not a Scan.
func (t *Table) ActiveWindows(ctx context.Context, fromStart, toStart int64) ([]marketdata.WindowRef, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(t.Name),
		KeyConditionExpression:   aws.String(phHash + " = :h AND " + phRange + " BETWEEN :lo AND :hi"),
		ProjectionExpression:     aws.String(phRange + ", " + phSet),
		ExpressionAttributeNames: map[string]string{phHash: marketdata.AttrSymbol, phRange: marketdata.AttrTimestamp, phSet: marketdata.AttrActiveSymbols},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h":  &types.AttributeValueMemberS{Value: marketdata.ActiveWindows},
			":lo": numberValue(fromStart),
			":hi": numberValue(toStart),
		},
		ConsistentRead: aws.Bool(true),
	}
	var refs []marketdata.WindowRef
	err := t.query(ctx, in, func(item map[string]types.AttributeValue) error {
		var it marketdata.ActiveWindowItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("%s item: %w", marketdata.ActiveWindows, err)
		}
		if _, ok := item[marketdata.AttrTimestamp]; !ok {
			return fmt.Errorf("%s item without its window start", marketdata.ActiveWindows)
		}
		syms := slices.Clone(it.Symbols)
		slices.Sort(syms)
		for _, sym := range syms {
			refs = append(refs, marketdata.WindowRef{Symbol: sym, Start: it.Start})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return refs, nil
}

// Aggregates returns the stored aggregates of symbol whose window starts in
// [fromStart, toStart], in window order.
func (t *Table) Aggregates(ctx context.Context, symbol string, fromStart, toStart int64) ([]marketdata.Aggregate, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(t.Name),
		KeyConditionExpression:   aws.String(phHash + " = :h AND " + phRange + " BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{phHash: marketdata.AttrSymbol, phRange: marketdata.AttrTimestamp},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h":  &types.AttributeValueMemberS{Value: marketdata.AggregateKey(symbol)},
			":lo": numberValue(fromStart),
			":hi": numberValue(toStart),
		},
	}
	aggs := []marketdata.Aggregate{}
	err := t.query(ctx, in, func(item map[string]types.AttributeValue) error {
		a, err := ParseAggregateItem(item)
		if err != nil {
			return err
		}
		aggs = append(aggs, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return aggs, nil
}

// SymbolKnown reports whether the pipeline has seen symbol: it has a
// latest-state item (the processor keeps one per symbol; it expires by TTL
// like the raw points) or any aggregate (aggregates do not expire).
func (t *Table) SymbolKnown(ctx context.Context, symbol string) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(t.Name),
		Key:                      ddbitem.StateKey(symbol),
		ProjectionExpression:     aws.String(phHash),
		ExpressionAttributeNames: map[string]string{phHash: marketdata.AttrSymbol},
	})
	if err != nil {
		return false, fmt.Errorf("get state of %s: %w", symbol, err)
	}
	if len(out.Item) > 0 {
		return true, nil
	}
	q, err := t.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(t.Name),
		KeyConditionExpression:    aws.String(phHash + " = :h"),
		ProjectionExpression:      aws.String(phHash),
		ExpressionAttributeNames:  map[string]string{phHash: marketdata.AttrSymbol},
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: marketdata.AggregateKey(symbol)}},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("query aggregates of %s: %w", symbol, err)
	}
	return len(q.Items) > 0, nil
}

// query runs in page by page (following LastEvaluatedKey) and calls each for
// every item, stopping at the first error.
func (t *Table) query(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	if t.PageLimit > 0 {
		in.Limit = aws.Int32(t.PageLimit)
	}
	pages := dynamodb.NewQueryPaginator(t.DB, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query %s: %w", in.ExpressionAttributeValues[":h"].(*types.AttributeValueMemberS).Value, err)
		}
		for _, item := range out.Items {
			if err := each(item); err != nil {
				return err
			}
		}
	}
	return nil
}
