package stacktest_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// queueProgram registers one tagged queue; with a lower layer it names the
// queue after that layer's bucket output.
func queueProgram(lower string) common.Program {
	return func(ctx *pulumi.Context) (common.Outputs, error) {
		name := pulumi.String("q").ToStringOutput()
		if lower != "" {
			l, err := common.ReferenceLayer(ctx, common.ConfigStorageStack, lower)
			if err != nil {
				return nil, err
			}
			name = l.String(outputs.BucketName)
		}
		q, err := sqs.NewQueue(ctx, "queue", &sqs.QueueArgs{Name: name, Tags: common.Tags()})
		if err != nil {
			return nil, err
		}
		return common.Outputs{"url": q.Url}, nil
	}
}

func TestRunAndGet(t *testing.T) {
	var res *synthrec.Result
	wantPass(t, func(t testing.TB) {
		res = stacktest.Run(t, queueProgram(""), stacktest.Options(t, "p", "dev", nil))
		stacktest.Get(t, res, stacktest.TypeQueue, "queue")
	})
	wantFatal(t, func(t testing.TB) { stacktest.Get(t, res, stacktest.TypeQueue, "other") }, `no aws:sqs/queue:Queue named "other"`)
	wantFatal(t, func(t testing.TB) { stacktest.Get(t, res, stacktest.TypeQueuePolicy, "queue") }, "no aws:sqs/queuePolicy:QueuePolicy")
	failing := func(ctx *pulumi.Context) (common.Outputs, error) { return nil, errors.New("boom") }
	wantFatal(t, func(t testing.TB) { stacktest.Run(t, failing, synthrec.Options{Project: "p"}) }, "program failed: ", "boom")
}

// bucketProgram stands for the storage layer: it exports its bucket name.
func bucketProgram(ctx *pulumi.Context) (common.Outputs, error) {
	n, err := common.Names(ctx)
	if err != nil {
		return nil, err
	}
	return common.Outputs{outputs.BucketName: pulumi.String(n.Bucket())}, nil
}

var (
	storageLayer = stacktest.Layer{Project: naming.ProjectStorage, Program: bucketProgram}
	// queueLayer reads storageLayer's output.
	queueLayer = stacktest.Layer{Project: "market-data-queue", Program: queueProgram(naming.ProjectStorage)}
)

func TestOptions(t *testing.T) {
	var opts synthrec.Options
	wantPass(t, func(t testing.TB) {
		opts = stacktest.Options(t, naming.ProjectCompute, "dev",
			map[string]string{common.ConfigEnvironmentSuffix: "pr-1", "memorySize": "128"},
			storageLayer, queueLayer)
	})
	wantConfig := map[string]string{
		"aws:region":                            naming.Region,
		"market-data-compute:environmentSuffix": "pr-1",
		"market-data-compute:memorySize":        "128",
	}
	if opts.Project != naming.ProjectCompute || opts.Stack != "dev" || !reflect.DeepEqual(opts.Config, wantConfig) {
		t.Errorf("options %+v, want project %s, stack dev, config %v", opts, naming.ProjectCompute, wantConfig)
	}
	// The lower layers answer at their default names with what their programs
	// export for the override's names, each answered by the one before.
	want := map[string]map[string]interface{}{
		"organization/market-data-storage/dev": {outputs.BucketName: "market-data-pr-1"},
		"organization/market-data-queue/dev":   {"url": "https://sqs.us-east-1.amazonaws.com/123456789012/market-data-pr-1"},
	}
	if !reflect.DeepEqual(opts.StackOutputs, want) {
		t.Errorf("stack outputs %v, want %v", opts.StackOutputs, want)
	}
	wantPass(t, func(t testing.TB) {
		if o := stacktest.Options(t, "p", "dev", nil); o.StackOutputs != nil {
			t.Errorf("stack outputs %v without lower layers", o.StackOutputs)
		}
	})
	// A program reading a lower layer runs with them.
	wantPass(t, func(t testing.TB) {
		res := stacktest.Run(t, queueProgram(naming.ProjectStorage),
			stacktest.Options(t, "p", "Prod", nil, storageLayer))
		stacktest.WantInput(t, stacktest.Get(t, res, stacktest.TypeQueue, "queue"), "name", "market-data-prod")
		if got, want := stacktest.StackReferences(res), []string{"organization/market-data-storage/Prod"}; !reflect.DeepEqual(got, want) {
			t.Errorf("stack references %v, want %v", got, want)
		}
	})
	// A lower layer out of deploy order has nothing to read; one that fails
	// fails the test.
	wantFatal(t, func(t testing.TB) { stacktest.Options(t, "p", "dev", nil, queueLayer, storageLayer) },
		"lower layer market-data-queue: ", "no outputs given for stack reference")
	wantFatal(t, func(t testing.TB) {
		stacktest.Options(t, "p", "dev", map[string]string{common.ConfigEnvironmentSuffix: "--"}, storageLayer)
	}, "lower layer market-data-storage: ", common.ConfigEnvironmentSuffix)
}

