// Package stacktest holds the assertions the unit tests of the four Pulumi
// programs share: the conformance checks every layer passes (Conformance),
// running a program under the recorder with the outputs its lower layers'
// programs export, exact inputs by dotted path, policy documents, tags on every
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
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Resource types every layer may register that the helpers treat specially.
const (
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

// Layer is a layer's program as the tests run it.
type Layer struct {
	Project string
	Program common.Program
	// Config is config every run of the layer needs, keys without
	// namespace (compute's buildDir).
	Config map[string]string
}

// Options are the synthrec.Options that run project's program as stack. cfg
// holds the project's own config keys without namespace (environmentSuffix,
// memorySize, ...); aws:region is naming.Region. The lower layers, given in
// deploy order, run first under the recorder, as the synth runs them, each
// answered by those before it and with cfg's environmentSuffix; the
// StackReference of each, at its default name organization/<project>/<stack>,
// answers with what its program exported.
func Options(t testing.TB, project, stack string, cfg map[string]string, lower ...Layer) synthrec.Options {
	t.Helper()
	config := map[string]string{"aws:region": naming.Region}
	for k, v := range cfg {
		config[project+":"+k] = v
	}
	opts := synthrec.Options{Project: project, Stack: stack, Config: config}
	if len(lower) == 0 {
		return opts
	}
	opts.StackOutputs = map[string]map[string]interface{}{}
	for p, outs := range LowerOutputs(t, stack, cfg[common.ConfigEnvironmentSuffix], lower...) {
		opts.StackOutputs[Organization+"/"+p+"/"+stack] = outs
	}
	return opts
}

// LowerOutputs runs layers in deploy order as stack (with environmentSuffix
// suffix unless empty), each layer's StackReferences answered by the layers
// before it, and returns each layer's stack outputs by project. A layer that
// fails fails the test.
func LowerOutputs(t testing.TB, stack, suffix string, layers ...Layer) map[string]map[string]interface{} {
	t.Helper()
	refs := map[string]map[string]interface{}{}
	byProject := map[string]map[string]interface{}{}
	for _, l := range layers {
		cfg := map[string]string{}
		for k, v := range l.Config {
			cfg[k] = v
		}
		if suffix != "" {
			cfg[common.ConfigEnvironmentSuffix] = suffix
		}
		opts := Options(t, l.Project, stack, cfg)
		opts.StackOutputs = refs
		res, err := synthrec.Run(l.Program, opts)
		if err != nil {
			t.Fatalf("lower layer %s: %v", l.Project, err)
		}
		refs[Organization+"/"+l.Project+"/"+stack] = res.Outputs
		byProject[l.Project] = res.Outputs
	}
	return byProject
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
