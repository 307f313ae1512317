package ddbitem

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Key is the table key of the item with hash key hash and range key rng (a
// number, as its decimal text).
func Key(hash, rng string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: hash},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: rng},
	}
}

// StateKey is the key of symbol's latest-state item: one copy for the
// processor that writes it and the aggregator and local tools that read it.
func StateKey(symbol string) map[string]types.AttributeValue {
	return Key(marketdata.StateKey(symbol), marketdata.StateSortKey)
}
