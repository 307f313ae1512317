package ddbitem

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// EncodePartial returns the table item of a partial aggregate. It is built
// by hand rather than with attributevalue.MarshalMap: the processor writes
// one per message and window, up to one per point for sparse data, where
// reflection would cost more than the rest of the item; and the range key
// must be a number, which MarshalMap would write as the string it is held
// in. Decode(item, &marketdata.PartialItem{}) reads it back (tested).
func EncodePartial(it marketdata.PartialItem) map[string]types.AttributeValue {
	f := func(v float64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'f', -1, 64)}
	}
	item := map[string]types.AttributeValue{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: it.Key},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: it.Range},
		marketdata.AttrTrades:    &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Trades, 10)},
		marketdata.AttrOpenKey:   &types.AttributeValueMemberS{Value: it.OpenKey},
		marketdata.AttrOpen:      f(it.Open),
		marketdata.AttrCloseKey:  &types.AttributeValueMemberS{Value: it.CloseKey},
		marketdata.AttrClose:     f(it.Close),
		marketdata.AttrHigh:      f(it.High),
		marketdata.AttrLow:       f(it.Low),
		marketdata.AttrSumVol:    &types.AttributeValueMemberS{Value: it.Volume},
		marketdata.AttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(it.ExpiresAt, 10)},
	}
	if it.PV != "" {
		item[marketdata.AttrSumPV] = &types.AttributeValueMemberS{Value: it.PV}
	}
	if it.Prices != "" {
		item[marketdata.AttrSumPrice] = &types.AttributeValueMemberS{Value: it.Prices}
	}
	return item
}
