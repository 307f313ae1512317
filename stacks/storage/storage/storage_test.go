package storage

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
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

// taggable says for every resource type of the layer whether AWS lets it carry
// tags. The bucket's configuration resources are sub-resources of the bucket
// and have no tags of their own.
var taggable = map[string]bool{
	typeBucket:     true,
	typeTable:      true,
	typeOwnership:  false,
	typeVersioning: false,
	typeEncryption: false,
	typePublic:     false,
	typePolicy:     false,
	typeLifecycle:  false,
}

func run(t *testing.T, stack string, config map[string]string) *mocks.Result {
	t.Helper()
	res, err := mocks.Run(Program, mocks.Options{Project: naming.ProjectStorage, Stack: stack, Config: config})
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return res
}

func get(t *testing.T, res *mocks.Result, typ, name string) mocks.Resource {
	t.Helper()
	r, err := res.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// assertInputs compares a resource's inputs, all of them, with want (JSON):
// a property that is missing, extra or different fails.
func assertInputs(t *testing.T, r mocks.Resource, want string) {
	t.Helper()
	var w map[string]interface{}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation for %s: %v", r.Name, err)
	}
	if !reflect.DeepEqual(r.Inputs, w) {
		got, _ := json.MarshalIndent(r.Inputs, "", "  ")
		exp, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s %s inputs:\n got %s\nwant %s", r.Type, r.Name, got, exp)
	}
}

func TestResourcesRegistered(t *testing.T) {
	res := run(t, "dev", nil)
	var got []string
	for _, r := range res.Resources {
		got = append(got, r.Type+"::"+r.Name)
	}
	sort.Strings(got)
	want := []string{
		typeTable + "::table",
		typeBucket + "::bucket",
		typeLifecycle + "::bucket-lifecycle",
		typeOwnership + "::bucket-ownership",
		typePolicy + "::bucket-policy",
		typePublic + "::bucket-public-access-block",
		typeEncryption + "::bucket-encryption",
		typeVersioning + "::bucket-versioning",
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resources:\n got %v\nwant %v", got, want)
	}
}

