package api

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
	"github.com/marketanalytics/pipeline/stacks/compute/compute"
	"github.com/marketanalytics/pipeline/stacks/messaging/messaging"
	"github.com/marketanalytics/pipeline/stacks/storage/storage"
)

// fixture is the api layer over the lower layers.
func fixture(t *testing.T) stacktest.Fixture {
	return stacktest.Fixture{Layer: stacktest.Layer{Project: naming.ProjectAPI, Program: Program}, Lower: lower(t)}
}

// options runs the api program for stack with the lower layers at their
// default stack names and the given extra config (keys without namespace).
func options(t *testing.T, stack string, cfg map[string]string) synthrec.Options {
	t.Helper()
	return fixture(t).Options(t, stack, cfg)
}

// lower are the layers below the api, in deploy order; compute (with a fake
// build) reads storage and messaging.
func lower(t *testing.T) []stacktest.Layer {
	return []stacktest.Layer{
		{Project: naming.ProjectStorage, Program: storage.Program},
		{Project: naming.ProjectMessaging, Program: messaging.Program},
		{Project: naming.ProjectCompute, Program: compute.Program,
			Config: map[string]string{compute.ConfigBuildDir: stacktest.FakeBuild(t)}},
	}
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *synthrec.Result {
	t.Helper()
	return fixture(t).RunDev(t)
}

var dev = naming.MustNew("dev")
