package stacktest

import (
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Fixture is a layer as its unit tests run it: the layer (its program and
// the config every run needs) and the layers below it in deploy order, whose
// programs' outputs answer its StackReferences. Each layer's tests declare
// one and run the program through it.
type Fixture struct {
	Layer Layer
	Lower []Layer
}

// Options are the synthrec.Options that run the layer as stack with the
// layer's own config and then cfg (keys without namespace; cfg wins), the
// lower layers run first as Options describes.
func (f Fixture) Options(t testing.TB, stack string, cfg map[string]string) synthrec.Options {
	t.Helper()
	config := map[string]string{}
	for k, v := range f.Layer.Config {
		config[k] = v
	}
	for k, v := range cfg {
		config[k] = v
	}
	return Options(t, f.Layer.Project, stack, config, f.Lower...)
}

// Run runs the layer as stack with cfg (see Options) and fails the test if
// the program fails.
func (f Fixture) Run(t testing.TB, stack string, cfg map[string]string) *synthrec.Result {
	t.Helper()
	return Run(t, f.Layer.Program, f.Options(t, stack, cfg))
}

// RunDev runs the layer as stack "dev" with the default config.
func (f Fixture) RunDev(t testing.TB) *synthrec.Result {
	t.Helper()
	return f.Run(t, "dev", nil)
}

// RunExpect runs the layer as stack "dev" with cfg. With wantErr "", the
// program must succeed and its result is returned; otherwise it must fail
// with an error containing wantErr, and the result is nil.
func (f Fixture) RunExpect(t testing.TB, cfg map[string]string, wantErr string) *synthrec.Result {
	t.Helper()
	res, err := synthrec.Run(f.Layer.Program, f.Options(t, "dev", cfg))
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("program failed: %v", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("error = %v, want one containing %q", err, wantErr)
	case wantErr != "":
		return nil
	}
	return res
}

// AssertConfigRefused runs the layer as stack "dev" with each of cfgs, each a
// bad value of one or more config keys, and asserts that the program fails
// with an error naming every key of it.
func (f Fixture) AssertConfigRefused(t testing.TB, cfgs ...map[string]string) {
	t.Helper()
	for _, cfg := range cfgs {
		_, err := synthrec.Run(f.Layer.Program, f.Options(t, "dev", cfg))
		if err == nil {
			t.Errorf("config %v: program succeeded, want an error", cfg)
			continue
		}
		for k := range cfg {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("config %v: error %q does not name the key", cfg, err)
			}
		}
	}
}

// EachOddStack runs the layer for each of OddStacks (the stack name, with
// its environmentSuffix override if any) in a subtest, and hands the result
// and the suffix the names must end in to check.
func (f Fixture) EachOddStack(t *testing.T, check func(t *testing.T, res *synthrec.Result, suffix string)) {
	t.Helper()
	for _, tc := range OddStacks {
		t.Run(tc.Name, func(t *testing.T) {
			var cfg map[string]string
			if tc.Suffix != "" {
				cfg = map[string]string{common.ConfigEnvironmentSuffix: tc.Suffix}
			}
			check(t, f.Run(t, tc.Stack, cfg), tc.Want)
		})
	}
}
