// Package ddbitem decodes the table's low-volume items (aggregates, state,
// reports, the active-window index) into their shared/marketdata types. It
// lives here, not in shared, because shared does not import the SDK's
// DynamoDB packages; the services and the local tools both use it.
package ddbitem

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Decode decodes item into v (an item type of shared/marketdata) with
// attributevalue, requiring every attribute T always has: a missing one is
// an error (marketdata.ErrItem), not a zero.
//
// An item with prices (marketdata.PriceField) gets their exact texts too:
// attributevalue reads a number into the float nearest it, and the text is
// set when the stored number has more digits than that float says.
func Decode[T any](item map[string]types.AttributeValue, v *T) error {
	if err := marketdata.CheckAttributes[T](item); err != nil {
		return err
	}
	if err := attributevalue.UnmarshalMap(item, v); err != nil {
		return err
	}
	if e, ok := any(v).(exactPricer); ok {
		for _, f := range e.ExactPrices() {
			*f.Text = ""
			n, ok := item[f.Attr].(*types.AttributeValueMemberN)
			if !ok {
				continue
			}
			text, why := marketdata.ExactPrice(n.Value, *f.Float)
			if why != "" {
				return fmt.Errorf("%w: %s %s: %s", marketdata.ErrItem, f.Attr, n.Value, why)
			}
			*f.Text = text
		}
		if c, ok := any(v).(interface{ CompactPrices() }); ok {
			c.CompactPrices()
		}
	}
	return nil
}

// exactPricer is an item with prices that may carry exact texts.
type exactPricer interface {
	ExactPrices() []marketdata.PriceField
}

// Encode returns v's item (attributevalue.MarshalMap), its prices with
// their exact texts (marketdata.PriceField): the numbers Decode reads back.
func Encode[T any](v *T) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	if e, ok := any(v).(exactPricer); ok {
		for _, f := range e.ExactPrices() {
			if *f.Text != "" && *f.Float != 0 {
				item[f.Attr] = &types.AttributeValueMemberN{Value: *f.Text}
			}
		}
		if c, ok := any(v).(interface{ CompactPrices() }); ok {
			c.CompactPrices() // ExactPrices may have given v a holder
		}
	}
	return item, nil
}
