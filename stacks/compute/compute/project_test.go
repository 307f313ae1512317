package compute

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
	stacktest.AssertProjectFile(t, "../Pulumi.yaml", naming.ProjectCompute, map[string]stacktest.ConfigKey{
		common.ConfigEnvironmentSuffix: {Type: "string", Default: ""},
		common.ConfigStorageStack:      {Type: "string", Default: ""},
		common.ConfigMessagingStack:    {Type: "string", Default: ""},
		ConfigMemorySize:               {Type: "integer", Default: strconv.Itoa(DefaultMemorySize)},
		ConfigBuildDir:                 {Type: "string", Default: DefaultBuildDir},

		ConfigFunctionErrorsAlarmCount:      {Type: "integer", Default: strconv.Itoa(DefaultFunctionErrorsAlarmCount)},
		ConfigThrottlesAlarmCount:           {Type: "integer", Default: strconv.Itoa(DefaultThrottlesAlarmCount)},
		ConfigProcessorDurationAlarmPercent: {Type: "integer", Default: strconv.Itoa(DefaultProcessorDurationAlarmPercent)},
		ConfigAggregationLagAlarmMinutes:    {Type: "integer", Default: strconv.Itoa(DefaultAggregationLagAlarmMinutes)},
		ConfigNoPointsAlarmMinutes:          {Type: "integer", Default: strconv.Itoa(DefaultNoPointsAlarmMinutes)},
	})
}
