package api

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// options runs the api program for stack with the lower layers at their
// default stack names and the given extra config (keys without namespace).
func options(t *testing.T, stack string, cfg map[string]string) synthrec.Options {
	t.Helper()
	return stacktest.Options(t, naming.ProjectAPI, stack, cfg, naming.ProjectStorage, naming.ProjectCompute)
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *synthrec.Result {
	t.Helper()
	return stacktest.Run(t, Program, options(t, "dev", nil))
}

var dev = naming.MustNew("dev")
