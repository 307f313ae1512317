package api

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// TestConformance runs the checks every layer passes, with the default
// config (access logs and the account's CloudWatch role), which registers
// every resource type of the layer.
func TestConformance(t *testing.T) {
	stacktest.AssertConformance(t, stacktest.Conformance{
		Layer: fixture(t).Layer,
		Lower: lower(t),
		ConfigKeys: map[string]stacktest.ConfigKey{
			common.ConfigStorageStack:  {Type: "string", Default: ""},
			common.ConfigComputeStack:  {Type: "string", Default: ""},
			ConfigAccessLogging:        {Type: "boolean", Default: strconv.FormatBool(DefaultAccessLogging)},
			ConfigCreateCloudWatchRole: {Type: "boolean", Default: strconv.FormatBool(DefaultCreateCloudWatchRole)},

			ConfigAPI5XXAlarmPercent: {Type: "integer", Default: strconv.Itoa(DefaultAPI5XXAlarmPercent)},
			ConfigAPILatencyAlarmMs:  {Type: "integer", Default: strconv.Itoa(DefaultAPILatencyAlarmMs)},
		},
		Tagged: 7, // REST API, stage, access and execution log groups, the CloudWatch role, 2 alarms
		Outputs: func(t testing.TB, res *synthrec.Result) map[string]interface{} {
			id := stacktest.Get(t, res, stacktest.TypeRestAPI, "api").ID
			if !regexp.MustCompile(`^[a-z0-9]{10}$`).MatchString(id) {
				t.Fatalf("api id %q is not realistic", id)
			}
			return map[string]interface{}{
				outputs.APIURL:        "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod",
				outputs.IngestURL:     "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod/ingest",
				outputs.AggregatesURL: "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod/aggregates",
				outputs.APIID:         id,
				outputs.StageName:     "prod",
				outputs.BucketName:    "market-data-dev",
				outputs.TableArn:      "arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev",
			}
		},
		InvalidSuffix: "--//--",
	})
}
