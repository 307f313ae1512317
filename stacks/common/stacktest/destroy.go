package stacktest

import (
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// AssertNothingRetained asserts that every resource of res destroys with the
// stack: no protect or retainOnDelete option, and no input that keeps it
// (skipDestroy) or blocks its deletion (deletionProtectionEnabled).
func AssertNothingRetained(t testing.TB, res *synthrec.Result) {
	t.Helper()
	for _, r := range res.Resources {
		if r.Protect || r.RetainOnDelete {
			t.Errorf("%s %s: protect=%v retainOnDelete=%v; every resource must destroy with the stack",
				r.Type, r.Name, r.Protect, r.RetainOnDelete)
		}
		for _, key := range []string{"skipDestroy", "deletionProtectionEnabled"} {
			if v, ok := Input(r, key); ok && v == true {
				t.Errorf("%s %s sets %s", r.Type, r.Name, key)
			}
		}
	}
}
