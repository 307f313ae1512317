package fakeaws

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

const fnURN = "urn:pulumi:dev::p::aws:lambda/function:Function::fn"

func props(t *testing.T, m map[string]interface{}) *structpb.Struct {
	t.Helper()
	s, err := marshal(resource.NewPropertyMapFromMap(m))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func plain(t *testing.T, s *structpb.Struct) map[string]interface{} {
	t.Helper()
	m, err := unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return synthrec.PlainJSON(m)
}

func configured(t *testing.T) *Provider {
	t.Helper()
	p := New()
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Variables: map[string]string{"aws:region": "us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// program registers resources whose fakes use the URN, the inputs and the
// API Gateway path state, and reads an invoke.
func program(ctx *pulumi.Context) (common.Outputs, error) {
	if _, err := aws.GetCallerIdentity(ctx, nil); err != nil {
		return nil, err
	}
	q, err := sqs.NewQueue(ctx, "q", &sqs.QueueArgs{Name: pulumi.String("Q-dev"), Tags: common.Tags()})
	if err != nil {
		return nil, err
	}
	fn, err := lambda.NewFunction(ctx, "fn", &lambda.FunctionArgs{Name: pulumi.String("Fn-dev"), MemorySize: pulumi.Int(3072),
		Role: pulumi.String("arn:aws:iam::123456789012:role/r"), Code: pulumi.NewFileArchive("testdata")})
	if err != nil {
		return nil, err
	}
	if _, err := lambda.NewEventSourceMapping(ctx, "esm", &lambda.EventSourceMappingArgs{EventSourceArn: q.Arn, FunctionName: fn.Arn}); err != nil {
		return nil, err
	}
	api, err := apigateway.NewRestApi(ctx, "api", &apigateway.RestApiArgs{Name: pulumi.String("A-dev")})
	if err != nil {
		return nil, err
	}
	r, err := apigateway.NewResource(ctx, "ingest", &apigateway.ResourceArgs{RestApi: api.ID(), ParentId: api.RootResourceId, PathPart: pulumi.String("ingest")})
	if err != nil {
		return nil, err
	}
	return common.Outputs{"path": r.Path, "invokeArn": fn.InvokeArn}, nil
}

// TestProviderAnswersAsTheMocks runs a program under the mock monitor, then
// creates each recorded resource through the provider, in order, with the
// inputs the mocks saw (dependencies resolved to their fake outputs, as the
// engine would): every id and output must be the mocks'.
func TestProviderAnswersAsTheMocks(t *testing.T) {
	res, err := synthrec.Run(program, synthrec.Options{Project: "p", Stack: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["path"]; got != "/ingest" {
		t.Fatalf("mocks: path = %v", got)
	}
	p := configured(t)
	for _, r := range res.Resources {
		in := map[string]interface{}{}
		for k, v := range r.Inputs {
			in[k] = v
		}
		if code, ok := in["code"].(map[string]interface{}); ok {
			in["code"] = resource.NewArchiveProperty(&resource.Archive{Path: code["archive"].(string)})
		}
		s, err := marshal(resource.NewPropertyMapFromMap(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: r.URN, Properties: s})
		if err != nil {
			t.Fatalf("%s: %v", r.URN, err)
		}
		if got.Id != r.ID {
			t.Errorf("%s: provider id %q, mocks id %q", r.Name, got.Id, r.ID)
		}
		if out := plain(t, got.Properties); !reflect.DeepEqual(out, r.Outputs) {
			t.Errorf("%s: provider outputs\n%v\nmocks outputs\n%v", r.Name, out, r.Outputs)
		}
	}
	ret, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:index/getCallerIdentity:getCallerIdentity"})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain(t, ret.Return)["accountId"]; got != synthrec.Account {
		t.Errorf("getCallerIdentity accountId = %v", got)
	}
}

func TestDiffReportsChangedInputsAsUpdates(t *testing.T) {
	olds := map[string]interface{}{"name": "Fn-dev", "memorySize": 3072, "tags": map[string]interface{}{"a": "1"}}
	tests := []struct {
		name    string
		news    map[string]interface{}
		changes pulumirpc.DiffResponse_DiffChanges
		diffs   []string
	}{
		{"same", map[string]interface{}{"name": "Fn-dev", "memorySize": 3072, "tags": map[string]interface{}{"a": "1"}}, pulumirpc.DiffResponse_DIFF_NONE, nil},
		{"memory", map[string]interface{}{"name": "Fn-dev", "memorySize": 3008, "tags": map[string]interface{}{"a": "1"}}, pulumirpc.DiffResponse_DIFF_SOME, []string{"memorySize"}},
		{"nested tag and removed key", map[string]interface{}{"name": "Fn-dev", "tags": map[string]interface{}{"a": "2"}}, pulumirpc.DiffResponse_DIFF_SOME, []string{"memorySize", "tags"}},
		{"name, which AWS would replace", map[string]interface{}{"name": "Fn-prod", "memorySize": 3072, "tags": map[string]interface{}{"a": "1"}}, pulumirpc.DiffResponse_DIFF_SOME, []string{"name"}},
	}
	p := configured(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: fnURN, Id: "Fn-dev",
				OldInputs: props(t, olds), Olds: props(t, olds), News: props(t, tt.news)})
			if err != nil {
				t.Fatal(err)
			}
			if d.Changes != tt.changes || !reflect.DeepEqual(d.Diffs, tt.diffs) {
				t.Errorf("changes %v diffs %v, want %v %v", d.Changes, d.Diffs, tt.changes, tt.diffs)
			}
			if len(d.Replaces) != 0 || d.DeleteBeforeReplace {
				t.Errorf("diff plans a replacement: %v", d.Replaces)
			}
		})
	}
}

