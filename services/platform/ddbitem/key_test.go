package ddbitem

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// The table's key schema is a string hash key and a number range key: a
// key with a string range would be refused by DynamoDB.
func TestStateKey(t *testing.T) {
	key := StateKey("BRK.B")
	if len(key) != 2 {
		t.Fatalf("key %v has %d attributes, want the hash and the range key", key, len(key))
	}
	hash, ok := key[marketdata.AttrSymbol].(*types.AttributeValueMemberS)
	if !ok || hash.Value != marketdata.StateKey("BRK.B") {
		t.Errorf("hash key %#v, want the string %q", key[marketdata.AttrSymbol], marketdata.StateKey("BRK.B"))
	}
	rng, ok := key[marketdata.AttrTimestamp].(*types.AttributeValueMemberN)
	if !ok || rng.Value != marketdata.StateSortKey {
		t.Errorf("range key %#v, want the number %s", key[marketdata.AttrTimestamp], marketdata.StateSortKey)
	}
}