func TestLowerOutputs(t *testing.T) {
	var got map[string]map[string]interface{}
	wantPass(t, func(t testing.TB) { got = stacktest.LowerOutputs(t, "staging", "", storageLayer, queueLayer) })
	want := map[string]map[string]interface{}{
		naming.ProjectStorage: {outputs.BucketName: "market-data-staging"},
		"market-data-queue":   {"url": "https://sqs.us-east-1.amazonaws.com/123456789012/market-data-staging"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lower outputs %v, want %v", got, want)
	}
}

func TestStackReferencesAreSorted(t *testing.T) {
	ref := func(name string) synthrec.Resource {
		return synthrec.Resource{Type: stacktest.TypeStackReference, Name: name, Inputs: map[string]interface{}{"name": name}}
	}
	res := &synthrec.Result{Resources: []synthrec.Resource{ref("o/b/dev"), {Type: stacktest.TypeQueue, Name: "q"}, ref("o/a/dev")}}
	if got, want := stacktest.StackReferences(res), []string{"o/a/dev", "o/b/dev"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StackReferences = %v, want %v", got, want)
	}
}

// fn is a resource with nested, numeric, list and null inputs.
var fn = synthrec.Resource{Type: "aws:lambda/function:Function", Name: "f", Inputs: map[string]interface{}{
	"name":          "F-dev",
	"memorySize":    float64(3072),
	"architectures": []interface{}{"arm64"},
	"tracingConfig": map[string]interface{}{"mode": "Active"},
	"nothing":       nil,
	"policy":        `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}`,
}}

func TestInputAssertions(t *testing.T) {
	if v, ok := stacktest.Input(fn, "tracingConfig.mode"); !ok || v != "Active" {
		t.Errorf("Input(tracingConfig.mode) = %v, %v", v, ok)
	}
	for _, path := range []string{"tracingConfig.other", "name.x", "missing"} {
		if v, ok := stacktest.Input(fn, path); ok {
			t.Errorf("Input(%s) = %v, want none", path, v)
		}
	}
	wantPass(t, func(t testing.TB) {
		stacktest.WantInput(t, fn, "name", "F-dev")
		stacktest.WantInput(t, fn, "memorySize", 3072)
		stacktest.WantInput(t, fn, "architectures", []string{"arm64"})
		stacktest.WantInput(t, fn, "tracingConfig", map[string]string{"mode": "Active"})
		stacktest.WantInput(t, fn, "tracingConfig.mode", "Active")
		stacktest.WantNoInput(t, fn, "vpcConfig")
		stacktest.WantNoInput(t, fn, "nothing")
		stacktest.WantNoInput(t, fn, "tracingConfig.other")
	})
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "name", "G-dev") }, `name = "F-dev", want "G-dev"`)
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "memorySize", 128) }, "memorySize = 3072, want 128")
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "memorySize", "3072") }, "memorySize")
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "architectures", []string{"arm64", "x86_64"}) }, "architectures")
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "tracingConfig", map[string]string{}) }, "tracingConfig")
	wantError(t, func(t testing.TB) { stacktest.WantInput(t, fn, "vpcConfig", nil) }, "input vpcConfig is missing")
	wantError(t, func(t testing.TB) { stacktest.WantNoInput(t, fn, "tracingConfig.mode") }, `tracingConfig.mode = "Active", want none`)
	wantFatal(t, func(t testing.TB) { stacktest.WantInput(t, fn, "name", make(chan int)) }, "unsupported type")
}

func TestAssertJSONAndInputs(t *testing.T) {
	r := synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Inputs: map[string]interface{}{
		"name": "Q", "tags": map[string]interface{}{"A": "1"}, "delay": float64(0),
	}}
	wantPass(t, func(t testing.TB) {
		stacktest.AssertInputs(t, r, `{"name": "Q", "tags": {"A": "1"}, "delay": 0}`)
		stacktest.AssertJSON(t, "tags", r.Inputs["tags"], `{"A": "1"}`)
	})
	for name, want := range map[string]string{
		"missing property":   `{"name": "Q", "tags": {"A": "1"}, "delay": 0, "fifo": false}`,
		"extra property":     `{"name": "Q", "tags": {"A": "1"}}`,
		"different value":    `{"name": "Q", "tags": {"A": "2"}, "delay": 0}`,
		"different type":     `{"name": "Q", "tags": {"A": "1"}, "delay": "0"}`,
		"a list, not a map":  `[{"name": "Q"}]`,
		"nested extra field": `{"name": "Q", "tags": {"A": "1", "B": "2"}, "delay": 0}`,
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, func(t testing.TB) { stacktest.AssertInputs(t, r, want) }, "aws:sqs/queue:Queue q inputs:")
		})
	}
	wantFatal(t, func(t testing.TB) { stacktest.AssertJSON(t, "tags", r.Inputs["tags"], `{"A": `) }, "bad expectation for tags")
}

