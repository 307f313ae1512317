package ddbitem

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// EncodeBar returns the table item of a raw bar: Encode's (attributevalue's,
// its prices their exact numbers), but for the range key, a number
// (MarshalMap would write the string it is held in). Bars are few (one a
// minute per symbol), so reflection costs nothing that matters here.
func EncodeBar(it marketdata.RawBarItem) (map[string]types.AttributeValue, error) {
	item, err := Encode(&it)
	if err != nil {
		return nil, fmt.Errorf("raw bar %s: %w", it.Key, err)
	}
	item[marketdata.AttrTimestamp] = &types.AttributeValueMemberN{Value: it.Key}
	return item, nil
}

// DecodeBar reads a raw bar item back, its symbol from the hash key.
func DecodeBar(item map[string]types.AttributeValue) (marketdata.RawBarItem, error) {
	var it marketdata.RawBarItem
	if err := Decode(item, &it); err != nil {
		return it, err
	}
	sym, ok := strings.CutPrefix(it.Hash, marketdata.BarPrefix)
	if !ok {
		return it, fmt.Errorf("%w: hash key %q is not a bar key", marketdata.ErrItem, it.Hash)
	}
	it.Symbol = sym
	return it, nil
}
