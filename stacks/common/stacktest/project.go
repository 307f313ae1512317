package stacktest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// ConfigKey is a config key a Pulumi.yaml declares: its type ("string",
// "integer", "boolean") and its default as fmt.Sprint prints it.
type ConfigKey struct{ Type, Default string }

// AssertProjectFile loads the Pulumi.yaml at path with Pulumi's own loader
// (which validates it against the project schema) and asserts that it is
// the go project name with a description, declaring exactly the config keys
// of want plus aws:region set to naming.Region. Each key must be explicitly
// typed (the loader then rejects a default of another type), have want's
// default (the CLI requires a value for a typed key without one) and a
// description, so that `pulumi config` documents the layer truthfully.
func AssertProjectFile(t testing.TB, path, name string, want map[string]ConfigKey) {
	t.Helper()
	proj, err := workspace.LoadProject(path)
	if err != nil {
		t.Fatal(err)
	}
	if proj.Name.String() != name {
		t.Errorf("project name = %q, want %q", proj.Name, name)
	}
	if proj.Runtime.Name() != "go" {
		t.Errorf("runtime = %q, want go", proj.Runtime.Name())
	}
	if proj.Description == nil || *proj.Description == "" {
		t.Error("project has no description")
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		w := want[key]
		c, ok := proj.Config[key]
		if !ok {
			t.Errorf("config %s is not declared", key)
			continue
		}
		if c.TypeName() != w.Type {
			t.Errorf("config %s type %q, want %q", key, c.TypeName(), w.Type)
		}
		if got := fmt.Sprint(c.Default); c.Default == nil || got != w.Default {
			t.Errorf("config %s default %#v, want %q", key, c.Default, w.Default)
		}
		if c.Description == "" {
			t.Errorf("config %s has no description", key)
		}
	}
	if region, ok := proj.Config["aws:region"]; !ok || region.Value != naming.Region {
		t.Errorf("aws:region = %+v, want value %s", region, naming.Region)
	}
	if len(proj.Config) != len(want)+1 {
		t.Errorf("Pulumi.yaml declares %d config keys, want %d: undeclared keys are not read by the program",
			len(proj.Config), len(want)+1)
	}
}
