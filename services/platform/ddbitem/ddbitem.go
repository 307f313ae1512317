// Package ddbitem decodes the table's low-volume items (aggregates, state,
// reports, the active-window index) into their shared/marketdata types. It
// lives here, not in shared, because shared does not import the SDK's
// DynamoDB packages; the services and the local tools both use it.
package ddbitem

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Decode decodes item into v (an item type of shared/marketdata) with
// attributevalue, requiring every attribute T always has: a missing one is
// an error (marketdata.ErrItem), not a zero.
func Decode[T any](item map[string]types.AttributeValue, v *T) error {
	if err := marketdata.CheckAttributes[T](item); err != nil {
		return err
	}
	return attributevalue.UnmarshalMap(item, v)
}
