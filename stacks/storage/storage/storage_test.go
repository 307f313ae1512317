package storage

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Resource types of the layer.
const (
	typeBucket     = "aws:s3/bucketV2:BucketV2"
	typeOwnership  = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	typeVersioning = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeEncryption = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typePublic     = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typePolicy     = "aws:s3/bucketPolicy:BucketPolicy"
	typeLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeTable      = "aws:dynamodb/table:Table"
)

// resourceArgs maps every resource type of the layer to its provider args,
// so that the SDK itself says whether AWS tags the type.
var resourceArgs = map[string]interface{}{
	typeBucket:     s3.BucketV2Args{},
	typeTable:      dynamodb.TableArgs{},
	typeOwnership:  s3.BucketOwnershipControlsArgs{},
	typeVersioning: s3.BucketVersioningV2Args{},
	typeEncryption: s3.BucketServerSideEncryptionConfigurationV2Args{},
	typePublic:     s3.BucketPublicAccessBlockArgs{},
	typePolicy:     s3.BucketPolicyArgs{},
	typeLifecycle:  s3.BucketLifecycleConfigurationV2Args{},
}

// nonTaggable are the bucket's configuration resources: sub-resources of the
// bucket without tags of their own.
var nonTaggable = []string{typeOwnership, typeVersioning, typeEncryption, typePublic, typePolicy, typeLifecycle}

// run runs the program for stack; cfg holds config keys without namespace.
func run(t *testing.T, stack string, cfg map[string]string) *synthrec.Result {
	t.Helper()
	return stacktest.Run(t, Program, stacktest.Options(t, naming.ProjectStorage, stack, cfg))
}

func TestResourcesRegistered(t *testing.T) {
	stacktest.AssertRegistered(t, run(t, "dev", nil),
		typeTable+"::table",
		typeBucket+"::bucket",
		typeLifecycle+"::bucket-lifecycle",
		typeOwnership+"::bucket-ownership",
		typePolicy+"::bucket-policy",
		typePublic+"::bucket-public-access-block",
		typeEncryption+"::bucket-encryption",
		typeVersioning+"::bucket-versioning",
	)
}

func TestBucket(t *testing.T) {
	res := run(t, "dev", nil)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeBucket, "bucket"), `{
		"bucket": "market-data-dev",
		"forceDestroy": true,
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeOwnership, "bucket-ownership"), `{
		"bucket": "market-data-dev",
		"rule": {"objectOwnership": "BucketOwnerEnforced"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeVersioning, "bucket-versioning"), `{
		"bucket": "market-data-dev",
		"versioningConfiguration": {"status": "Enabled"}
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeEncryption, "bucket-encryption"), `{
		"bucket": "market-data-dev",
		"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
	}`)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typePublic, "bucket-public-access-block"), `{
		"bucket": "market-data-dev",
		"blockPublicAcls": true,
		"blockPublicPolicy": true,
		"ignorePublicAcls": true,
		"restrictPublicBuckets": true
	}`)
}

func TestBucketLifecycle(t *testing.T) {
	res := run(t, "dev", nil)
	// 30-day retention of current and noncurrent versions, expired delete
	// markers removed, unfinished multipart uploads aborted after a day; each
	// rule filtered on the empty prefix (the whole bucket).
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeLifecycle, "bucket-lifecycle"), `{
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
	res := run(t, "dev", nil)
	r := stacktest.Get(t, res, typePolicy, "bucket-policy")
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
	res := run(t, "dev", nil)
	bucket := stacktest.Get(t, res, typeBucket, "bucket")
	policy := stacktest.Get(t, res, typePolicy, "bucket-policy")
	public := stacktest.Get(t, res, typePublic, "bucket-public-access-block")
	lifecycle := stacktest.Get(t, res, typeLifecycle, "bucket-lifecycle")
	versioning := stacktest.Get(t, res, typeVersioning, "bucket-versioning")
	if ownership := stacktest.Get(t, res, typeOwnership, "bucket-ownership"); !public.DependsOn(ownership) {
		t.Errorf("the public access block must wait for the ownership controls; dependencies %v", public.Dependencies)
	}
	if !policy.DependsOn(public) {
		t.Errorf("the bucket policy must wait for the public access block; dependencies %v", policy.Dependencies)
	}
	if !lifecycle.DependsOn(versioning) {
		t.Errorf("the lifecycle configuration must wait for versioning; dependencies %v", lifecycle.Dependencies)
	}
	for _, r := range res.Resources {
		if r.Type != typeBucket && strings.HasPrefix(r.Type, "aws:s3/") && !r.DependsOn(bucket) {
			t.Errorf("%s %s does not depend on the bucket; dependencies %v", r.Type, r.Name, r.Dependencies)
		}
	}
}

func TestTable(t *testing.T) {
	res := run(t, "dev", nil)
	stacktest.AssertInputs(t, stacktest.Get(t, res, typeTable, "table"), `{
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
		Layer:       stacktest.Layer{Project: naming.ProjectStorage, Program: Program},
		ProjectFile: filepath.Join("..", "Pulumi.yaml"),
		// The empty default of environmentSuffix means "use the stack name".
		ConfigKeys:  map[string]stacktest.ConfigKey{common.ConfigEnvironmentSuffix: {Type: "string", Default: ""}},
		Types:       resourceArgs,
		NonTaggable: nonTaggable,
		Tagged:      2, // the bucket and the table
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
	})
}

func TestEnvironmentSuffix(t *testing.T) {
	long := "Feature-Branch-With-A-Really-Long-Name-2026"
	tests := []struct {
		name, stack, override string
		bucket, table         string
	}{
		{"the stack name by default", "dev", "", "market-data-dev", "MarketDataState-dev"},
		{"environmentSuffix overrides the stack name", "dev", "pr-42", "market-data-pr-42", "MarketDataState-pr-42"},
		{"upper case is lowered for the bucket only", "Prod", "", "market-data-prod", "MarketDataState-Prod"},
		{"symbols become dashes", "team_a.staging", "", "market-data-team-a-staging", "MarketDataState-team-a-staging"},
		{"long names are shortened with a hash", long, "",
			strings.ToLower("market-data-" + naming.MustNew(long).Suffix()), "MarketDataState-" + naming.MustNew(long).Suffix()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg map[string]string
			if tt.override != "" {
				cfg = map[string]string{common.ConfigEnvironmentSuffix: tt.override}
			}
			res := run(t, tt.stack, cfg)
			if got := stacktest.Get(t, res, typeBucket, "bucket").Inputs["bucket"]; got != tt.bucket {
				t.Errorf("bucket = %v, want %v", got, tt.bucket)
			}
			if got := stacktest.Get(t, res, typeTable, "table").Inputs["name"]; got != tt.table {
				t.Errorf("table = %v, want %v", got, tt.table)
			}
			if got := res.Outputs[outputs.BucketName]; got != tt.bucket {
				t.Errorf("output %s = %v, want %v", outputs.BucketName, got, tt.bucket)
			}
			if got := res.Outputs[outputs.TableName]; got != tt.table {
				t.Errorf("output %s = %v, want %v", outputs.TableName, got, tt.table)
			}
		})
	}
	if len(naming.MustNew(long).Suffix()) > naming.MaxSuffixLen {
		t.Errorf("long suffix was not shortened")
	}
}
