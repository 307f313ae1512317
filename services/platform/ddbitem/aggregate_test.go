package ddbitem

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// An aggregate's volume is stored as a DynamoDB number with its exact
// digits, integral or not, and read back as it was; an item written while
// volume was an int64 (a plain N) reads back the same.
func TestAggregateVolumeIsANumber(t *testing.T) {
	for _, vol := range []marketdata.Decimal{"0", "1500", "12.3456789", "18446744073709551616.000000000000000001"} {
		a := marketdata.Aggregate{Symbol: "BTCUSDT", WindowStart: 300_000, WindowEnd: 600_000, Open: 1, High: 1, Low: 1, Close: 1,
			Volume: vol, VWAP: 1, Trades: 2, FirstTs: 300_000, LastTs: 300_001, UpdatedAt: 5}
		item, err := attributevalue.MarshalMap(marketdata.NewAggregateItem(a))
		if err != nil {
			t.Fatal(err)
		}
		n, ok := item[marketdata.AttrVolume].(*types.AttributeValueMemberN)
		if !ok || n.Value != string(vol) {
			t.Fatalf("volume %s stored as %#v, want the number %s", vol, item[marketdata.AttrVolume], vol)
		}
		var back marketdata.AggregateItem
		if err := Decode(item, &back); err != nil {
			t.Fatal(err)
		}
		if got, err := back.Value(); err != nil || got != a {
			t.Fatalf("read back %+v, %v; want %+v", got, err, a)
		}
	}
}
