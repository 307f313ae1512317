// Package awstest is the moto setup the services' integration tests share:
// an AWS configuration pointed at the moto server named by MOTO_ENDPOINT and
// built the way the functions build theirs, unique resource names, and the
// pipeline's DynamoDB table with its real key schema.
//
// It is imported only by test files (`//go:build integration`); it depends on
// nothing the platform module does not already need.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/awsconfig"
	"github.com/marketanalytics/pipeline/services/platform/tracing"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// EndpointEnv names the environment variable holding the moto server's URL.
const EndpointEnv = "MOTO_ENDPOINT"

// Config points this process's AWS environment at the moto server named by
// MOTO_ENDPOINT — AWS_ENDPOINT_URL, fake credentials, the pipeline's region,
// all through t.Setenv, so that code under test which loads its own
// configuration from the environment (a function's newHandler) reaches the
// same server — and returns the configuration the functions' main builds:
// tracing.Init, then awsconfig.Load (standard retryer, X-Ray
// instrumentation). It fails the test, never skips it, when MOTO_ENDPOINT is
// unset. As it uses t.Setenv, the test must not be parallel.
func Config(t testing.TB) aws.Config {
	t.Helper()
	endpoint := os.Getenv(EndpointEnv)
	if endpoint == "" {
		t.Fatal(EndpointEnv + " is not set: integration tests need a moto server " +
			"(`moto_server -H 127.0.0.1 -p 5123`, then " + EndpointEnv + "=http://127.0.0.1:5123); " +
			"`go run mage.go test` starts one and sets it")
	}
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", naming.Region)
	if err := tracing.Init(); err != nil {
		t.Fatalf("tracing: %v", err)
	}
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Names returns the pipeline's resource names for a fresh suffix ("it-",
// the time in base 36 and random hex), unique across tests and across the
// test processes of several modules sharing one moto server.
func Names() naming.Names {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return naming.MustNew("it-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + hex.EncodeToString(b[:]))
}

// CreateTable creates a table named Names().Table() with the storage stack's
// key schema (hash marketdata.AttrSymbol S, range marketdata.AttrTimestamp N,
// on demand), waits until it exists, deletes it when the test ends, and
// returns its name.
func CreateTable(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := dynamodb.NewFromConfig(cfg)
	name := Names().Table()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(marketdata.AttrSymbol), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(marketdata.AttrTimestamp), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(marketdata.AttrSymbol), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(marketdata.AttrTimestamp), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("delete table %s: %v", name, err)
		}
	})
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("table %s never became active: %v", name, err)
	}
	return name
}
