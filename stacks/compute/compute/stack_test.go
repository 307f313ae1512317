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

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

// resourceArgs maps every type this layer registers to its provider args, so
// the test can check from the SDK itself whether the type takes tags.
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
}

// Types without tags in AWS; the StackReference is Pulumi's, not AWS's.
var nonTaggable = map[string]bool{
	typeRolePolicy: true, typeMetricFilter: true, typeInvokeConfig: true, typePermission: true,
	typeNotification: true, typeTarget: true, typeStackRef: true,
}

func TestEveryTaggableResourceIsTagged(t *testing.T) {
	for typ, args := range resourceArgs {
		_, hasTags := reflect.TypeOf(args).FieldByName("Tags")
		if hasTags == nonTaggable[typ] {
			t.Errorf("%s: the SDK says taggable=%v but the test's list says non-taggable=%v", typ, hasTags, nonTaggable[typ])
		}
	}
	res := runDev(t)
	tagged := 0
	for _, r := range res.Resources {
		if _, known := resourceArgs[r.Type]; !known && r.Type != typeStackRef {
			t.Errorf("resource %s %s has a type this test does not classify", r.Type, r.Name)
			continue
		}
		if nonTaggable[r.Type] {
			continue
		}
		wantInput(t, r, "tags", map[string]string{"Environment": "Production", "Project": "MarketAnalytics"})
		tagged++
	}
	// 3 × (role, log group, function) + event source mapping + 2 rules.
	if tagged != 12 {
		t.Errorf("%d tagged resources, want 12", tagged)
	}
}

// Nothing is retained or protected: the stack destroys cleanly.
func TestNothingRetained(t *testing.T) {
	res := runDev(t)
	for _, r := range res.Resources {
		if r.Protect || r.RetainOnDelete {
			t.Errorf("%s %s: protect=%v retainOnDelete=%v", r.Type, r.Name, r.Protect, r.RetainOnDelete)
		}
		if v, ok := input(r, "skipDestroy"); ok && v == true {
			t.Errorf("%s %s sets skipDestroy", r.Type, r.Name)
		}
	}
}

func TestStackReferences(t *testing.T) {
	t.Run("default names", func(t *testing.T) {
		res := run(t, options(t, "staging", nil))
		refs := stackRefNames(res.OfType(typeStackRef))
		want := []string{"organization/market-data-storage/staging", "organization/market-data-messaging/staging"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("config override", func(t *testing.T) {
		opts := options(t, "dev", map[string]string{
			common.ConfigStorageStack:   "data-team/market-data-storage/prod",
			common.ConfigMessagingStack: "platform/market-data-messaging/shared",
		})
		storage, messaging := lowerOutputs(dev)
		opts.StackOutputs = map[string]map[string]interface{}{
			"data-team/market-data-storage/prod":    storage,
			"platform/market-data-messaging/shared": messaging,
		}
		res := run(t, opts)
		refs := stackRefNames(res.OfType(typeStackRef))
		want := []string{"data-team/market-data-storage/prod", "platform/market-data-messaging/shared"}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("stack references = %v, want %v", refs, want)
		}
	})
	t.Run("missing lower-layer output", func(t *testing.T) {
		opts := options(t, "dev", nil)
		delete(opts.StackOutputs["organization/market-data-messaging/dev"], "queueArn")
		_, err := mocksRun(t, opts)
		if err == nil || !strings.Contains(err.Error(), `has no output "queueArn"`) {
			t.Errorf("error = %v, want one naming the missing output", err)
		}
	})
}

func stackRefNames(refs []mocks.Resource) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Inputs["name"].(string))
	}
	return out
}

// Odd stack names and the environmentSuffix override give valid AWS names.
func TestNamesAreValidForOddStacks(t *testing.T) {
	var (
		lambdaName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
		roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
		ruleName   = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
		logGroup   = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
		metric     = regexp.MustCompile(`^[^:]{1,255}$`)
	)
	tests := []struct {
		name, stack, suffix, wantFunction string
	}{
		{"upper case", "PROD", "", "DataIngestion-PROD"},
		{"punctuation", "feature/ABC_123.x", "", "DataIngestion-feature-ABC-123-x"},
		{"long", "a-very-long-stack-name-for-a-feature-branch-0123456789", "", ""},
		{"override", "dev", "Team.Blue", "DataIngestion-Team-Blue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{}
			if tc.suffix != "" {
				cfg[common.ConfigEnvironmentSuffix] = tc.suffix
			}
			res := run(t, options(t, tc.stack, cfg))
			if tc.wantFunction != "" {
				wantInput(t, get(t, res, typeFunction, "ingestion"), "name", tc.wantFunction)
			}
			check := func(typ, key string, re *regexp.Regexp) {
				for _, r := range res.OfType(typ) {
					v, _ := input(r, key)
					if s, _ := v.(string); !re.MatchString(s) {
						t.Errorf("%s %s: %s %q is not a valid AWS name", typ, r.Name, key, s)
					}
				}
			}
			check(typeFunction, "name", lambdaName)
			check(typeRole, "name", roleName)
			check(typeRule, "name", ruleName)
			check(typeLogGroup, "name", logGroup)
			check(typeMetricFilter, "metricTransformation.name", metric)
			check(typeMetricFilter, "name", metric)
		})
	}
}
