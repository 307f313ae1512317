package compute

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
	"github.com/marketanalytics/pipeline/stacks/messaging/messaging"
	"github.com/marketanalytics/pipeline/stacks/storage/storage"
)

// lower are the layers below compute, in deploy order.
var lower = []stacktest.Layer{
	{Project: naming.ProjectStorage, Program: storage.Program},
	{Project: naming.ProjectMessaging, Program: messaging.Program},
}

// layer is the compute layer with a fake build.
func layer(t *testing.T) stacktest.Layer {
	return stacktest.Layer{Project: naming.ProjectCompute, Program: Program,
		Config: map[string]string{ConfigBuildDir: stacktest.FakeBuild(t)}}
}

// options runs the compute program for stack with a fake build, the lower
// layers at their default stack names and the given extra config (keys
// without namespace; a buildDir there replaces the fake build).
func options(t *testing.T, stack string, cfg map[string]string) synthrec.Options {
	t.Helper()
	config := map[string]string{ConfigBuildDir: stacktest.FakeBuild(t)}
	for k, v := range cfg {
		config[k] = v
	}
	return stacktest.Options(t, naming.ProjectCompute, stack, config, lower...)
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *synthrec.Result {
	t.Helper()
	return stacktest.Run(t, Program, options(t, "dev", nil))
}
