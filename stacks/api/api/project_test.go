package api

import (
	"strconv"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

// Pulumi.yaml is valid for the Pulumi CLI (its own loader and schema) and
// declares exactly the config keys the program reads, with the program's
// defaults, so `pulumi config` documents the layer truthfully.
func TestProjectFile(t *testing.T) {
	stacktest.AssertProjectFile(t, "../Pulumi.yaml", naming.ProjectAPI, map[string]stacktest.ConfigKey{
		common.ConfigEnvironmentSuffix: {Type: "string", Default: ""},
		common.ConfigStorageStack:      {Type: "string", Default: ""},
		common.ConfigComputeStack:      {Type: "string", Default: ""},
		ConfigAccessLogging:            {Type: "boolean", Default: strconv.FormatBool(DefaultAccessLogging)},

		ConfigAPI5XXAlarmPercent: {Type: "integer", Default: strconv.Itoa(DefaultAPI5XXAlarmPercent)},
		ConfigAPILatencyAlarmMs:  {Type: "integer", Default: strconv.Itoa(DefaultAPILatencyAlarmMs)},
	})
}
