package compute

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// resourceArgs maps every type this layer registers to its provider args, so
// the test can check from the SDK itself whether the type takes tags. The
// StackReference is Pulumi's, not AWS's.
var resourceArgs = map[string]interface{}{
	typeFunction:     lambda.FunctionArgs{},
	typeRole:         iam.RoleArgs{},
	typeRolePolicy:   iam.RolePolicyArgs{},
	typeLogGroup:     cloudwatch.LogGroupArgs{},
	typeMetricFilter: cloudwatch.LogMetricFilterArgs{},
	typeInvokeConfig: lambda.FunctionEventInvokeConfigArgs{},
	typePermission:   lambda.PermissionArgs{},
	typeNotification: s3.BucketNotificationArgs{},
	typeMapping:      lambda.EventSourceMappingArgs{},
	typeRule:         cloudwatch.EventRuleArgs{},
	typeTarget:       cloudwatch.EventTargetArgs{},
	typeStackRef:     nil,
}

// Types without tags in AWS, and the StackReference.
var nonTaggable = []string{
	typeRolePolicy, typeMetricFilter, typeInvokeConfig, typePermission, typeNotification, typeTarget, typeStackRef,
}

func TestEveryTaggableResourceIsTagged(t *testing.T) {
	res := runDev(t)
	stacktest.AssertClassified(t, res, resourceArgs, nonTaggable...)
	// 3 × (role, log group, function) + event source mapping + 2 rules.
	// + 11 alarms (3 per function, the processor's duration, aggregation lag).
	if tagged := stacktest.AssertTagged(t, res, nonTaggable...); tagged != 23 {
		t.Errorf("%d tagged resources, want 23", tagged)
	}
}

// Nothing is retained or protected: the stack destroys cleanly.
func TestNothingRetained(t *testing.T) {
	stacktest.AssertNothingRetained(t, runDev(t))
}

// The rules' ARNs are computed for naming.Region: another region fails.
func TestOtherRegionFails(t *testing.T) {
	stacktest.AssertRegionGuard(t, Program, naming.ProjectCompute)
}

func TestInvalidEnvironmentSuffixFails(t *testing.T) {
	stacktest.AssertInvalidSuffixFails(t, Program, naming.ProjectCompute, "--//--")
}

func TestStackReferences(t *testing.T) {
	t.Run("default names", func(t *testing.T) {
		res := stacktest.Run(t, Program, options(t, "staging", nil))
		refs := stacktest.StackReferences(res)
		want := []string{"organization/market-data-messaging/staging", "organization/market-data-storage/staging"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("config override", func(t *testing.T) {
		opts := options(t, "dev", map[string]string{
			common.ConfigStorageStack:   "data-team/market-data-storage/prod",
			common.ConfigMessagingStack: "platform/market-data-messaging/shared",
		})
		opts.StackOutputs = map[string]map[string]interface{}{
			"data-team/market-data-storage/prod":    stacktest.LayerOutputs(t, naming.ProjectStorage, dev),
			"platform/market-data-messaging/shared": stacktest.LayerOutputs(t, naming.ProjectMessaging, dev),
		}
		res := stacktest.Run(t, Program, opts)
		refs := stacktest.StackReferences(res)
		want := []string{"data-team/market-data-storage/prod", "platform/market-data-messaging/shared"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("missing lower-layer output", func(t *testing.T) {
		opts := options(t, "dev", nil)
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
	for _, tc := range stacktest.OddStacks {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := map[string]string{}
			if tc.Suffix != "" {
				cfg[common.ConfigEnvironmentSuffix] = tc.Suffix
			}
			res := stacktest.Run(t, Program, options(t, tc.Stack, cfg))
			stacktest.WantInput(t, stacktest.Get(t, res, typeFunction, "ingestion"), "name", "DataIngestion-"+tc.Want)
			stacktest.AssertNamesMatch(t, res, typeFunction, "name", lambdaName)
			stacktest.AssertNamesMatch(t, res, typeRole, "name", roleName)
			stacktest.AssertNamesMatch(t, res, typeRule, "name", ruleName)
			stacktest.AssertNamesMatch(t, res, typeLogGroup, "name", stacktest.LogGroupName)
			stacktest.AssertNamesMatch(t, res, typeMetricFilter, "metricTransformation.name", metric)
			stacktest.AssertNamesMatch(t, res, typeMetricFilter, "name", metric)
		})
	}
}
