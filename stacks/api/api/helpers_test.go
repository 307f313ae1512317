package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

const (
	acct   = mocks.Account
	region = naming.Region
)

// lowerOutputs are realistic outputs of the storage and compute stacks for names n.
func lowerOutputs(n naming.Names) (storage, compute map[string]interface{}) {
	fnArn := func(name string) string { return "arn:aws:lambda:" + region + ":" + acct + ":function:" + name }
	invoke := func(name string) string {
		return "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/" + fnArn(name) + "/invocations"
	}
	storage = map[string]interface{}{
		outputs.BucketName: n.Bucket(),
		outputs.BucketArn:  "arn:aws:s3:::" + n.Bucket(),
		outputs.TableName:  n.Table(),
		outputs.TableArn:   "arn:aws:dynamodb:" + region + ":" + acct + ":table/" + n.Table(),
	}
	compute = map[string]interface{}{
		outputs.IngestionFunctionName:  n.Ingestion(),
		outputs.IngestionFunctionArn:   fnArn(n.Ingestion()),
		outputs.IngestionInvokeArn:     invoke(n.Ingestion()),
		outputs.ProcessorFunctionName:  n.Processor(),
		outputs.ProcessorFunctionArn:   fnArn(n.Processor()),
		outputs.AggregatorFunctionName: n.Aggregator(),
		outputs.AggregatorFunctionArn:  fnArn(n.Aggregator()),
		outputs.AggregatorInvokeArn:    invoke(n.Aggregator()),
	}
	return storage, compute
}

// options runs the api program for stack with lower layers at their default
// stack names and the given extra config (keys without namespace).
func options(stack string, cfg map[string]string) mocks.Options {
	raw := stack
	if s, ok := cfg[common.ConfigEnvironmentSuffix]; ok {
		raw = s
	}
	storage, compute := lowerOutputs(naming.MustNew(raw))
	config := map[string]string{"aws:region": region}
	for k, v := range cfg {
		config[naming.ProjectAPI+":"+k] = v
	}
	return mocks.Options{
		Project: naming.ProjectAPI,
		Stack:   stack,
		Config:  config,
		StackOutputs: map[string]map[string]interface{}{
			"organization/" + naming.ProjectStorage + "/" + stack: storage,
			"organization/" + naming.ProjectCompute + "/" + stack: compute,
		},
	}
}

func run(t *testing.T, opts mocks.Options) *mocks.Result {
	t.Helper()
	res, err := mocks.Run(Program, opts)
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return res
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *mocks.Result {
	t.Helper()
	return run(t, options("dev", nil))
}

func get(t *testing.T, res *mocks.Result, typ, name string) mocks.Resource {
	t.Helper()
	r, err := res.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// normalize turns Go values into what the recording holds (JSON data).
func normalize(t *testing.T, v interface{}) interface{} {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// input returns an input by dotted path ("tracingConfig.mode").
func input(r mocks.Resource, path string) (interface{}, bool) {
	var cur interface{} = r.Inputs
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// wantInput asserts an input's exact value.
func wantInput(t *testing.T, r mocks.Resource, path string, want interface{}) {
	t.Helper()
	got, ok := input(r, path)
	if !ok {
		t.Errorf("%s %s: input %s is missing", r.Type, r.Name, path)
		return
	}
	if w := normalize(t, want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s %s: %s = %#v, want %#v", r.Type, r.Name, path, got, w)
	}
}

// wantNoInput asserts an input is absent.
func wantNoInput(t *testing.T, r mocks.Resource, path string) {
	t.Helper()
	if got, ok := input(r, path); ok && got != nil {
		t.Errorf("%s %s: input %s = %#v, want none", r.Type, r.Name, path, got)
	}
}

// policyInput unmarshals a policy document input.
func policyInput(t *testing.T, r mocks.Resource, path string) common.Policy {
	t.Helper()
	v, ok := input(r, path)
	if !ok {
		t.Fatalf("%s %s: no %s", r.Type, r.Name, path)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s %s: %s is %T, want a JSON string", r.Type, r.Name, path, v)
	}
	var p common.Policy
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s %s: policy %q: %v", r.Type, r.Name, s, err)
	}
	if p.Version != common.PolicyVersion {
		t.Errorf("%s %s: policy version %q", r.Type, r.Name, p.Version)
	}
	return p
}

// wantDependsOn asserts that a lists b among its dependencies.
func wantDependsOn(t *testing.T, a, b mocks.Resource) {
	t.Helper()
	if !a.DependsOn(b) {
		t.Errorf("%s %s does not depend on %s %s (dependencies %v)", a.Type, a.Name, b.Type, b.Name, a.Dependencies)
	}
}

// mocksRun runs the program and returns its error instead of failing.
func mocksRun(t *testing.T, opts mocks.Options) (*mocks.Result, error) {
	t.Helper()
	return mocks.Run(Program, opts)
}

var dev = naming.MustNew("dev")