func TestBucket(t *testing.T) {
	res := run(t, "dev", nil)
	assertInputs(t, get(t, res, typeBucket, "bucket"), `{
		"bucket": "market-data-dev",
		"forceDestroy": true,
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
	assertInputs(t, get(t, res, typeOwnership, "bucket-ownership"), `{
		"bucket": "market-data-dev",
		"rule": {"objectOwnership": "BucketOwnerEnforced"}
	}`)
	assertInputs(t, get(t, res, typeVersioning, "bucket-versioning"), `{
		"bucket": "market-data-dev",
		"versioningConfiguration": {"status": "Enabled"}
	}`)
	assertInputs(t, get(t, res, typeEncryption, "bucket-encryption"), `{
		"bucket": "market-data-dev",
		"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
	}`)
	assertInputs(t, get(t, res, typePublic, "bucket-public-access-block"), `{
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
	assertInputs(t, get(t, res, typeLifecycle, "bucket-lifecycle"), `{
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
	r := get(t, res, typePolicy, "bucket-policy")
	if got := r.Inputs["bucket"]; got != "market-data-dev" {
		t.Errorf("policy bucket = %v, want market-data-dev", got)
	}
	doc, ok := r.Inputs["policy"].(string)
	if !ok {
		t.Fatalf("policy input is %T, want a JSON string", r.Inputs["policy"])
	}
	assertPolicy(t, doc, common.Policy{Version: common.PolicyVersion, Statement: []common.Statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]interface{}{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{"arn:aws:s3:::market-data-dev", "arn:aws:s3:::market-data-dev/*"},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}}})
}

// assertPolicy parses doc and compares it, statement by statement, with want.
func assertPolicy(t *testing.T, doc string, want common.Policy) {
	t.Helper()
	var got common.Policy
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	// Round-trip the expectation so that both sides hold JSON types.
	b, _ := json.Marshal(want)
	want = common.Policy{}
	_ = json.Unmarshal(b, &want)
	if got.Version != want.Version {
		t.Errorf("policy Version = %q, want %q", got.Version, want.Version)
	}
	if len(got.Statement) != len(want.Statement) {
		t.Errorf("policy has %d statements, want %d:\n%s", len(got.Statement), len(want.Statement), doc)
	}
	for i := range want.Statement {
		if i >= len(got.Statement) {
			break
		}
		if !reflect.DeepEqual(got.Statement[i], want.Statement[i]) {
			g, _ := json.Marshal(got.Statement[i])
			w, _ := json.Marshal(want.Statement[i])
			t.Errorf("statement %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

func TestDependencies(t *testing.T) {
	res := run(t, "dev", nil)
	bucket := get(t, res, typeBucket, "bucket")
	policy := get(t, res, typePolicy, "bucket-policy")
	public := get(t, res, typePublic, "bucket-public-access-block")
	lifecycle := get(t, res, typeLifecycle, "bucket-lifecycle")
	versioning := get(t, res, typeVersioning, "bucket-versioning")
	if ownership := get(t, res, typeOwnership, "bucket-ownership"); !public.DependsOn(ownership) {
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
	assertInputs(t, get(t, res, typeTable, "table"), `{
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

func TestEveryTaggableResourceHasBothTags(t *testing.T) {
	res := run(t, "dev", nil)
	for _, r := range res.Resources {
		tagged, known := taggable[r.Type]
		if !known {
			t.Errorf("%s %s: resource type not classified as taggable or not", r.Type, r.Name)
			continue
		}
		tags, hasTags := r.Inputs["tags"].(map[string]interface{})
		if !tagged {
			if hasTags {
				t.Errorf("%s %s is listed as not taggable but has tags %v", r.Type, r.Name, tags)
			}
			continue
		}
		want := map[string]interface{}{"Environment": "Production", "Project": "MarketAnalytics"}
		if !reflect.DeepEqual(tags, want) {
			t.Errorf("%s %s tags = %v, want %v", r.Type, r.Name, r.Inputs["tags"], want)
		}
	}
}

func TestNothingIsProtectedOrRetained(t *testing.T) {
	res := run(t, "dev", nil)
	for _, r := range res.Resources {
		if r.Protect || r.RetainOnDelete {
			t.Errorf("%s %s: protect=%v retainOnDelete=%v; every resource must destroy with the stack",
				r.Type, r.Name, r.Protect, r.RetainOnDelete)
		}
	}
}

func TestOutputs(t *testing.T) {
	res := run(t, "dev", nil)
	want := map[string]interface{}{
		outputs.BucketName: "market-data-dev",
		outputs.BucketArn:  "arn:aws:s3:::market-data-dev",
		outputs.TableName:  "MarketDataState-dev",
		outputs.TableArn:   "arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev",
	}
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Errorf("outputs:\n got %v\nwant %v", res.Outputs, want)
	}
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
			var config map[string]string
			if tt.override != "" {
				config = map[string]string{naming.ProjectStorage + ":" + common.ConfigEnvironmentSuffix: tt.override}
			}
			res := run(t, tt.stack, config)
			if got := get(t, res, typeBucket, "bucket").Inputs["bucket"]; got != tt.bucket {
				t.Errorf("bucket = %v, want %v", got, tt.bucket)
			}
			if got := get(t, res, typeTable, "table").Inputs["name"]; got != tt.table {
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

func TestInvalidEnvironmentSuffixFails(t *testing.T) {
	_, err := mocks.Run(Program, mocks.Options{Project: naming.ProjectStorage, Stack: "dev",
		Config: map[string]string{naming.ProjectStorage + ":" + common.ConfigEnvironmentSuffix: "--//--"}})
	if err == nil || !strings.Contains(err.Error(), common.ConfigEnvironmentSuffix) {
		t.Errorf("err = %v, want an error naming %s", err, common.ConfigEnvironmentSuffix)
	}
}

// TestProjectFile checks Pulumi.yaml against Pulumi's own project schema and
// validation, and that it declares the config the program reads.
func TestProjectFile(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if proj.Name.String() != naming.ProjectStorage {
		t.Errorf("project name = %q, want %q", proj.Name, naming.ProjectStorage)
	}
	if proj.Runtime.Name() != "go" {
		t.Errorf("runtime = %q, want go", proj.Runtime.Name())
	}
	if proj.Description == nil || *proj.Description == "" {
		t.Error("project has no description")
	}
	sfx, ok := proj.Config[common.ConfigEnvironmentSuffix]
	if !ok {
		t.Fatalf("config %s is not declared", common.ConfigEnvironmentSuffix)
	}
	// A typed key without a default is required by the CLI; the empty default
	// means "use the stack name".
	typ := "<none>"
	if sfx.Type != nil {
		typ = *sfx.Type
	}
	if typ != "string" || sfx.Default != "" || sfx.Description == "" {
		t.Errorf("config %s: type %s, default %#v, description %q; want a described string with default \"\"",
			common.ConfigEnvironmentSuffix, typ, sfx.Default, sfx.Description)
	}
	if region := proj.Config["aws:region"]; region.Value != naming.Region {
		t.Errorf("aws:region = %v, want %s", region.Value, naming.Region)
	}
	if len(proj.Config) != 2 {
		t.Errorf("config declares %d keys, want environmentSuffix and aws:region only", len(proj.Config))
	}
}
