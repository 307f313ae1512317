package stacktest

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Conformance describes a layer for the checks every layer passes: its
// Pulumi.yaml, tags on every taggable resource, nothing protected or
// retained, its stack outputs, the invalid environmentSuffix and the region
// guard.
type Conformance struct {
	Layer Layer
	// Lower are the layers below, in deploy order, whose outputs answer the
	// layer's StackReferences.
	Lower []Layer
	// Config is the config of the inspected run of stack "dev" (keys without
	// namespace): the one that registers every optional resource.
	Config map[string]string
	// ProjectFile is the layer's Pulumi.yaml, by default ../Pulumi.yaml (the
	// layer's tests run in stacks/<layer>/<layer>); ConfigKeys what it
	// declares (see AssertProjectFile) besides environmentSuffix, which every
	// layer declares as a string whose empty default means "use the stack
	// name".
	ProjectFile string
	ConfigKeys  map[string]ConfigKey
	// Types maps every resource type to its provider's Args, NonTaggable
	// lists the types without tags (see AssertClassified), and Tagged is how
	// many resources carry the tags. Without Types, the package's Types and
	// NonTaggable() classify the layer.
	Types       map[string]interface{}
	NonTaggable []string
	Tagged      int
	// Outputs are the stack outputs the inspected run must export exactly;
	// it receives the run for values only the recorder knows (ids).
	Outputs func(t testing.TB, res *synthrec.Result) map[string]interface{}
	// InvalidSuffix is an environmentSuffix no names can be made of.
	InvalidSuffix string
	// Registered, when set, are exactly the resources of the inspected run,
	// each "<type>::<logical name>" (see AssertRegistered). The layers with
	// many resources (compute, api) leave it out: their own tests assert
	// each resource, and a list of forty names would only restate them.
	Registered []string
}

// Check is one conformance check.
type Check struct {
	Name string
	Run  func(t testing.TB)
}

// Checks are the conformance checks of c, the inspected run made once.
func Checks(t testing.TB, c Conformance) []Check {
	t.Helper()
	res := Fixture{Layer: c.Layer, Lower: c.Lower}.Run(t, "dev", c.Config)
	if c.ProjectFile == "" {
		c.ProjectFile = filepath.Join("..", "Pulumi.yaml")
	}
	keys := map[string]ConfigKey{common.ConfigEnvironmentSuffix: {Type: "string", Default: ""}}
	for k, v := range c.ConfigKeys {
		keys[k] = v
	}
	c.ConfigKeys = keys
	if c.Types == nil {
		c.Types, c.NonTaggable = Types, NonTaggable()
	}
	checks := []Check{
		{"Pulumi.yaml", func(t testing.TB) { AssertProjectFile(t, c.ProjectFile, c.Layer.Project, c.ConfigKeys) }},
		{"every taggable resource has both tags", func(t testing.TB) {
			AssertClassified(t, res, c.Types, c.NonTaggable...)
			if n := AssertTagged(t, res, c.NonTaggable...); n != c.Tagged {
				t.Errorf("%d tagged resources, want %d", n, c.Tagged)
			}
		}},
		{"nothing protected or retained", func(t testing.TB) { AssertNothingRetained(t, res) }},
		{"outputs", func(t testing.TB) { AssertOutputs(t, res, c.Outputs(t, res)) }},
		{"invalid environmentSuffix fails", func(t testing.TB) {
			AssertInvalidSuffixFails(t, c.Layer.Program, c.Layer.Project, c.InvalidSuffix)
		}},
		{"other region fails", func(t testing.TB) { AssertRegionGuard(t, c.Layer.Program, c.Layer.Project) }},
		{"suffix other than the lower layers' fails", func(t testing.TB) {
			if len(c.Lower) > 0 {
				AssertSuffixMismatchFails(t, c.Layer, c.Lower...)
			}
		}},
	}
	if c.Registered != nil {
		checks = append(checks, Check{"resources registered", func(t testing.TB) { AssertRegistered(t, res, c.Registered...) }})
	}
	return checks
}

// AssertConformance runs every check of c as a subtest.
func AssertConformance(t *testing.T, c Conformance) {
	t.Helper()
	for _, check := range Checks(t, c) {
		t.Run(check.Name, func(t *testing.T) { check.Run(t) })
	}
}

// FakeBuild writes a deployment zip holding a "bootstrap" for every service
// into a temporary build directory and returns it: the compute layer's
// buildDir for tests.
func FakeBuild(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, svc := range naming.Services {
		path := naming.ArtifactZip(dir, svc)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, err := zw.Create("bootstrap")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