func TestJSONInput(t *testing.T) {
	r := synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Inputs: map[string]interface{}{
		"doc": `{"a": [1]}`, "bad": `{"a":`, "num": float64(1),
	}}
	wantPass(t, func(t testing.TB) {
		if got := stacktest.JSONInput(t, r, "doc"); !reflect.DeepEqual(got, map[string]interface{}{"a": []interface{}{float64(1)}}) {
			t.Errorf("JSONInput = %v", got)
		}
	})
	wantFatal(t, func(t testing.TB) { stacktest.JSONInput(t, r, "bad") }, "input bad is not JSON")
	wantFatal(t, func(t testing.TB) { stacktest.JSONInput(t, r, "num") }, "input num is float64, want a JSON string")
	wantFatal(t, func(t testing.TB) { stacktest.JSONInput(t, r, "missing") }, "input missing is <nil>")
}

func TestWantDependsOn(t *testing.T) {
	a := synthrec.Resource{Type: stacktest.TypeQueue, Name: "a", URN: "urn:a", Dependencies: []string{"urn:b"}}
	b := synthrec.Resource{Type: stacktest.TypeQueue, Name: "b", URN: "urn:b"}
	wantPass(t, func(t testing.TB) { stacktest.WantDependsOn(t, a, b) })
	wantError(t, func(t testing.TB) { stacktest.WantDependsOn(t, b, a) }, "aws:sqs/queue:Queue b does not depend on aws:sqs/queue:Queue a")
}

func TestPolicyInput(t *testing.T) {
	withPolicy := func(doc interface{}) synthrec.Resource {
		return synthrec.Resource{Type: stacktest.TypeQueuePolicy, Name: "p", Inputs: map[string]interface{}{"policy": doc}}
	}
	wantPass(t, func(t testing.TB) {
		p := stacktest.PolicyInput(t, fn, "policy")
		want := []common.Statement{{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"*"}}}
		if !reflect.DeepEqual(p.Statement, want) {
			t.Errorf("statements %+v", p.Statement)
		}
	})
	wantError(t, func(t testing.TB) {
		stacktest.PolicyInput(t, withPolicy(`{"Version": "2008-10-17", "Statement": []}`), "policy")
	}, `policy version "2008-10-17"`)
	for name, tc := range map[string]struct {
		r    synthrec.Resource
		path string
		msg  string
	}{
		"no input":         {fn, "assumeRolePolicy", "no assumeRolePolicy"},
		"not a string":     {withPolicy(map[string]interface{}{}), "policy", "policy is map[string]interface {}, want a JSON string"},
		"not JSON":         {withPolicy(`{"Version":`), "policy", "unexpected EOF"},
		"unmodelled field": {withPolicy(`{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "*"}}]}`), "policy", `unknown field "NotPrincipal"`},
		"trailing data":    {withPolicy(`{"Version": "2012-10-17", "Statement": []} {}`), "policy", "data after the policy document"},
	} {
		t.Run(name, func(t *testing.T) {
			wantFatal(t, func(t testing.TB) { stacktest.PolicyInput(t, tc.r, tc.path) }, tc.msg)
		})
	}
}

func TestAssertPolicy(t *testing.T) {
	deny := common.Statement{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: map[string]interface{}{"AWS": "*"},
		Action: []string{"sqs:*"}, Resource: []string{"arn:q"},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}
	allow := common.Statement{Effect: "Allow", Action: []string{"sqs:SendMessage"}, Resource: []string{"arn:q"},
		Condition: map[string]map[string]interface{}{"ArnEquals": {"aws:SourceArn": []string{"arn:r1", "arn:r2"}}}}
	doc, err := common.Policy{Statement: []common.Statement{allow, deny}}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	wantPass(t, func(t testing.TB) {
		stacktest.AssertPolicy(t, "queue policy", doc, common.Policy{Statement: []common.Statement{allow, deny}})
		stacktest.AssertPolicy(t, "queue policy", doc, common.Policy{Version: common.PolicyVersion, Statement: []common.Statement{allow, deny}})
	})
	otherDeny := deny
	otherDeny.Resource = []string{"arn:q", "arn:q/*"}
	for name, tc := range map[string]struct {
		want common.Policy
		msg  string
	}{
		"different statement": {common.Policy{Statement: []common.Statement{allow, otherDeny}}, "queue policy statement 1:"},
		"missing statement":   {common.Policy{Statement: []common.Statement{allow}}, "queue policy has 2 statements, want 1"},
		"extra statement":     {common.Policy{Statement: []common.Statement{allow, deny, deny}}, "queue policy has 2 statements, want 3"},
		"order":               {common.Policy{Statement: []common.Statement{deny, allow}}, "queue policy statement 0:"},
		"version":             {common.Policy{Version: "2008-10-17", Statement: []common.Statement{allow, deny}}, `queue policy Version = "2012-10-17", want "2008-10-17"`},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, func(t testing.TB) { stacktest.AssertPolicy(t, "queue policy", doc, tc.want) }, tc.msg)
		})
	}
	wantError(t, func(t testing.TB) {
		stacktest.AssertPolicy(t, "p", `{"Version": "2008-10-17", "Statement": []}`, common.Policy{})
	}, `p Version = "2008-10-17", want "2012-10-17"`)
	wantFatal(t, func(t testing.TB) { stacktest.AssertPolicy(t, "p", `not json`, common.Policy{}) }, "p is not a policy document")
	wantFatal(t, func(t testing.TB) {
		stacktest.AssertPolicy(t, "p", `{"Version": "2012-10-17", "Id": "x", "Statement": []}`, common.Policy{})
	}, `unknown field "Id"`)
}

