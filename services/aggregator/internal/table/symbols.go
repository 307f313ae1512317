package table

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// latestOf reads a latest-state item.
func latestOf(symbol string, item map[string]types.AttributeValue) (marketdata.Latest, error) {
	var st marketdata.StateItem
	if err := ddbitem.Decode(item, &st); err != nil {
		return marketdata.Latest{}, fmt.Errorf("latest state of %s: %w", symbol, err)
	}
	return marketdata.Latest{Symbol: symbol, Price: st.LastPrice, PriceText: st.LastPriceText, Timestamp: st.LastMillis, UpdatedAt: st.UpdatedAt}, nil
}

// Latest returns symbol's latest point from its latest-state item (one
// GetItem); ok is false when it has none.
func (t *Table) Latest(ctx context.Context, symbol string) (l marketdata.Latest, ok bool, err error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: ddbitem.StateKey(symbol)})
	if err != nil {
		return marketdata.Latest{}, false, fmt.Errorf("get state of %s: %w", symbol, err)
	}
	if len(out.Item) == 0 {
		return marketdata.Latest{}, false, nil
	}
	l, err = latestOf(symbol, out.Item)
	return l, err == nil, err
}

// Symbols returns up to limit (1 to limits.DynamoBatchGetItems) symbols of
// the symbols index after the symbol after ("" for the first page), in
// symbol order, each with its latest point, and the symbol to resume after
// ("" on the last page). It reads one Query page of the index (its range
// keys sort as the symbols do, so "after" is an exclusive start key) and one
// BatchGetItem of the states, retrying unprocessed keys: no Scan.
func (t *Table) Symbols(ctx context.Context, after string, limit int) (page []marketdata.Latest, next string, err error) {
	if limit < 1 || limit > limits.DynamoBatchGetItems {
		return nil, "", fmt.Errorf("symbols page of %d, want 1 to %d", limit, limits.DynamoBatchGetItems)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.Name),
		KeyConditionExpression:    aws.String(phHash + " = :h"),
		ExpressionAttributeNames:  map[string]string{phHash: marketdata.AttrSymbol},
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: marketdata.SymbolsIndex}},
		// One more than the page: whether it exists says if there is a
		// next page (a LastEvaluatedKey alone may name an empty one).
		Limit: aws.Int32(int32(limit + 1)),
	}
	if after != "" {
		k, err := marketdata.SymbolIndexKey(after)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.SymbolsIndex},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: k},
		}
	}
	var syms []string
	pages := dynamodb.NewQueryPaginator(t.DB, in)
	for pages.HasMorePages() && len(syms) <= limit {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("query %s: %w", marketdata.SymbolsIndex, err)
		}
		for _, item := range out.Items {
			var it marketdata.SymbolIndexItem
			if err := ddbitem.Decode(item, &it); err != nil {
				return nil, "", fmt.Errorf("%s item: %w", marketdata.SymbolsIndex, err)
			}
			if !marketdata.ValidSymbol(it.Symbol) {
				return nil, "", fmt.Errorf("%s item names invalid symbol %q", marketdata.SymbolsIndex, it.Symbol)
			}
			syms = append(syms, it.Symbol)
		}
	}
	if len(syms) > limit {
		syms, next = syms[:limit], syms[limit-1]
	}
	latest, err := t.latestOfMany(ctx, syms)
	if err != nil {
		return nil, "", err
	}
	page = make([]marketdata.Latest, len(syms))
	for i, s := range syms {
		page[i] = latest[s]
		page[i].Symbol = s // a symbol whose state expired is listed without a latest point
	}
	return page, next, nil
}

// latestOfMany reads the latest states of syms (at most
// limits.DynamoBatchGetItems) with BatchGetItem, retrying the keys DynamoDB
// leaves unprocessed with the one backoff policy.
func (t *Table) latestOfMany(ctx context.Context, syms []string) (map[string]marketdata.Latest, error) {
	got := map[string]marketdata.Latest{}
	if len(syms) == 0 {
		return got, nil
	}
	keys := make([]map[string]types.AttributeValue, len(syms))
	for i, s := range syms {
		keys[i] = ddbitem.StateKey(s)
	}
	req := map[string]types.KeysAndAttributes{t.Name: {Keys: keys}}
	for attempt := 1; ; attempt++ {
		out, err := t.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("batch get latest states: %w", err)
		}
		for _, item := range out.Responses[t.Name] {
			var key struct {
				Key string `dynamodbav:"symbol"`
			}
			if err := ddbitem.Decode(item, &key); err != nil {
				return nil, fmt.Errorf("latest state: %w", err)
			}
			sym, ok := strings.CutPrefix(key.Key, marketdata.StatePrefix)
			if !ok {
				return nil, fmt.Errorf("latest state: hash key %q is not a state key", key.Key)
			}
			l, err := latestOf(sym, item)
			if err != nil {
				return nil, err
			}
			got[sym] = l
		}
		if len(out.UnprocessedKeys[t.Name].Keys) == 0 {
			return got, nil
		}
		req = out.UnprocessedKeys
		if err := t.Backoff.Wait(ctx, attempt); err != nil {
			return nil, fmt.Errorf("batch get latest states: %d keys unprocessed: %w", len(req[t.Name].Keys), err)
		}
	}
}
