// Package stacktest holds the assertions the unit tests of the four Pulumi
// programs share: running a program under mocks with realistic lower-layer
// outputs, exact inputs by dotted path, policy documents, tags on every
// taggable resource, nothing protected or retained, the Pulumi.yaml, the
// region guard and names for odd stack names.
//
// Every helper reports through a testing.TB, so its own tests can prove that
// it fails when it should. Layer-specific helpers stay in the layers' tests.
package stacktest

import (
	"sort"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Resource types every layer may register that the helpers treat specially.
const (
	// TypeCloudControl resources take their tags in the desired state.
	TypeCloudControl = "aws:cloudcontrol/resource:Resource"
	// TypeStackReference is Pulumi's own; AWS does not see it.
	TypeStackReference = "pulumi:pulumi:StackReference"
)

// Organization is the organization the mocks run under by default.
const Organization = "organization"

// Run runs program under mocks and fails the test if the program fails.
func Run(t testing.TB, program common.Program, opts synthrec.Options) *synthrec.Result {
	t.Helper()
	res, err := synthrec.Run(program, opts)
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return res
}

// Get returns the resource of a type with a logical name, or fails the test.
func Get(t testing.TB, res *synthrec.Result, typ, name string) synthrec.Resource {
	t.Helper()
	r, err := res.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Options are the synthrec.Options that run project's program as stack. cfg
// holds the project's own config keys without namespace (environmentSuffix,
// memorySize, ...); aws:region is naming.Region. The StackReference of each
// lower layer (a project name), at its default name
// organization/<lower>/<stack>, answers with that layer's outputs (see
// LayerOutputs) for this stack's names: environmentSuffix if set, else the
// stack name.
func Options(t testing.TB, project, stack string, cfg map[string]string, lower ...string) synthrec.Options {
	t.Helper()
	config := map[string]string{"aws:region": naming.Region}
	for k, v := range cfg {
		config[project+":"+k] = v
	}
	opts := synthrec.Options{Project: project, Stack: stack, Config: config}
	if len(lower) == 0 {
		return opts
	}
	raw := stack
	if s, ok := cfg[common.ConfigEnvironmentSuffix]; ok {
		raw = s
	}
	n, err := naming.New(raw)
	if err != nil {
		t.Fatalf("names of the lower layers: %v", err)
	}
	opts.StackOutputs = map[string]map[string]interface{}{}
	for _, l := range lower {
		opts.StackOutputs[Organization+"/"+l+"/"+stack] = LayerOutputs(t, l, n)
	}
	return opts
}

// LayerOutputs are realistic stack outputs of the lower layer project
// (storage, messaging or compute) for names n, in account synthrec.Account and
// naming.Region: what the layer's own program exports under mocks, as each
// layer's TestOutputs asserts.
func LayerOutputs(t testing.TB, project string, n naming.Names) map[string]interface{} {
	t.Helper()
	const acct, region = synthrec.Account, naming.Region
	fnArn := func(name string) string { return "arn:aws:lambda:" + region + ":" + acct + ":function:" + name }
	invoke := func(name string) string {
		return "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/" + fnArn(name) + "/invocations"
	}
	alarmTopic := "arn:aws:sns:" + region + ":" + acct + ":" + n.AlarmTopic()
	switch project {
	case naming.ProjectStorage:
		return map[string]interface{}{
			outputs.BucketName: n.Bucket(),
			outputs.BucketArn:  "arn:aws:s3:::" + n.Bucket(),
			outputs.TableName:  n.Table(),
			outputs.TableArn:   "arn:aws:dynamodb:" + region + ":" + acct + ":table/" + n.Table(),
		}
	case naming.ProjectMessaging:
		return map[string]interface{}{
			outputs.QueueURL:     "https://sqs." + region + ".amazonaws.com/" + acct + "/" + n.ProcessingQueue(),
			outputs.QueueArn:     "arn:aws:sqs:" + region + ":" + acct + ":" + n.ProcessingQueue(),
			outputs.DLQURL:       "https://sqs." + region + ".amazonaws.com/" + acct + "/" + n.DeadLetterQueue(),
			outputs.DLQArn:       "arn:aws:sqs:" + region + ":" + acct + ":" + n.DeadLetterQueue(),
			outputs.EventBusName: n.EventBus(),
			outputs.EventBusArn:  "arn:aws:events:" + region + ":" + acct + ":event-bus/" + n.EventBus(),

			outputs.AlarmTopicArn: alarmTopic,
		}
	case naming.ProjectCompute:
		return map[string]interface{}{
			outputs.IngestionFunctionName:  n.Ingestion(),
			outputs.IngestionFunctionArn:   fnArn(n.Ingestion()),
			outputs.IngestionInvokeArn:     invoke(n.Ingestion()),
			outputs.ProcessorFunctionName:  n.Processor(),
			outputs.ProcessorFunctionArn:   fnArn(n.Processor()),
			outputs.AggregatorFunctionName: n.Aggregator(),
			outputs.AggregatorFunctionArn:  fnArn(n.Aggregator()),
			outputs.AggregatorInvokeArn:    invoke(n.Aggregator()),

			outputs.AlarmTopicArn: alarmTopic,
		}
	}
	t.Fatalf("no outputs known for lower layer %q", project)
	return nil
}

// StackReferences are the names of the stacks res references, sorted (the
// mocks record resources in the order the SDK's goroutines register them).
func StackReferences(res *synthrec.Result) []string {
	var out []string
	for _, r := range res.OfType(TypeStackReference) {
		s, _ := r.Inputs["name"].(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