// tagged returns a resource of typ with the given tags input (none if nil).
func tagged(typ, name string, tags map[string]interface{}) synthrec.Resource {
	in := map[string]interface{}{"name": name}
	if tags != nil {
		in["tags"] = tags
	}
	return synthrec.Resource{Type: typ, Name: name, Inputs: in}
}

func TestAssertTagged(t *testing.T) {
	both := map[string]interface{}{"Environment": "Production", "Project": "MarketAnalytics"}
	good := &synthrec.Result{Resources: []synthrec.Resource{
		tagged(stacktest.TypeQueue, "q", both),
		tagged(stacktest.TypeQueuePolicy, "p", nil),
		tagged("aws:cloudwatch/eventBus:EventBus", "b", both),
		{Type: stacktest.TypeStackReference, Name: "ref", Inputs: map[string]interface{}{"name": "o/p/s"}},
	}}
	wantPass(t, func(t testing.TB) {
		if n := stacktest.AssertTagged(t, good, stacktest.TypeQueuePolicy, stacktest.TypeStackReference); n != 2 {
			t.Errorf("AssertTagged counted %d tagged resources, want 2", n)
		}
	})
	for name, tc := range map[string]struct {
		r   synthrec.Resource
		msg string
	}{
		"no tags":             {tagged(stacktest.TypeQueue, "q", nil), "aws:sqs/queue:Queue q tags = <nil>"},
		"one tag":             {tagged(stacktest.TypeQueue, "q", map[string]interface{}{"Project": "MarketAnalytics"}), "tags = map[Project:MarketAnalytics]"},
		"extra tag":           {tagged(stacktest.TypeQueue, "q", map[string]interface{}{"Environment": "Production", "Project": "MarketAnalytics", "X": "y"}), "tags ="},
		"wrong value":         {tagged(stacktest.TypeQueue, "q", map[string]interface{}{"Environment": "Dev", "Project": "MarketAnalytics"}), "Environment:Dev"},
		"non-taggable tagged": {tagged(stacktest.TypeQueuePolicy, "p", both), "aws:sqs/queuePolicy:QueuePolicy p is listed as not taggable but has tags"},
	} {
		t.Run(name, func(t *testing.T) {
			res := &synthrec.Result{Resources: append(append([]synthrec.Resource{}, good.Resources...), tc.r)}
			wantError(t, func(t testing.TB) {
				stacktest.AssertTagged(t, res, stacktest.TypeQueuePolicy, stacktest.TypeStackReference)
			}, tc.msg)
		})
	}
}

func TestAssertClassified(t *testing.T) {
	types := map[string]interface{}{
		stacktest.TypeQueue:          sqs.QueueArgs{},
		stacktest.TypeQueuePolicy:    sqs.QueuePolicyArgs{},
		stacktest.TypeStackReference: nil,
		"aws:s3/bucketV2:BucketV2":   s3.BucketV2Args{},
		"aws:s3/bucketPolicy:Policy": s3.BucketPolicyArgs{},
	}
	res := &synthrec.Result{Resources: []synthrec.Resource{tagged(stacktest.TypeQueue, "q", nil), tagged(stacktest.TypeQueuePolicy, "p", nil)}}
	non := []string{stacktest.TypeQueuePolicy, "aws:s3/bucketPolicy:Policy", stacktest.TypeStackReference}
	wantPass(t, func(t testing.TB) { stacktest.AssertClassified(t, res, types, non...) })
	wantError(t, func(t testing.TB) {
		stacktest.AssertClassified(t, res, types, stacktest.TypeQueue, stacktest.TypeQueuePolicy)
	},
		"aws:sqs/queue:Queue: the SDK says taggable=true but the test's list says non-taggable=true")
	wantError(t, func(t testing.TB) { stacktest.AssertClassified(t, res, types, stacktest.TypeStackReference) },
		"aws:sqs/queuePolicy:QueuePolicy: the SDK says taggable=false but the test's list says non-taggable=false")
	wantError(t, func(t testing.TB) { stacktest.AssertClassified(t, res, types, append(non, "aws:sns/topic:Topic")...) },
		"aws:sns/topic:Topic is listed as not taggable but is not one of the layer's types")
	unknown := &synthrec.Result{Resources: append(res.Resources, tagged("aws:sns/topic:Topic", "t", nil))}
	wantError(t, func(t testing.TB) { stacktest.AssertClassified(t, unknown, types, non...) },
		"resource aws:sns/topic:Topic t has a type this test does not classify")
}

