package api

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Pulumi.yaml is valid for the Pulumi CLI (its own loader and schema) and
// declares exactly the config keys the program reads, with the program's
// defaults, so `pulumi config` documents the layer truthfully.
func TestProjectFile(t *testing.T) {
	proj, err := workspace.LoadProject("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if proj.Name.String() != naming.ProjectAPI {
		t.Errorf("project name %q, want %q", proj.Name, naming.ProjectAPI)
	}
	if proj.Runtime.Name() != "go" {
		t.Errorf("runtime %q, want go", proj.Runtime.Name())
	}
	if proj.Description == nil || *proj.Description == "" {
		t.Error("project has no description")
	}
	want := map[string]struct{ typ, def string }{
		common.ConfigEnvironmentSuffix: {"string", ""},
		common.ConfigStorageStack:      {"string", ""},
		common.ConfigComputeStack:      {"string", ""},
		ConfigAccessLogging:            {"boolean", strconv.FormatBool(DefaultAccessLogging)},
	}
	for key, w := range want {
		c, ok := proj.Config[key]
		if !ok {
			t.Errorf("config %s is not declared", key)
			continue
		}
		if c.TypeName() != w.typ {
			t.Errorf("config %s type %q, want %q", key, c.TypeName(), w.typ)
		}
		if got := fmt.Sprint(c.Default); c.Default == nil || got != w.def {
			t.Errorf("config %s default %v, want %q", key, c.Default, w.def)
		}
		if c.Description == "" {
			t.Errorf("config %s has no description", key)
		}
	}
	region, ok := proj.Config["aws:region"]
	if !ok || fmt.Sprint(region.Value) != naming.Region {
		t.Errorf("aws:region = %+v, want value %s", region, naming.Region)
	}
	if len(proj.Config) != len(want)+1 {
		t.Errorf("Pulumi.yaml declares %d config keys, want %d: undeclared keys are not read by the program", len(proj.Config), len(want)+1)
	}
}
