package compute

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// TestConformance runs the checks every layer passes.
func TestConformance(t *testing.T) {
	fnArn := func(name string) string { return "arn:aws:lambda:us-east-1:123456789012:function:" + name }
	invoke := func(name string) string {
		return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fnArn(name) + "/invocations"
	}
	stacktest.AssertConformance(t, stacktest.Conformance{
		Layer: fixture(t).Layer,
		Lower: lower,
		ConfigKeys: map[string]stacktest.ConfigKey{
			common.ConfigStorageStack:   {Type: "string", Default: ""},
			common.ConfigMessagingStack: {Type: "string", Default: ""},
			ConfigMemorySize:            {Type: "integer", Default: strconv.Itoa(DefaultMemorySize)},
			ConfigBuildDir:              {Type: "string", Default: DefaultBuildDir},

			ReservedConcurrencyKey("ingestion"):  {Type: "integer", Default: strconv.Itoa(NoReservedConcurrency)},
			ReservedConcurrencyKey("processor"):  {Type: "integer", Default: strconv.Itoa(NoReservedConcurrency)},
			ReservedConcurrencyKey("aggregator"): {Type: "integer", Default: strconv.Itoa(NoReservedConcurrency)},

			ConfigFunctionErrorsAlarmCount:      {Type: "integer", Default: strconv.Itoa(DefaultFunctionErrorsAlarmCount)},
			ConfigThrottlesAlarmCount:           {Type: "integer", Default: strconv.Itoa(DefaultThrottlesAlarmCount)},
			ConfigProcessorDurationAlarmPercent: {Type: "integer", Default: strconv.Itoa(DefaultProcessorDurationAlarmPercent)},
			ConfigAggregationLagAlarmMinutes:    {Type: "integer", Default: strconv.Itoa(DefaultAggregationLagAlarmMinutes)},
			ConfigNoPointsAlarmMinutes:          {Type: "integer", Default: strconv.Itoa(DefaultNoPointsAlarmMinutes)},
		},
		// 3 × (role, log group, function) + event source mapping + 2 rules
		// + 11 alarms (3 per function, the processor's duration, aggregation lag).
		Tagged: 23,
		Outputs: func(testing.TB, *synthrec.Result) map[string]interface{} {
			return map[string]interface{}{
				outputs.IngestionFunctionName:  "DataIngestion-dev",
				outputs.IngestionFunctionArn:   fnArn("DataIngestion-dev"),
				outputs.IngestionInvokeArn:     invoke("DataIngestion-dev"),
				outputs.ProcessorFunctionName:  "DataProcessor-dev",
				outputs.ProcessorFunctionArn:   fnArn("DataProcessor-dev"),
				outputs.AggregatorFunctionName: "DataAggregator-dev",
				outputs.AggregatorFunctionArn:  fnArn("DataAggregator-dev"),
				outputs.AggregatorInvokeArn:    invoke("DataAggregator-dev"),

				outputs.AlarmTopicArn: alarmTopicArn, // re-exported from messaging

				outputs.EnvironmentSuffix: "dev",
			}
		},
		InvalidSuffix: "--//--",
	})
}

func TestStackReferences(t *testing.T) {
	t.Run("default names", func(t *testing.T) {
		res := fixture(t).Run(t, "staging", nil)
		refs := stacktest.StackReferences(res)
		want := []string{"organization/market-data-messaging/staging", "organization/market-data-storage/staging"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("config override", func(t *testing.T) {
		opts := fixture(t).Options(t, "dev", map[string]string{
			common.ConfigStorageStack:   "data-team/market-data-storage/prod",
			common.ConfigMessagingStack: "platform/market-data-messaging/shared",
		})
		outs := stacktest.LowerOutputs(t, "dev", "", lower...)
		opts.StackOutputs = map[string]map[string]interface{}{
			"data-team/market-data-storage/prod":    outs[naming.ProjectStorage],
			"platform/market-data-messaging/shared": outs[naming.ProjectMessaging],
		}
		res := stacktest.Run(t, Program, opts)
		refs := stacktest.StackReferences(res)
		want := []string{"data-team/market-data-storage/prod", "platform/market-data-messaging/shared"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("missing lower-layer output", func(t *testing.T) {
		opts := fixture(t).Options(t, "dev", nil)
		delete(opts.StackOutputs["organization/market-data-messaging/dev"], "queueArn")
		_, err := synthrec.Run(Program, opts)
		if err == nil || !strings.Contains(err.Error(), `has no output "queueArn"`) {
			t.Errorf("error = %v, want one naming the missing output", err)
		}
	})
}

// Odd stack names and the environmentSuffix override give valid AWS names.
func TestNamesAreValidForOddStacks(t *testing.T) {
	var (
		lambdaName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
		roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
		ruleName   = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
		metric     = regexp.MustCompile(`^[^:]{1,255}$`)
	)
	fixture(t).EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		stacktest.WantInput(t, stacktest.Get(t, res, stacktest.TypeFunction, "ingestion"), "name", "DataIngestion-"+sfx)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeFunction, "name", lambdaName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeRole, "name", roleName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeRule, "name", ruleName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeLogGroup, "name", stacktest.LogGroupName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeMetricFilter, "metricTransformation.name", metric)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeMetricFilter, "name", metric)
	})
}