func TestTagsAreTheSharedTags(t *testing.T) {
	if !reflect.DeepEqual(stacktest.Tags, naming.Tags()) {
		t.Errorf("stacktest.Tags = %v, naming.Tags() = %v", stacktest.Tags, naming.Tags())
	}
}

func TestAssertNothingRetained(t *testing.T) {
	clean := synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Inputs: map[string]interface{}{"skipDestroy": false, "deletionProtectionEnabled": false}}
	wantPass(t, func(t testing.TB) {
		stacktest.AssertNothingRetained(t, &synthrec.Result{Resources: []synthrec.Resource{clean, {Type: stacktest.TypeQueue, Name: "r"}}})
	})
	for name, tc := range map[string]struct {
		r   synthrec.Resource
		msg string
	}{
		"protect":             {synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Protect: true}, "q: protect=true retainOnDelete=false"},
		"retainOnDelete":      {synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", RetainOnDelete: true}, "q: protect=false retainOnDelete=true"},
		"skipDestroy":         {synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Inputs: map[string]interface{}{"skipDestroy": true}}, "q sets skipDestroy"},
		"deletion protection": {synthrec.Resource{Type: stacktest.TypeQueue, Name: "q", Inputs: map[string]interface{}{"deletionProtectionEnabled": true}}, "q sets deletionProtectionEnabled"},
	} {
		t.Run(name, func(t *testing.T) {
			res := &synthrec.Result{Resources: []synthrec.Resource{clean, tc.r}}
			wantError(t, func(t testing.TB) { stacktest.AssertNothingRetained(t, res) }, tc.msg)
		})
	}
}

const projectFile = `name: market-data-test
runtime: go
description: A test project.
config:
  aws:region:
    value: us-east-1
  environmentSuffix:
    type: string
    default: ""
    description: The suffix.
  memorySize:
    type: integer
    default: 3072
    description: Memory.
  accessLogging:
    type: boolean
    default: false
    description: Access logs.
`

var projectKeys = map[string]stacktest.ConfigKey{
	"environmentSuffix": {"string", ""},
	"memorySize":        {"integer", "3072"},
	"accessLogging":     {"boolean", "false"},
}

// writeProject writes projectFile, with each of edits (old, new) applied,
// as Pulumi.yaml in a new directory and returns its path.
func writeProject(t *testing.T, edits ...string) string {
	t.Helper()
	doc := projectFile
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(doc, edits[i]) {
			t.Fatalf("project file lacks %q", edits[i])
		}
		doc = strings.Replace(doc, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "Pulumi.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAssertProjectFile(t *testing.T) {
	wantPass(t, func(tb testing.TB) {
		stacktest.AssertProjectFile(tb, writeProject(t), "market-data-test", projectKeys)
	})
	tests := []struct {
		name  string
		edits []string
		msg   string
	}{
		{"other name", []string{"name: market-data-test", "name: market-data-other"}, `project name = "market-data-other", want "market-data-test"`},
		{"other runtime", []string{"runtime: go", "runtime: nodejs"}, `runtime = "nodejs", want go`},
		{"no description", []string{"description: A test project.\n", ""}, "project has no description"},
		{"undeclared key", []string{"  accessLogging:\n    type: boolean\n    default: false\n    description: Access logs.\n", ""}, "config accessLogging is not declared"},
		{"other type", []string{"type: boolean\n    default: false", "type: string\n    default: \"false\""}, `config accessLogging type "string", want "boolean"`},
		{"untyped key", []string{"    type: integer\n", ""}, `config memorySize type "", want "integer"`},
		{"other default", []string{"default: 3072", "default: 128"}, "config memorySize default 128"},
		{"no default", []string{"    default: \"\"\n", ""}, "config environmentSuffix default <nil>"},
		{"key without description", []string{"    description: Memory.\n", ""}, "config memorySize has no description"},
		{"other region", []string{"value: us-east-1", "value: eu-west-1"}, "want value us-east-1"},
		{"no region", []string{"  aws:region:\n    value: us-east-1\n", ""}, "want value us-east-1"},
		{"extra key", []string{"config:\n", "config:\n  extra:\n    type: string\n    default: x\n    description: Unread.\n"}, "declares 5 config keys, want 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeProject(t, tc.edits...)
			wantError(t, func(tb testing.TB) { stacktest.AssertProjectFile(tb, path, "market-data-test", projectKeys) }, tc.msg)
		})
	}
	wantFatal(t, func(tb testing.TB) {
		stacktest.AssertProjectFile(tb, filepath.Join(t.TempDir(), "Pulumi.yaml"), "market-data-test", projectKeys)
	}, "no such file")
	invalid := writeProject(t, "runtime: go", "runtime: [go]")
	wantFatal(t, func(tb testing.TB) { stacktest.AssertProjectFile(tb, invalid, "market-data-test", projectKeys) }, "runtime")
	// Pulumi's loader rejects a default that is not of the declared type.
	mistyped := writeProject(t, `default: ""`, `default: 0`)
	wantFatal(t, func(tb testing.TB) { stacktest.AssertProjectFile(tb, mistyped, "market-data-test", projectKeys) },
		"is not of the expected type 'string'")
}

