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
