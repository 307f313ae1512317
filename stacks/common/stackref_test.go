package common_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// referencing runs ReferenceLowerLayers for projects as stack "dev" with
// config cfg (keys with namespace), each lower stack answering with suffix.
func referencing(projects []string, cfg map[string]string, suffix string) (*synthrec.Result, error) {
	program := func(ctx *pulumi.Context) (common.Outputs, error) {
		n, err := common.Names(ctx)
		if err != nil {
			return nil, err
		}
		_, err = common.ReferenceLowerLayers(ctx, n, projects...)
		return common.Outputs{}, err
	}
	stackOutputs := map[string]map[string]interface{}{}
	for _, p := range []string{naming.ProjectStorage, naming.ProjectMessaging, "data-team/" + naming.ProjectStorage + "/prod"} {
		name := stacktest.Organization + "/" + p + "/dev"
		if strings.Contains(p, "/") {
			name = p
		}
		stackOutputs[name] = map[string]interface{}{outputs.EnvironmentSuffix: suffix}
	}
	return synthrec.Run(program, synthrec.Options{Project: "p", Stack: "dev", Config: cfg, StackOutputs: stackOutputs})
}

func TestReferenceLowerLayers(t *testing.T) {
	t.Run("default stack names, each by its project's config key", func(t *testing.T) {
		res, err := referencing([]string{naming.ProjectStorage, naming.ProjectMessaging}, nil, "dev")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"organization/market-data-messaging/dev", "organization/market-data-storage/dev"}
		if got := stacktest.StackReferences(res); !reflect.DeepEqual(got, want) {
			t.Errorf("stack references = %v, want %v", got, want)
		}
	})
	t.Run("config override", func(t *testing.T) {
		res, err := referencing([]string{naming.ProjectStorage}, map[string]string{"p:" + common.ConfigStorageStack: "data-team/market-data-storage/prod"}, "dev")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := stacktest.StackReferences(res), []string{"data-team/market-data-storage/prod"}; !reflect.DeepEqual(got, want) {
			t.Errorf("stack references = %v, want %v", got, want)
		}
	})
	t.Run("other suffix fails", func(t *testing.T) {
		_, err := referencing([]string{naming.ProjectStorage}, nil, "team-b")
		if err == nil || !strings.Contains(err.Error(), `"team-b"`) {
			t.Errorf("err = %v, want one naming the lower layer's suffix", err)
		}
	})
	t.Run("not a lower layer", func(t *testing.T) {
		_, err := referencing([]string{naming.ProjectAPI}, nil, "dev")
		if err == nil || !strings.Contains(err.Error(), naming.ProjectAPI) {
			t.Errorf("err = %v, want one naming %s", err, naming.ProjectAPI)
		}
	})
}
