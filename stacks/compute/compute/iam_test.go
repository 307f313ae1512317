package compute

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

const (
	bucketArn = "arn:aws:s3:::market-data-dev"
	tableArn  = "arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev"
	queueArn  = "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"
	dlqArn    = "arn:aws:sqs:us-east-1:123456789012:ProcessingDLQ-dev"
	busArn    = "arn:aws:events:us-east-1:123456789012:event-bus/MarketDataEvents-dev"
)

func logGroupArn(fn string) string {
	return "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/" + fn
}

func allow(sid string, actions []string, resources ...string) common.Statement {
	return common.Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

func TestRoles(t *testing.T) {
	res := fixture(t).RunDev(t)
	for _, svc := range naming.Services {
		name, _ := dev.FunctionFor(svc)
		role := stacktest.Get(t, res, stacktest.TypeRole, svc+"-role")
		stacktest.WantInput(t, role, "name", name+"-role")
		for _, absent := range []string{"managedPolicyArns", "inlinePolicies", "permissionsBoundary"} {
			stacktest.WantNoInput(t, role, absent)
		}
		trust := stacktest.PolicyInput(t, role, "assumeRolePolicy")
		want := []common.Statement{{
			Sid:       "LambdaAssumesRole",
			Effect:    "Allow",
			Principal: map[string]interface{}{"Service": "lambda.amazonaws.com"},
			Action:    []string{"sts:AssumeRole"},
			Condition: map[string]map[string]interface{}{"StringEquals": {"aws:SourceAccount": "123456789012"}},
		}}
		if !reflect.DeepEqual(trust.Statement, want) {
			t.Errorf("role %s trust = %+v, want %+v", name, trust.Statement, want)
		}

		pol := stacktest.Get(t, res, stacktest.TypeRolePolicy, svc+"-policy")
		stacktest.WantInput(t, pol, "role", name+"-role")
		stacktest.WantInput(t, pol, "name", "least-privilege")
	}
	if got := len(res.OfType(stacktest.TypeRolePolicy)); got != 3 {
		t.Errorf("%d role policies, want 3 (one inline policy per role)", got)
	}
	for _, typ := range []string{"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policy:Policy"} {
		if got := res.OfType(typ); len(got) != 0 {
			t.Errorf("%d %s registered, want none (no managed policies)", len(got), typ)
		}
	}
}

// Every statement of every execution policy, exactly.
func TestExecutionPolicies(t *testing.T) {
	res := fixture(t).RunDev(t)
	logs := func(fn string) []string { return []string{logGroupArn(fn), logGroupArn(fn) + ":*"} }
	xray := allow("WriteTraces", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*")
	tests := []struct {
		service, function string
		allows            []common.Statement
	}{
		{"ingestion", "DataIngestion-dev", []common.Statement{
			allow("ReadRawObjects", []string{"s3:GetObject", "s3:GetObjectVersion"}, bucketArn+"/*"),
			allow("ListRawBucket", []string{"s3:ListBucket"}, bucketArn),
			allow("QueuePoints", []string{"sqs:SendMessage"}, queueArn),
			allow("WriteIngestionReports", []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"}, tableArn),
			allow("DeadLetterFailedInvocations", []string{"sqs:SendMessage"}, dlqArn),
			allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs("DataIngestion-dev")...),
			xray,
		}},
		{"processor", "DataProcessor-dev", []common.Statement{
			allow("ConsumeProcessingQueue", []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}, queueArn),
			allow("WritePointsAndState", []string{"dynamodb:BatchWriteItem", "dynamodb:UpdateItem"}, tableArn),
			allow("PublishWindowEvents", []string{"events:PutEvents"}, busArn),
			allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs("DataProcessor-dev")...),
			xray,
		}},
		{"aggregator", "DataAggregator-dev", []common.Statement{
			allow("ReadPointsWriteAggregates", []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"}, tableArn),
			{Sid: "PublishPipelineMetrics", Effect: "Allow", Action: []string{"cloudwatch:PutMetricData"}, Resource: []string{"*"},
				Condition: map[string]map[string]interface{}{"StringEquals": {"cloudwatch:namespace": "MarketAnalytics/Pipeline-dev"}}},
			allow("DeadLetterFailedInvocations", []string{"sqs:SendMessage"}, dlqArn),
			allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs("DataAggregator-dev")...),
			xray,
		}},
	}
	wantDestroy := []string{
		"dynamodb:DeleteTable", "dynamodb:DeleteItem", "s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion",
		"sqs:DeleteQueue", "sqs:PurgeQueue",
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			p := stacktest.PolicyInput(t, stacktest.Get(t, res, stacktest.TypeRolePolicy, tc.service+"-policy"), "policy")
			if len(p.Statement) != len(tc.allows)+2 {
				t.Fatalf("%d statements, want %d allows and 2 denies: %+v", len(p.Statement), len(tc.allows), p.Statement)
			}
			if got := p.Statement[:len(tc.allows)]; !reflect.DeepEqual(got, tc.allows) {
				t.Errorf("allow statements\n got %+v\nwant %+v", got, tc.allows)
			}

			// Deny everything outside the granted actions.
			granted := map[string]bool{}
			for _, st := range tc.allows {
				for _, a := range st.Action {
					granted[a] = true
				}
			}
			var wantNot []string
			for a := range granted {
				wantNot = append(wantNot, a)
			}
			sort.Strings(wantNot)
			notAction := common.Statement{Sid: "DenyAllButGranted", Effect: "Deny", NotAction: wantNot, Resource: []string{"*"}}
			if got := p.Statement[len(tc.allows)]; !reflect.DeepEqual(got, notAction) {
				t.Errorf("NotAction deny\n got %+v\nwant %+v", got, notAction)
			}

			// Deny destroying the pipeline's data, whatever is granted.
			destroy := p.Statement[len(tc.allows)+1]
			if destroy.Effect != "Deny" || destroy.Sid != "DenyDestroyingPipelineData" || destroy.Condition != nil {
				t.Errorf("destructive deny = %+v", destroy)
			}
			for _, a := range wantDestroy {
				if !contains(destroy.Action, a) {
					t.Errorf("destructive deny lacks %s", a)
				}
			}
			for _, a := range destroy.Action {
				if granted[a] {
					t.Errorf("destructive deny %s would block a granted action", a)
				}
			}
			wantRes := []string{tableArn, bucketArn, bucketArn + "/*", queueArn, dlqArn, busArn, logGroupArn(tc.function)}
			if !reflect.DeepEqual(destroy.Resource, wantRes) {
				t.Errorf("destructive deny resources = %v, want %v", destroy.Resource, wantRes)
			}

			// "*" only where AWS allows nothing narrower.
			for _, st := range p.Statement {
				if st.Effect != "Allow" {
					continue
				}
				for _, r := range st.Resource {
					if strings.Contains(r, "*") && !strings.HasSuffix(r, "/*") && !strings.HasSuffix(r, ":*") {
						for _, a := range st.Action {
							if !strings.HasPrefix(a, "xray:") && a != "cloudwatch:PutMetricData" {
								t.Errorf("%s allows %s on %s", st.Sid, a, r)
							}
						}
					}
				}
				for _, a := range st.Action {
					if strings.Contains(a, "*") {
						t.Errorf("%s allows wildcard action %s", st.Sid, a)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