func TestAssertRegionGuard(t *testing.T) {
	guarded := func(ctx *pulumi.Context) (common.Outputs, error) {
		return common.Outputs{}, common.RequireRegion(ctx)
	}
	wantPass(t, func(t testing.TB) { stacktest.AssertRegionGuard(t, guarded, "p") })
	unguarded := func(ctx *pulumi.Context) (common.Outputs, error) { return common.Outputs{}, nil }
	wantError(t, func(t testing.TB) { stacktest.AssertRegionGuard(t, unguarded, "p") }, "err = <nil>, want an error naming eu-west-1 and us-east-1")
	other := func(ctx *pulumi.Context) (common.Outputs, error) { return nil, errors.New("no bucket") }
	wantError(t, func(t testing.TB) { stacktest.AssertRegionGuard(t, other, "p") }, "no bucket")
	// The error must name both regions: the one found and the one required.
	vague := func(ctx *pulumi.Context) (common.Outputs, error) {
		return nil, errors.New("region eu-west-1 not supported")
	}
	wantError(t, func(t testing.TB) { stacktest.AssertRegionGuard(t, vague, "p") }, "eu-west-1 not supported")
	unnamed := func(ctx *pulumi.Context) (common.Outputs, error) {
		return nil, errors.New("the pipeline runs in us-east-1 only")
	}
	wantError(t, func(t testing.TB) { stacktest.AssertRegionGuard(t, unnamed, "p") }, "us-east-1 only")
	// In naming.Region the monitor lets a guarded program through.
	err := pulumi.RunErr(func(ctx *pulumi.Context) error { _, err := guarded(ctx); return err },
		pulumi.WithMocks("p", "dev", stacktest.RegionMonitor{Region: naming.Region}))
	if err != nil {
		t.Errorf("guarded program in %s: %v", naming.Region, err)
	}
}

func TestAssertNamesMatch(t *testing.T) {
	res := &synthrec.Result{Resources: []synthrec.Resource{
		tagged(stacktest.TypeQueue, "a", nil), tagged(stacktest.TypeQueue, "b/c", nil), tagged(stacktest.TypeQueuePolicy, "p", nil),
	}}
	wantPass(t, func(t testing.TB) {
		stacktest.AssertNamesMatch(t, res, stacktest.TypeQueue, "name", stacktest.LogGroupName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeQueuePolicy, "name", regexp.MustCompile(`^p$`))
	})
	wantError(t, func(t testing.TB) {
		stacktest.AssertNamesMatch(t, res, stacktest.TypeQueue, "name", regexp.MustCompile(`^[a-z]+$`))
	},
		`aws:sqs/queue:Queue b/c: name "b/c" is not a valid AWS name`)
	wantError(t, func(t testing.TB) {
		stacktest.AssertNamesMatch(t, res, stacktest.TypeQueue, "missing", regexp.MustCompile(`.`))
	},
		`a: missing "" is not a valid AWS name`)
	wantError(t, func(t testing.TB) {
		stacktest.AssertNamesMatch(t, res, "aws:sns/topic:Topic", "name", regexp.MustCompile(`.`))
	},
		"no aws:sns/topic:Topic registered")
	for _, s := range []string{"/aws/lambda/DataIngestion-dev", "a#b.c_d-e"} {
		if !stacktest.LogGroupName.MatchString(s) {
			t.Errorf("LogGroupName rejects %q", s)
		}
	}
	for _, s := range []string{"", "a b", "a:b", strings.Repeat("a", 513)} {
		if stacktest.LogGroupName.MatchString(s) {
			t.Errorf("LogGroupName accepts %q", s)
		}
	}
}

