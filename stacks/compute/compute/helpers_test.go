package compute

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/messaging/messaging"
	"github.com/marketanalytics/pipeline/stacks/storage/storage"
)

// lower are the layers below compute, in deploy order.
var lower = []stacktest.Layer{
	{Project: naming.ProjectStorage, Program: storage.Program},
	{Project: naming.ProjectMessaging, Program: messaging.Program},
}

// fixture is the compute layer with a fake build (a buildDir in a run's
// config replaces it) over the lower layers.
func fixture(t *testing.T) stacktest.Fixture {
	return stacktest.Fixture{
		Layer: stacktest.Layer{Project: naming.ProjectCompute, Program: Program,
			Config: map[string]string{ConfigBuildDir: stacktest.FakeBuild(t)}},
		Lower: lower,
	}
}