func TestUpdateKeepsTheIDAndRecomputesOutputs(t *testing.T) {
	p := configured(t)
	in := map[string]interface{}{"name": "Fn-dev", "memorySize": 3008}
	u, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: fnURN, Id: "Fn-dev", News: props(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	out := plain(t, u.Properties)
	if out["memorySize"] != float64(3008) || out["arn"] != "arn:aws:lambda:us-east-1:123456789012:function:Fn-dev" {
		t.Errorf("update outputs %v", out)
	}
	// An input change that would move the id is a replacement, which the
	// fake refuses rather than silently renaming the resource.
	_, err = p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: fnURN, Id: "Fn-dev",
		News: props(t, map[string]interface{}{"name": "Fn-prod"})})
	if err == nil || !strings.Contains(err.Error(), "replacement") {
		t.Errorf("update changing the id: err = %v", err)
	}
}

func TestPreviewWithUnknownInputsLeavesOutputsUnknown(t *testing.T) {
	p := configured(t)
	in := resource.PropertyMap{"name": resource.MakeComputed(resource.NewStringProperty(""))}
	s, err := marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: fnURN, Properties: s, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshal(c.Properties)
	if err != nil {
		t.Fatal(err)
	}
	if c.Id != "" || !out["name"].IsComputed() || out.HasValue("arn") {
		t.Errorf("preview create: id %q, outputs %v", c.Id, out)
	}
}

func TestConfigureNeedsARegionAndInvokeAnswersIt(t *testing.T) {
	if _, err := New().Configure(context.Background(), &pulumirpc.ConfigureRequest{}); err == nil {
		t.Error("configure without a region succeeded")
	}
	p := New()
	args := props(t, map[string]interface{}{"region": "eu-west-1"})
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args,
		Variables: map[string]string{"aws:region": "us-east-1"}}); err != nil {
		t.Fatal(err)
	}
	ret, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:index/getRegion:getRegion"})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain(t, ret.Return)["name"]; got != "eu-west-1" {
		t.Errorf("getRegion = %v, want the provider argument eu-west-1", got)
	}
	if _, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "aws:s3/getBucket:getBucket"}); err == nil {
		t.Error("an invoke the fake does not know succeeded")
	}
}

// TestVersionIsTheStacksPulumiAWS: the engine attaches the provider for the
// plugin version the stacks' pulumi-aws SDK asks for.
func TestVersionIsTheStacksPulumiAWS(t *testing.T) {
	mods, err := filepath.Glob("../../stacks/*/go.mod")
	if err != nil || len(mods) == 0 {
		t.Fatalf("no stacks go.mod found: %v", err)
	}
	re := regexp.MustCompile(`github\.com/pulumi/pulumi-aws/sdk/v6 v(\S+)`)
	found := 0
	for _, m := range mods {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if v := re.FindSubmatch(b); v != nil {
			found++
			if string(v[1]) != Version {
				t.Errorf("%s requires pulumi-aws %s, fakeaws.Version is %s", m, v[1], Version)
			}
		}
	}
	if found == 0 {
		t.Error("no stack requires pulumi-aws")
	}
}
