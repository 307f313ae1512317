package ddbitem

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func TestDecode(t *testing.T) {
	want := marketdata.StateItem{LastKey: "1700000000000", LastPrice: 1.5, LastMillis: 1_700_000_000_000, Points: 2, UpdatedAt: 3, ExpiresAt: 4}
	item, err := attributevalue.MarshalMap(want)
	if err != nil {
		t.Fatal(err)
	}
	var got marketdata.StateItem
	if err := Decode(item, &got); err != nil || got != want {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, want)
	}
	for name := range item {
		partial := map[string]any{}
		for k, v := range item {
			if k != name {
				partial[k] = v
			}
		}
		short, _ := attributevalue.MarshalMap(partial)
		if err := Decode(short, &got); !errors.Is(err, marketdata.ErrItem) {
			t.Errorf("without %s: err = %v, want ErrItem", name, err)
		}
	}
}
