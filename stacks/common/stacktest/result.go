package stacktest

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// AssertRegistered asserts that res holds exactly the resources want, each
// written "<type>::<logical name>", in any order.
func AssertRegistered(t testing.TB, res *synthrec.Result, want ...string) {
	t.Helper()
	var got []string
	for _, r := range res.Resources {
		got = append(got, r.Type+"::"+r.Name)
	}
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resources:\n got %v\nwant %v", got, want)
	}
}

// AssertOutputs asserts that res's stack outputs are exactly want.
func AssertOutputs(t testing.TB, res *synthrec.Result, want map[string]interface{}) {
	t.Helper()
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Errorf("outputs:\n got %v\nwant %v", res.Outputs, want)
	}
}

// AssertInvalidSuffixFails runs project's program with environmentSuffix
// set to suffix, which names cannot be made of, and asserts that it fails
// naming the config key.
func AssertInvalidSuffixFails(t testing.TB, program common.Program, project, suffix string) {
	t.Helper()
	_, err := synthrec.Run(program, Options(t, project, "dev", map[string]string{common.ConfigEnvironmentSuffix: suffix}))
	if err == nil || !strings.Contains(err.Error(), common.ConfigEnvironmentSuffix) {
		t.Errorf("err = %v, want an error naming %s", err, common.ConfigEnvironmentSuffix)
	}
}

// Suffixes AssertSuffixMismatchFails deploys the lower layers and the layer
// with.
const (
	LowerSuffix = "team-a"
	UpperSuffix = "team-b"
)

// AssertSuffixMismatchFails runs the lower layers with environmentSuffix
// LowerSuffix and layer with UpperSuffix, and asserts that the layer fails
// naming both suffixes.
func AssertSuffixMismatchFails(t testing.TB, layer Layer, lower ...Layer) {
	t.Helper()
	cfg := map[string]string{}
	for k, v := range layer.Config {
		cfg[k] = v
	}
	opts := Options(t, layer.Project, "dev", cfg)
	opts.StackOutputs = map[string]map[string]interface{}{}
	for p, outs := range LowerOutputs(t, "dev", LowerSuffix, lower...) {
		opts.StackOutputs[Organization+"/"+p+"/dev"] = outs
	}
	opts.Config[layer.Project+":"+common.ConfigEnvironmentSuffix] = UpperSuffix
	_, err := synthrec.Run(layer.Program, opts)
	if err == nil || !strings.Contains(err.Error(), `"`+LowerSuffix+`"`) || !strings.Contains(err.Error(), `"`+UpperSuffix+`"`) {
		t.Errorf("err = %v, want an error naming both suffixes %q and %q", err, LowerSuffix, UpperSuffix)
	}
}
