package stacktest

import (
	"regexp"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// OddStack is a stack name, or environmentSuffix override, that the names
// a layer derives from it must survive.
type OddStack struct {
	Name   string // of the subtest
	Stack  string
	Suffix string // environmentSuffix, "" for none
	Want   string // the suffix the resource names end in
}

const longStack = "a-very-long-stack-name-for-a-feature-branch-0123456789"

// OddStacks are upper case, punctuation, a name too long for AWS names
// (shortened with a hash) and an override.
var OddStacks = []OddStack{
	{"upper case", "PROD", "", "PROD"},
	{"punctuation", "feature/ABC_123.x", "", "feature-ABC-123-x"},
	{"long", longStack, "", naming.MustNew(longStack).Suffix()},
	{"override", "dev", "Team.Blue", "Team-Blue"},
}

// LogGroupName is what CloudWatch Logs accepts as a log group name.
var LogGroupName = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)

// AssertNamesMatch asserts that the input at path of every resource of typ
// in res is a string that re matches; no resource of typ fails too.
func AssertNamesMatch(t testing.TB, res *synthrec.Result, typ, path string, re *regexp.Regexp) {
	t.Helper()
	rs := res.OfType(typ)
	if len(rs) == 0 {
		t.Errorf("no %s registered to check %s of", typ, path)
	}
	for _, r := range rs {
		v, _ := Input(r, path)
		if s, _ := v.(string); !re.MatchString(s) {
			t.Errorf("%s %s: %s %q is not a valid AWS name", typ, r.Name, path, s)
		}
	}
}
