//go:build integration

package awstest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestCreateTable checks against moto that the table has the storage stack's
// key schema, is active when CreateTable returns, and is gone after the test
// that created it.
func TestCreateTable(t *testing.T) {
	cfg := Config(t)
	db := dynamodb.NewFromConfig(cfg)
	describe := func(name string) (*dynamodb.DescribeTableOutput, error) {
		return db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	}
	var name string
	t.Run("create", func(t *testing.T) {
		name = CreateTable(t, cfg)
		out, err := describe(name)
		if err != nil {
			t.Fatal(err)
		}
		tb := out.Table
		if tb.TableStatus != types.TableStatusActive {
			t.Errorf("status %s, want ACTIVE", tb.TableStatus)
		}
		wantKeys := []types.KeySchemaElement{
			{AttributeName: aws.String(marketdata.AttrSymbol), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(marketdata.AttrTimestamp), KeyType: types.KeyTypeRange},
		}
		if !slices.EqualFunc(tb.KeySchema, wantKeys, func(a, b types.KeySchemaElement) bool {
			return aws.ToString(a.AttributeName) == aws.ToString(b.AttributeName) && a.KeyType == b.KeyType
		}) {
			t.Errorf("key schema %+v, want %+v", tb.KeySchema, wantKeys)
		}
		attrs := map[string]types.ScalarAttributeType{}
		for _, a := range tb.AttributeDefinitions {
			attrs[aws.ToString(a.AttributeName)] = a.AttributeType
		}
		if len(attrs) != 2 || attrs[marketdata.AttrSymbol] != types.ScalarAttributeTypeS || attrs[marketdata.AttrTimestamp] != types.ScalarAttributeTypeN {
			t.Errorf("attribute definitions %v, want symbol S and timestamp N", attrs)
		}
		if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("billing mode %+v, want PAY_PER_REQUEST", tb.BillingModeSummary)
		}
	})
	if name == "" {
		t.Fatal("no table created")
	}
	var notFound *types.ResourceNotFoundException
	if _, err := describe(name); !errors.As(err, &notFound) {
		t.Errorf("table %s after its test ended: %v, want ResourceNotFoundException", name, err)
	}
}
