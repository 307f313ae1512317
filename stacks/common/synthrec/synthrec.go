// Package synthrec is the synth recorder: it runs a layer's Pulumi program
// offline under Pulumi's own mock resource monitor, records every resource it
// registers (type, name, parent, dependencies, inputs, outputs) and resolves
// the program's stack outputs.
//
// The offline synth (tools/synth) writes the recording as
// build/synth/<layer>.json, which the local pipeline in tools/ provisions
// from; the unit tests of each layer assert on the same recording. The mock
// answers each resource with deterministic, realistic ids and ARNs (account
// 123456789012, us-east-1), and each StackReference with the outputs given for
// that stack name.
package synthrec

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/synthfile"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Account is the fake AWS account id of every ARN the mocks produce.
const Account = "123456789012"

// Options says how to run a program.
type Options struct {
	Organization string // default "organization"
	Project      string // required
	Stack        string // default "dev"
	// Config is the stack config, with keys as in Pulumi.<stack>.yaml
	// ("<project>:<key>" or "aws:region").
	Config map[string]string
	// StackOutputs answers StackReferences: fully qualified stack name → outputs.
	StackOutputs map[string]map[string]interface{}
}

// Resource is one registered resource: the synth file's own type, so what
// the recorder records and what the synth file holds are one schema.
// Protect and RetainOnDelete are never set by the pipeline (every layer must
// destroy completely); the layer tests assert that they are false.
type Resource = synthfile.Resource

// Result is the recording of one program run.
type Result struct {
	Project   string                 `json:"project"`
	Stack     string                 `json:"stack"`
	Resources []Resource             `json:"resources"`
	Outputs   map[string]interface{} `json:"outputs"`
}

// Run runs program under mocks and returns what it registered and exported.
// The error is the program's (or a resource's) error.
func Run(program common.Program, opts Options) (*Result, error) {
	if opts.Organization == "" {
		opts.Organization = "organization"
	}
	if opts.Stack == "" {
		opts.Stack = "dev"
	}
	m := &monitor{opts: opts, byURN: map[string]*Resource{}, fakes: NewFakes()}
	res := &Result{Project: opts.Project, Stack: opts.Stack, Outputs: map[string]interface{}{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outs, err := program(ctx)
		if err != nil {
			return err
		}
		for k, v := range outs {
			k := k
			wg.Add(1)
			pulumi.ToOutput(v).ApplyT(func(x interface{}) interface{} {
				mu.Lock()
				res.Outputs[k] = x
				mu.Unlock()
				wg.Done()
				return x
			})
		}
		return nil
	}, pulumi.WithMocksWithOrganization(opts.Organization, opts.Project, opts.Stack, m), func(ri *pulumi.RunInfo) {
		ri.Config = opts.Config
	})
	if err != nil {
		return nil, err
	}
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.order {
		res.Resources = append(res.Resources, *r)
	}
	return res, nil
}

type monitor struct {
	opts  Options
	mu    sync.Mutex
	order []*Resource
	byURN map[string]*Resource
	fakes *Fakes
}

var _ pulumi.MockResourceMonitor = (*monitor)(nil)

// Call answers the provider functions (invokes) the programs use.
func (m *monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	out, err := Invoke(args.Token, region)
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// NewResource records the resource and answers with fake outputs.
func (m *monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	parent := ""
	var deps []string
	var protect, retain bool
	if rpc != nil {
		parent = rpc.GetParent()
		deps = append(deps, rpc.GetDependencies()...)
		protect, retain = rpc.GetProtect(), rpc.GetRetainOnDelete()
	}
	sort.Strings(deps)
	if deps == nil {
		deps = []string{}
	}
	urn := m.urn(parent, args.TypeToken, args.Name)
	inputs := PlainJSON(args.Inputs)

	id, outputs, err := m.answer(args.TypeToken, args.Name, urn, inputs)
	if err != nil {
		return "", nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &Resource{URN: urn, Type: args.TypeToken, Name: args.Name, Parent: parent, Dependencies: deps,
		Inputs: inputs, Outputs: outputs, ID: id, Protect: protect, RetainOnDelete: retain}
	m.order = append(m.order, r)
	m.byURN[urn] = r
	return id, resource.NewPropertyMapFromMap(outputs), nil
}

// answer is the fake's answer to a registration; StackReferences, which the
// engine (not AWS) answers, get the outputs given in Options.StackOutputs.
func (m *monitor) answer(typ, name, urn string, in map[string]interface{}) (string, map[string]interface{}, error) {
	if typ != "pulumi:pulumi:StackReference" {
		return m.fakes.Resource(typ, name, urn, in)
	}
	ref := str(in, "name")
	outputs, ok := m.opts.StackOutputs[ref]
	if !ok {
		return "", nil, fmt.Errorf("synthrec: no outputs given for stack reference %q", ref)
	}
	out := map[string]interface{}{}
	for k, v := range in {
		out[k] = v
	}
	out["outputs"] = outputs
	out["secretOutputNames"] = []interface{}{}
	return ref, out, nil
}

// urn mirrors the mock monitor's URN scheme so the recording's URNs, parents
// and dependencies agree.
func (m *monitor) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.opts.Stack), tokens.PackageName(m.opts.Project), parentType,
		tokens.Type(typ), name))
}

// PlainJSON is toJSON of a property map: the plain data Fakes.Resource reads.
func PlainJSON(m resource.PropertyMap) map[string]interface{} {
	return toJSON(resource.NewObjectProperty(m)).(map[string]interface{})
}

// toJSON turns a property value into plain JSON data: secrets are unwrapped
// (the synth is a local plan; nothing here is secret), assets and archives
// become their path, resource references their URN.
func toJSON(v resource.PropertyValue) interface{} {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := make([]interface{}, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, toJSON(e))
		}
		return out
	case v.IsObject():
		out := map[string]interface{}{}
		for k, e := range v.ObjectValue() {
			if strings.HasPrefix(string(k), "__") {
				continue // engine bookkeeping such as __defaults
			}
			out[string(k)] = toJSON(e)
		}
		return out
	case v.IsSecret():
		return toJSON(v.SecretValue().Element)
	case v.IsOutput():
		return toJSON(v.OutputValue().Element)
	case v.IsAsset():
		a := v.AssetValue()
		return map[string]interface{}{"asset": a.Path + a.URI, "text": a.Text}
	case v.IsArchive():
		a := v.ArchiveValue()
		return map[string]interface{}{"archive": a.Path + a.URI}
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsComputed():
		return "<computed>"
	}
	return fmt.Sprint(v)
}
