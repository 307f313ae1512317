package storage

import (
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// fixture is the storage layer, which references no other.
var fixture = stacktest.Fixture{Layer: stacktest.Layer{Project: naming.ProjectStorage, Program: Program}}

func TestBucket(t *testing.T) {
	res := fixture.RunDev(t)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucket, "bucket"), `{
		"bucket": "market-data-dev",
		"forceDestroy": true,
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucketOwnership, "bucket-ownership"), `{
		"bucket": "market-data-dev",
		"rule": {"objectOwnership": "BucketOwnerEnforced"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucketVersioning, "bucket-versioning"), `{
		"bucket": "market-data-dev",
		"versioningConfiguration": {"status": "Enabled"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucketEncryption, "bucket-encryption"), `{
		"bucket": "market-data-dev",
		"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucketPublicBlock, "bucket-public-access-block"), `{
		"bucket": "market-data-dev",
		"blockPublicAcls": true,
		"blockPublicPolicy": true,
		"ignorePublicAcls": true,
		"restrictPublicBuckets": true
	}`)
}

func TestBucketLifecycle(t *testing.T) {
	res := fixture.RunDev(t)
	// 30-day retention of current and noncurrent versions, expired delete
	// markers removed, unfinished multipart uploads aborted after a day; each
	// rule filtered on the empty prefix (the whole bucket).
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeBucketLifecycle, "bucket-lifecycle"), `{
		"bucket": "market-data-dev",
		"rules": [
			{
				"id": "expire-after-retention",
				"status": "Enabled",
				"filter": {"prefix": ""},
				"expiration": {"days": 30},
				"noncurrentVersionExpiration": {"noncurrentDays": 30},
				"abortIncompleteMultipartUpload": {"daysAfterInitiation": 1}
			},
			{
				"id": "remove-expired-delete-markers",
				"status": "Enabled",
				"filter": {"prefix": ""},
				"expiration": {"expiredObjectDeleteMarker": true}
			}
		]
	}`)
}

func TestBucketPolicyDeniesInsecureTransport(t *testing.T) {
	res := fixture.RunDev(t)
	r := stacktest.Get(t, res, stacktest.TypeBucketPolicy, "bucket-policy")
	if got := r.Inputs["bucket"]; got != "market-data-dev" {
		t.Errorf("policy bucket = %v, want market-data-dev", got)
	}
	doc, ok := r.Inputs["policy"].(string)
	if !ok {
		t.Fatalf("policy input is %T, want a JSON string", r.Inputs["policy"])
	}
	stacktest.AssertPolicy(t, "bucket policy", doc, common.Policy{Version: common.PolicyVersion, Statement: []common.Statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]interface{}{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{"arn:aws:s3:::market-data-dev", "arn:aws:s3:::market-data-dev/*"},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}}})
}

func TestDependencies(t *testing.T) {
	res := fixture.RunDev(t)
	bucket := stacktest.Get(t, res, stacktest.TypeBucket, "bucket")
	policy := stacktest.Get(t, res, stacktest.TypeBucketPolicy, "bucket-policy")
	public := stacktest.Get(t, res, stacktest.TypeBucketPublicBlock, "bucket-public-access-block")
	lifecycle := stacktest.Get(t, res, stacktest.TypeBucketLifecycle, "bucket-lifecycle")
	versioning := stacktest.Get(t, res, stacktest.TypeBucketVersioning, "bucket-versioning")
	if ownership := stacktest.Get(t, res, stacktest.TypeBucketOwnership, "bucket-ownership"); !public.DependsOn(ownership) {
		t.Errorf("the public access block must wait for the ownership controls; dependencies %v", public.Dependencies)
	}
	if !policy.DependsOn(public) {
		t.Errorf("the bucket policy must wait for the public access block; dependencies %v", policy.Dependencies)
	}
	if !lifecycle.DependsOn(versioning) {
		t.Errorf("the lifecycle configuration must wait for versioning; dependencies %v", lifecycle.Dependencies)
	}
	for _, r := range res.Resources {
		if r.Type != stacktest.TypeBucket && strings.HasPrefix(r.Type, "aws:s3/") && !r.DependsOn(bucket) {
			t.Errorf("%s %s does not depend on the bucket; dependencies %v", r.Type, r.Name, r.Dependencies)
		}
	}
}

func TestTable(t *testing.T) {
	res := fixture.RunDev(t)
	stacktest.AssertInputs(t, stacktest.Get(t, res, stacktest.TypeTable, "table"), `{
		"name": "MarketDataState-dev",
		"billingMode": "PAY_PER_REQUEST",
		"hashKey": "symbol",
		"rangeKey": "timestamp",
		"attributes": [{"name": "symbol", "type": "S"}, {"name": "timestamp", "type": "N"}],
		"pointInTimeRecovery": {"enabled": true},
		"deletionProtectionEnabled": false,
		"ttl": {"attributeName": "expiresAt", "enabled": true},
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
}

// TestConformance runs the checks every layer passes.
func TestConformance(t *testing.T) {
	stacktest.AssertConformance(t, stacktest.Conformance{
		Layer:  fixture.Layer,
		Tagged: 2, // the bucket and the table
		Outputs: func(testing.TB, *synthrec.Result) map[string]interface{} {
			return map[string]interface{}{
				outputs.BucketName: "market-data-dev",
				outputs.BucketArn:  "arn:aws:s3:::market-data-dev",
				outputs.TableName:  "MarketDataState-dev",
				outputs.TableArn:   "arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev",

				outputs.EnvironmentSuffix: "dev",
			}
		},
		InvalidSuffix: "--//--",
		Registered: []string{
			stacktest.TypeTable + "::table",
			stacktest.TypeBucket + "::bucket",
			stacktest.TypeBucketLifecycle + "::bucket-lifecycle",
			stacktest.TypeBucketOwnership + "::bucket-ownership",
			stacktest.TypeBucketPolicy + "::bucket-policy",
			stacktest.TypeBucketPublicBlock + "::bucket-public-access-block",
			stacktest.TypeBucketEncryption + "::bucket-encryption",
			stacktest.TypeBucketVersioning + "::bucket-versioning",
		},
	})
}

// Every name the layer derives follows the stack name or its
// environmentSuffix override; the bucket's in lower case, as S3 requires.
func TestEnvironmentSuffix(t *testing.T) {
	fixture.EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		bucket, table := "market-data-"+strings.ToLower(sfx), "MarketDataState-"+sfx
		if got := stacktest.Get(t, res, stacktest.TypeBucket, "bucket").Inputs["bucket"]; got != bucket {
			t.Errorf("bucket = %v, want %v", got, bucket)
		}
		if got := stacktest.Get(t, res, stacktest.TypeTable, "table").Inputs["name"]; got != table {
			t.Errorf("table = %v, want %v", got, table)
		}
		if got := res.Outputs[outputs.BucketName]; got != bucket {
			t.Errorf("output %s = %v, want %v", outputs.BucketName, got, bucket)
		}
		if got := res.Outputs[outputs.TableName]; got != table {
			t.Errorf("output %s = %v, want %v", outputs.TableName, got, table)
		}
	})
}
