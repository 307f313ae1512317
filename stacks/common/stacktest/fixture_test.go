package stacktest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// queueFixture is a layer over storageLayer whose config gives "memorySize".
var queueFixture = stacktest.Fixture{
	Layer: stacktest.Layer{Project: queueLayer.Project, Program: queueLayer.Program, Config: map[string]string{"memorySize": "128", "keep": "x"}},
	Lower: []stacktest.Layer{storageLayer},
}

func TestFixtureOptionsAndRun(t *testing.T) {
	var opts synthrec.Options
	wantPass(t, func(t testing.TB) { opts = queueFixture.Options(t, "dev", map[string]string{"memorySize": "256"}) })
	for k, want := range map[string]string{"market-data-queue:memorySize": "256", "market-data-queue:keep": "x"} {
		if got := opts.Config[k]; got != want {
			t.Errorf("config %s = %q, want %q (the run's config wins over the layer's)", k, got, want)
		}
	}
	// The queue is named after the lower layer's bucket of the same stack.
	res := queueFixture.Run(t, "pr-7", nil)
	if got := stacktest.Get(t, res, stacktest.TypeQueue, "queue").Inputs["name"]; got != "market-data-pr-7" {
		t.Errorf("queue name = %v, want the storage layer's bucket market-data-pr-7", got)
	}
	if got := queueFixture.RunDev(t); len(got.OfType(stacktest.TypeQueue)) != 1 {
		t.Errorf("RunDev registered %v", got.Resources)
	}
}

// limitProgram refuses a "limit" that is not a positive integer, naming
// the key when named.
func limitProgram(named bool) common.Program {
	return func(ctx *pulumi.Context) (common.Outputs, error) {
		if v, err := config.New(ctx, "").TryInt("limit"); err == nil && v <= 0 {
			if named {
				return nil, fmt.Errorf("config limit: %d is not positive", v)
			}
			return nil, fmt.Errorf("%d is not positive", v)
		}
		return common.Outputs{}, nil
	}
}

func TestAssertConfigRefused(t *testing.T) {
	fixture := func(named bool) stacktest.Fixture {
		return stacktest.Fixture{Layer: stacktest.Layer{Project: "p", Program: limitProgram(named)}}
	}
	wantPass(t, func(t testing.TB) { fixture(true).AssertConfigRefused(t, map[string]string{"limit": "0"}) })
	wantError(t, func(t testing.TB) { fixture(true).AssertConfigRefused(t, map[string]string{"limit": "5"}) },
		"config map[limit:5]: program succeeded, want an error")
	wantError(t, func(t testing.TB) { fixture(false).AssertConfigRefused(t, map[string]string{"limit": "-1"}) },
		"does not name the key")
}

func TestEachOddStack(t *testing.T) {
	suffixed := stacktest.Fixture{Layer: stacktest.Layer{Project: "p", Program: func(ctx *pulumi.Context) (common.Outputs, error) {
		n, err := common.Names(ctx)
		if err != nil {
			return nil, err
		}
		return common.Outputs{"suffix": pulumi.String(n.Suffix()), "stack": pulumi.String(ctx.Stack())}, nil
	}}}
	var seen []string
	suffixed.EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		if res.Outputs["suffix"] != sfx {
			t.Errorf("suffix %v, want %q", res.Outputs["suffix"], sfx)
		}
		seen = append(seen, res.Outputs["stack"].(string))
	})
	var want []string
	for _, o := range stacktest.OddStacks {
		want = append(want, o.Stack)
	}
	if !slices.Equal(seen, want) {
		t.Errorf("ran stacks %v, want %v", seen, want)
	}
}

// The shared classification: the SDK's Args say which types take tags.
func TestTypes(t *testing.T) {
	non := stacktest.NonTaggable()
	for _, typ := range []string{stacktest.TypeStackReference, stacktest.TypeQueuePolicy, stacktest.TypeBucketPolicy, stacktest.TypePermission} {
		if !slices.Contains(non, typ) {
			t.Errorf("%s is missing from NonTaggable() %v", typ, non)
		}
	}
	for _, typ := range []string{stacktest.TypeQueue, stacktest.TypeBucket, stacktest.TypeFunction, stacktest.TypeMetricAlarm} {
		if slices.Contains(non, typ) {
			t.Errorf("%s is taggable but in NonTaggable()", typ)
		}
	}
	for typ, args := range stacktest.Types {
		if args == nil {
			continue
		}
		// "aws:sqs/queue:Queue" has Args sqs.QueueArgs.
		name := fmt.Sprintf("%T", args)
		if want := typ[strings.LastIndex(typ, ":")+1:] + "Args"; !strings.HasSuffix(name, "."+want) {
			t.Errorf("%s: Args %s, want *.%s", typ, name, want)
		}
	}
}

func TestRunExpect(t *testing.T) {
	f := stacktest.Fixture{Layer: stacktest.Layer{Project: "p", Program: limitProgram(true)}}
	wantPass(t, func(t testing.TB) {
		if res := f.RunExpect(t, map[string]string{"limit": "3"}, ""); res == nil {
			t.Error("no result of a run that succeeded")
		}
		if res := f.RunExpect(t, map[string]string{"limit": "0"}, "not positive"); res != nil {
			t.Error("a result of a run that failed")
		}
	})
	wantFatal(t, func(t testing.TB) { f.RunExpect(t, map[string]string{"limit": "0"}, "") }, "program failed: ", "not positive")
	wantFatal(t, func(t testing.TB) { f.RunExpect(t, map[string]string{"limit": "3"}, "not positive") }, "error = <nil>")
	wantFatal(t, func(t testing.TB) { f.RunExpect(t, map[string]string{"limit": "0"}, "other") }, `want one containing "other"`)
}