// The suffixes OddStacks expect are what naming makes of the stack names.
func TestOddStacks(t *testing.T) {
	if len(stacktest.OddStacks) != 4 {
		t.Errorf("%d odd stacks, want 4", len(stacktest.OddStacks))
	}
	for _, o := range stacktest.OddStacks {
		raw := o.Stack
		if o.Suffix != "" {
			raw = o.Suffix
		}
		if got := naming.MustNew(raw).Suffix(); got != o.Want || o.Want == "" {
			t.Errorf("%s: naming makes %q of %q, want %q", o.Name, got, raw, o.Want)
		}
	}
	if long := stacktest.OddStacks[2]; len(long.Stack) <= naming.MaxSuffixLen || len(long.Want) > naming.MaxSuffixLen {
		t.Errorf("the long stack %q (suffix %q) does not exercise the shortening", long.Stack, long.Want)
	}
}

func TestAssertRegistered(t *testing.T) {
	res := &synthrec.Result{Resources: []synthrec.Resource{tagged(stacktest.TypeQueue, "q", nil), tagged(stacktest.TypeQueuePolicy, "p", nil)}}
	wantPass(t, func(t testing.TB) {
		stacktest.AssertRegistered(t, res, stacktest.TypeQueuePolicy+"::p", stacktest.TypeQueue+"::q")
		stacktest.AssertRegistered(t, res, stacktest.TypeQueue+"::q", stacktest.TypeQueuePolicy+"::p")
	})
	for name, want := range map[string][]string{
		"missing":    {stacktest.TypeQueue + "::q"},
		"extra":      {stacktest.TypeQueue + "::q", stacktest.TypeQueuePolicy + "::p", stacktest.TypeQueue + "::r"},
		"other name": {stacktest.TypeQueue + "::q", stacktest.TypeQueuePolicy + "::policy"},
		"other type": {stacktest.TypeQueue + "::q", stacktest.TypeQueue + "::p"},
		"twice":      {stacktest.TypeQueue + "::q", stacktest.TypeQueue + "::q", stacktest.TypeQueuePolicy + "::p"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, func(t testing.TB) { stacktest.AssertRegistered(t, res, want...) }, "resources:")
		})
	}
}

func TestAssertOutputs(t *testing.T) {
	res := &synthrec.Result{Outputs: map[string]interface{}{"a": "1", "b": "2"}}
	wantPass(t, func(t testing.TB) { stacktest.AssertOutputs(t, res, map[string]interface{}{"b": "2", "a": "1"}) })
	for name, want := range map[string]map[string]interface{}{
		"missing":     {"a": "1"},
		"extra":       {"a": "1", "b": "2", "c": "3"},
		"other value": {"a": "1", "b": "3"},
		"other type":  {"a": "1", "b": 2},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, func(t testing.TB) { stacktest.AssertOutputs(t, res, want) }, "outputs:")
		})
	}
}

func TestAssertInvalidSuffixFails(t *testing.T) {
	named := func(ctx *pulumi.Context) (common.Outputs, error) {
		_, err := common.Names(ctx)
		return common.Outputs{}, err
	}
	wantPass(t, func(t testing.TB) { stacktest.AssertInvalidSuffixFails(t, named, "p", "--//--") })
	wantError(t, func(t testing.TB) { stacktest.AssertInvalidSuffixFails(t, named, "p", "valid") },
		"err = <nil>, want an error naming environmentSuffix")
	other := func(ctx *pulumi.Context) (common.Outputs, error) { return nil, errors.New("no bucket") }
	wantError(t, func(t testing.TB) { stacktest.AssertInvalidSuffixFails(t, other, "p", "--//--") }, "no bucket")
}

// conforming is a layer that passes every conformance check.
func conforming(t *testing.T) stacktest.Conformance {
	return stacktest.Conformance{
		Layer:       stacktest.Layer{Project: "market-data-test", Program: namedQueue},
		ProjectFile: writeProject(t),
		ConfigKeys:  projectKeys,
		Types:       map[string]interface{}{stacktest.TypeQueue: sqs.QueueArgs{}},
		Tagged:      1,
		Outputs: func(testing.TB, *synthrec.Result) map[string]interface{} {
			return map[string]interface{}{"url": "https://sqs.us-east-1.amazonaws.com/123456789012/Q-dev"}
		},
		InvalidSuffix: "--//--",
		Registered:    []string{stacktest.TypeQueue + "::queue"},
	}
}

// namedQueue registers a tagged queue named after the stack's names, in
// naming.Region only.
func namedQueue(ctx *pulumi.Context) (common.Outputs, error) {
	if err := common.RequireRegion(ctx); err != nil {
		return nil, err
	}
	n, err := common.Names(ctx)
	if err != nil {
		return nil, err
	}
	q, err := sqs.NewQueue(ctx, "queue", &sqs.QueueArgs{Name: pulumi.String("Q-" + n.Suffix()), Tags: common.Tags()})
	if err != nil {
		return nil, err
	}
	return common.Outputs{"url": q.Url}, nil
}

