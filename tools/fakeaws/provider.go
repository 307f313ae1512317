// Package fakeaws is a stand-in for the pulumi-aws resource provider plugin,
// which cannot be installed here: a gRPC server the real Pulumi engine
// attaches to (PULUMI_DEBUG_PROVIDERS=aws:<port>) in place of the plugin. It
// answers every resource and invoke from synthrec.Fakes, the same fake the mock
// monitor of the unit tests and the synth uses, so the engine sees the ids,
// ARNs and computed outputs the synth recorded. It keeps no state of its own:
// the engine's state (the backend) is the only record of what exists.
package fakeaws

import (
	"context"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Version is the provider version reported to the engine: the pulumi-aws SDK
// version the stacks require, which is the plugin version they ask for.
const Version = "6.83.4"

// Provider implements pulumirpc.ResourceProviderServer over synthrec.Fakes.
// Methods it does not implement (Construct, Call, ...) answer Unimplemented,
// which the engine reports as an error: the stacks use none of them.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	fakes  *synthrec.Fakes
	region string // set by Configure
}

// New returns a provider with a fresh fake.
func New() *Provider { return &Provider{fakes: synthrec.NewFakes()} }

// marshalling options: keep unknowns (previews) and nulls as the engine sent
// them; secrets and resource references are not accepted (see Configure), so
// the engine sends plain values.
var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: false, KeepResources: false}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// GetPluginInfo reports the version the stacks ask for.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// Attach is the engine's hello to an attached provider; nothing to set up.
func (p *Provider) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// GetSchema answers with a schema naming the package only; the engine asks
// for it only to display, never to plan.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"aws","version":%q}`, Version)}, nil
}

// CheckConfig accepts the provider configuration as given.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports the configuration keys that changed; a region change
// would move every resource, but the fake cannot know which, so it reports
// an update only (never a replacement).
func (p *Provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return p.diff(req)
}

// Configure records the region (the provider's "region" argument, else the
// aws:region config); like the real provider it refuses to run without one.
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	region := req.GetVariables()["aws:region"]
	if args := req.GetArgs(); args != nil {
		if v, ok := args.GetFields()["region"]; ok && v.GetStringValue() != "" {
			region = v.GetStringValue()
		}
	}
	if region == "" {
		return nil, fmt.Errorf("fakeaws: no region configured: set aws:region")
	}
	p.region = region
	return &pulumirpc.ConfigureResponse{SupportsPreview: true}, nil
}

// Invoke answers the data sources (getCallerIdentity, getRegion, ...).
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	out, err := synthrec.Invoke(req.GetTok(), p.region)
	if err != nil {
		return nil, err
	}
	ret, err := marshal(resource.NewPropertyMapFromMap(out))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// Check accepts the inputs as given (no defaults, no validation: the mocks
// apply none either, and the unit tests assert on the programs' inputs).
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// Diff compares the resource's previous inputs with the new ones and
// reports every top-level property that changed as an update in place.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return p.diff(req)
}

func (p *Provider) diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds() // engines that do not send old inputs
	}
	oldIn, err := unmarshal(olds)
	if err != nil {
		return nil, fmt.Errorf("fakeaws: diff %s: old inputs: %w", req.GetUrn(), err)
	}
	newIn, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("fakeaws: diff %s: new inputs: %w", req.GetUrn(), err)
	}
	changed := ChangedKeys(oldIn, newIn)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for _, k := range changed {
		kind := pulumirpc.PropertyDiff_UPDATE
		if _, had := oldIn[resource.PropertyKey(k)]; !had {
			kind = pulumirpc.PropertyDiff_ADD
		} else if _, has := newIn[resource.PropertyKey(k)]; !has {
			kind = pulumirpc.PropertyDiff_DELETE
		}
		resp.Diffs = append(resp.Diffs, k)
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp, nil
}

// ChangedKeys lists, sorted, the top-level keys whose values differ between
// two input maps (added, removed or changed), ignoring engine bookkeeping
// keys such as __defaults.
func ChangedKeys(olds, news resource.PropertyMap) []string {
	var keys []string
	d := olds.Diff(news, func(k resource.PropertyKey) bool { return len(k) > 1 && k[:2] == "__" })
	if d == nil {
		return nil
	}
	for _, k := range d.ChangedKeys() {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}

// Create answers with the fake's id and outputs. In a preview whose inputs
// are not all known yet it answers with the inputs only, leaving the
// computed outputs unknown, as the real provider does.
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, fmt.Errorf("fakeaws: create %s: %w", req.GetUrn(), err)
	}
	if req.GetPreview() && in.ContainsUnknowns() {
		props, err := marshal(in)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: props}, nil
	}
	id, out, err := p.answer(req.GetUrn(), in)
	if err != nil {
		return nil, err
	}
	props, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update answers like Create for the new inputs, keeping the resource's id
// (an update in place never changes it).
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	in, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, fmt.Errorf("fakeaws: update %s: %w", req.GetUrn(), err)
	}
	if req.GetPreview() && in.ContainsUnknowns() {
		props, err := marshal(in)
		if err != nil {
			return nil, err
		}
		return &pulumirpc.UpdateResponse{Properties: props}, nil
	}
	id, out, err := p.answer(req.GetUrn(), in)
	if err != nil {
		return nil, err
	}
	if id != req.GetId() {
		return nil, fmt.Errorf("fakeaws: update %s would change its id from %q to %q: that is a replacement, which Diff never plans", req.GetUrn(), req.GetId(), id)
	}
	props, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Read answers with the state the engine holds (there is no cloud to read).
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Delete succeeds: nothing exists outside the engine's state.
func (p *Provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// answer runs the shared fake on the inputs and returns the inputs, as the
// engine sent them (assets and archives intact), plus the computed outputs.
func (p *Provider) answer(urnText string, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	urn, err := resource.ParseURN(urnText)
	if err != nil {
		return "", nil, fmt.Errorf("fakeaws: %w", err)
	}
	id, fake, err := p.fakes.Resource(string(urn.Type()), urn.Name(), urnText, synthrec.PlainJSON(in))
	if err != nil {
		return "", nil, err
	}
	out := in.Copy()
	for k, v := range resource.NewPropertyMapFromMap(fake) {
		if _, isInput := out[k]; !isInput {
			out[k] = v
		}
	}
	return id, out, nil
}
