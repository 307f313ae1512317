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
	// open, close, high and low are often equal (always for one point):
	// each distinct price is formatted once and its member shared (the
	// items are only read, by the SDK, as the raw point items share theirs).
	// A price with an exact text (marketdata.Point.PriceText) is stored
	// as that text.
	var seen [4]struct {
		v    float64
		text string
		n    types.AttributeValue
	}
	used := 0
	price := func(v float64, text string) types.AttributeValue {
		for _, s := range seen[:used] {
			if s.v == v && s.text == text {
				return s.n
			}
		}
		n := &types.AttributeValueMemberN{Value: marketdata.PriceText(v, text)}
		seen[used].v, seen[used].text, seen[used].n = v, text, n
		used++
		return n
	}
	item := make(map[string]types.AttributeValue, partialAttrs)
	item[marketdata.AttrSymbol] = &types.AttributeValueMemberS{Value: it.Key}
	item[marketdata.AttrTimestamp] = &types.AttributeValueMemberN{Value: it.Range}
	item[marketdata.AttrTrades] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Trades, 10)}
	// A partial whose trades' conditions excluded them has no open and
	// close, or no high and low (marketdata.Partial): left out.
	if it.OpenKey != "" {
		item[marketdata.AttrOpenKey] = &types.AttributeValueMemberS{Value: it.OpenKey}
		item[marketdata.AttrOpen] = price(it.Open, it.OpenText)
		item[marketdata.AttrCloseKey] = &types.AttributeValueMemberS{Value: it.CloseKey}
		item[marketdata.AttrClose] = price(it.Close, it.CloseText)
	}
	if it.High != 0 {
		item[marketdata.AttrHigh] = price(it.High, it.HighText)
		item[marketdata.AttrLow] = price(it.Low, it.LowText)
	}
	if it.Excluded != 0 {
		item[marketdata.AttrExcluded] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Excluded, 10)}
	}
	item[marketdata.AttrSumVol] = &types.AttributeValueMemberS{Value: it.Volume}
	item[marketdata.AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.ExpiresAt, 10)}
	if it.PV != "" {
		item[marketdata.AttrSumPV] = &types.AttributeValueMemberS{Value: it.PV}
	}
	if it.Prices != "" {
		item[marketdata.AttrSumPrice] = &types.AttributeValueMemberS{Value: it.Prices}
	}
	if it.Bars != 0 { // a partial holding bars (marketdata.Partial.AddBar)
		item[marketdata.AttrBars] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Bars, 10)}
	}
	if it.NoVWAP != 0 {
		item[marketdata.AttrNoVWAP] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.NoVWAP, 10)}
	}
	return item
}

// partialAttrs is the most attributes a partial item has.
const partialAttrs = 16