// Each conformance check passes on a conforming layer and fails on a layer
// that breaks what it checks.
func TestConformanceChecks(t *testing.T) {
	checks := func(c stacktest.Conformance) map[string]func(testing.TB) {
		out := map[string]func(testing.TB){}
		wantPass(t, func(tb testing.TB) {
			for _, check := range stacktest.Checks(tb, c) {
				out[check.Name] = check.Run
			}
		})
		return out
	}
	good := checks(conforming(t))
	if len(good) != 8 {
		t.Fatalf("%d checks, want 8", len(good))
	}
	for name, run := range good {
		t.Run("conforming/"+name, func(t *testing.T) { wantPass(t, run) })
	}
	breaks := map[string]struct {
		edit func(c *stacktest.Conformance)
		msg  string
	}{
		"Pulumi.yaml": {func(c *stacktest.Conformance) {
			c.ConfigKeys = map[string]stacktest.ConfigKey{"memorySize": {Type: "integer", Default: "1"}}
		}, "config memorySize default 3072, want \"1\""},
		"every taggable resource has both tags": {func(c *stacktest.Conformance) { c.Tagged = 2 }, "1 tagged resources, want 2"},
		"outputs": {func(c *stacktest.Conformance) {
			c.Outputs = func(testing.TB, *synthrec.Result) map[string]interface{} { return nil }
		}, "outputs:"},
		"invalid environmentSuffix fails": {func(c *stacktest.Conformance) { c.InvalidSuffix = "valid" }, "want an error naming environmentSuffix"},
		"resources registered": {func(c *stacktest.Conformance) {
			c.Registered = []string{stacktest.TypeQueue + "::queue", stacktest.TypeQueuePolicy + "::policy"}
		}, "resources:"},
		"other region fails": {func(c *stacktest.Conformance) {
			c.Layer.Program = func(ctx *pulumi.Context) (common.Outputs, error) { return common.Outputs{}, nil }
		}, "want an error naming"},
	}
	for name, tt := range breaks {
		t.Run("broken/"+name, func(t *testing.T) {
			c := conforming(t)
			tt.edit(&c)
			run, ok := checks(c)[name]
			if !ok {
				t.Fatalf("no check %q", name)
			}
			wantError(t, run, tt.msg)
		})
	}
	// A retained resource is caught.
	retained := conforming(t)
	retained.Layer.Program = func(ctx *pulumi.Context) (common.Outputs, error) {
		_, err := sqs.NewQueue(ctx, "queue", &sqs.QueueArgs{Tags: common.Tags()}, pulumi.RetainOnDelete(true))
		return common.Outputs{}, err
	}
	wantError(t, checks(retained)["nothing protected or retained"], "retainOnDelete=true")
}

// suffixedProgram stands for the storage layer exporting its suffix.
func suffixedProgram(ctx *pulumi.Context) (common.Outputs, error) {
	n, err := common.Names(ctx)
	if err != nil {
		return nil, err
	}
	return common.Outputs{outputs.EnvironmentSuffix: pulumi.String(n.Suffix())}, nil
}

// upperProgram references the storage layer and, when check is set, requires
// its suffix.
func upperProgram(check bool) common.Program {
	return func(ctx *pulumi.Context) (common.Outputs, error) {
		n, err := common.Names(ctx)
		if err != nil {
			return nil, err
		}
		l, err := common.ReferenceLayer(ctx, common.ConfigStorageStack, naming.ProjectStorage)
		if err != nil {
			return nil, err
		}
		if check {
			if err := l.RequireSuffix(n); err != nil {
				return nil, err
			}
		}
		return common.Outputs{}, nil
	}
}

func TestAssertSuffixMismatchFails(t *testing.T) {
	lower := stacktest.Layer{Project: naming.ProjectStorage, Program: suffixedProgram}
	checked := stacktest.Layer{Project: "upper", Program: upperProgram(true)}
	unchecked := stacktest.Layer{Project: "upper", Program: upperProgram(false)}
	wantPass(t, func(t testing.TB) { stacktest.AssertSuffixMismatchFails(t, checked, lower) })
	wantError(t, func(t testing.TB) { stacktest.AssertSuffixMismatchFails(t, unchecked, lower) }, "want an error naming both suffixes")
	// The same suffix passes; a lower layer without the output fails.
	wantPass(t, func(t testing.TB) {
		stacktest.Run(t, checked.Program, stacktest.Options(t, "upper", "dev", nil, lower))
	})
	_, err := synthrec.Run(checked.Program, stacktest.Options(t, "upper", "dev", nil, storageLayer))
	if err == nil || !strings.Contains(err.Error(), `no output "environmentSuffix"`) {
		t.Errorf("err = %v, want an error naming the missing output", err)
	}
}
