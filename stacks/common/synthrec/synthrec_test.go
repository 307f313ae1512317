package synthrec

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/arns"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

func TestRunRecordsResourcesDependenciesAndOutputs(t *testing.T) {
	program := func(ctx *pulumi.Context) (common.Outputs, error) {
		layer, err := common.ReferenceLayer(ctx, "upstream", "up")
		if err != nil {
			return nil, err
		}
		q, err := sqs.NewQueue(ctx, "q", &sqs.QueueArgs{Name: pulumi.String("Q-dev"), Tags: common.Tags()})
		if err != nil {
			return nil, err
		}
		b, err := s3.NewBucketV2(ctx, "b", &s3.BucketV2Args{Bucket: layer.String("bucket")},
			pulumi.DependsOn([]pulumi.Resource{q}))
		if err != nil {
			return nil, err
		}
		return common.Outputs{"arn": b.Arn, "url": q.Url}, nil
	}
	res, err := Run(program, Options{Project: "p", Stack: "dev", StackOutputs: map[string]map[string]interface{}{
		"organization/up/dev": {"bucket": "my-bucket"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Outputs["arn"], "arn:aws:s3:::my-bucket"; got != want {
		t.Errorf("output arn = %v, want %v", got, want)
	}
	if got, want := res.Outputs["url"], "https://sqs.us-east-1.amazonaws.com/123456789012/Q-dev"; got != want {
		t.Errorf("output url = %v, want %v", got, want)
	}
	q, err := res.Get("aws:sqs/queue:Queue", "q")
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.Get("aws:s3/bucketV2:BucketV2", "b")
	if err != nil {
		t.Fatal(err)
	}
	if !b.DependsOn(q) {
		t.Errorf("bucket dependencies %v lack the queue %s", b.Dependencies, q.URN)
	}
	if got := q.Inputs["tags"].(map[string]interface{})["Project"]; got != "MarketAnalytics" {
		t.Errorf("queue Project tag = %v", got)
	}
	if q.URN != "urn:pulumi:dev::p::aws:sqs/queue:Queue::q" {
		t.Errorf("queue urn = %s", q.URN)
	}
}

func TestRunFailsOnUnknownStackReference(t *testing.T) {
	program := func(ctx *pulumi.Context) (common.Outputs, error) {
		_, err := common.ReferenceLayer(ctx, "upstream", "up")
		return common.Outputs{}, err
	}
	if _, err := Run(program, Options{Project: "p"}); err == nil {
		t.Fatal("want an error for a stack reference without outputs")
	}
}

func TestRunRecordsProtectAndRetainOnDelete(t *testing.T) {
	program := func(ctx *pulumi.Context) (common.Outputs, error) {
		if _, err := sqs.NewQueue(ctx, "plain", &sqs.QueueArgs{}); err != nil {
			return nil, err
		}
		if _, err := sqs.NewQueue(ctx, "protected", &sqs.QueueArgs{}, pulumi.Protect(true)); err != nil {
			return nil, err
		}
		_, err := sqs.NewQueue(ctx, "retained", &sqs.QueueArgs{}, pulumi.RetainOnDelete(true))
		return common.Outputs{}, err
	}
	res, err := Run(program, Options{Project: "p"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]bool{"plain": {false, false}, "protected": {true, false}, "retained": {false, true}} {
		r, err := res.Get("aws:sqs/queue:Queue", name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Protect != want[0] || r.RetainOnDelete != want[1] {
			t.Errorf("%s: protect=%v retainOnDelete=%v, want %v", name, r.Protect, r.RetainOnDelete, want)
		}
	}
}

// The recorder's fake ARNs are the ones shared/arns builds: what the stacks
// compute ahead of creation (rule and queue ARNs) matches what they get.
func TestFakeARNsAreTheSharedARNs(t *testing.T) {
	program := func(ctx *pulumi.Context) (common.Outputs, error) {
		var errs []error
		keep := func(_ interface{}, err error) { errs = append(errs, err) }
		keep(s3.NewBucketV2(ctx, "bucket", &s3.BucketV2Args{Bucket: pulumi.String("b")}))
		keep(dynamodb.NewTable(ctx, "table", &dynamodb.TableArgs{Name: pulumi.String("t")}))
		keep(sqs.NewQueue(ctx, "queue", &sqs.QueueArgs{Name: pulumi.String("q")}))
		keep(cloudwatch.NewEventBus(ctx, "bus", &cloudwatch.EventBusArgs{Name: pulumi.String("e")}))
		keep(cloudwatch.NewEventRule(ctx, "default-rule", &cloudwatch.EventRuleArgs{Name: pulumi.String("r1")}))
		keep(cloudwatch.NewEventRule(ctx, "bus-rule", &cloudwatch.EventRuleArgs{Name: pulumi.String("r2"), EventBusName: pulumi.String("e")}))
		keep(iam.NewRole(ctx, "role", &iam.RoleArgs{Name: pulumi.String("role"), AssumeRolePolicy: pulumi.String("{}")}))
		keep(cloudwatch.NewLogGroup(ctx, "logs", &cloudwatch.LogGroupArgs{Name: pulumi.String("/aws/lambda/f")}))
		keep(lambda.NewFunction(ctx, "function", &lambda.FunctionArgs{Name: pulumi.String("f"), Role: pulumi.String("r")}))
		keep(apigateway.NewRestApi(ctx, "api", &apigateway.RestApiArgs{}))
		return common.Outputs{}, errors.Join(errs...)
	}
	res, err := Run(program, Options{Project: "p"})
	if err != nil {
		t.Fatal(err)
	}
	const region = naming.Region
	get := func(typ, name string) Resource {
		r, err := res.Get(typ, name)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	fn := get("aws:lambda/function:Function", "function")
	api := get("aws:apigateway/restApi:RestApi", "api")
	for what, tt := range map[string]struct {
		got  interface{}
		want string
	}{
		"bucket":       {get("aws:s3/bucketV2:BucketV2", "bucket").Outputs["arn"], arns.Bucket("b")},
		"table":        {get("aws:dynamodb/table:Table", "table").Outputs["arn"], arns.Table(region, Account, "t")},
		"queue":        {get("aws:sqs/queue:Queue", "queue").Outputs["arn"], arns.Queue(region, Account, "q")},
		"bus":          {get("aws:cloudwatch/eventBus:EventBus", "bus").Outputs["arn"], arns.EventBus(region, Account, "e")},
		"default rule": {get("aws:cloudwatch/eventRule:EventRule", "default-rule").Outputs["arn"], arns.Rule(region, Account, "", "r1")},
		"bus rule":     {get("aws:cloudwatch/eventRule:EventRule", "bus-rule").Outputs["arn"], arns.Rule(region, Account, "e", "r2")},
		"role":         {get("aws:iam/role:Role", "role").Outputs["arn"], arns.Role(Account, "role")},
		"log group":    {get("aws:cloudwatch/logGroup:LogGroup", "logs").Outputs["arn"], arns.LogGroup(region, Account, "/aws/lambda/f")},
		"function":     {fn.Outputs["arn"], arns.Function(region, Account, "f")},
		"invoke":       {fn.Outputs["invokeArn"], arns.FunctionInvoke(region, arns.Function(region, Account, "f"))},
		"api":          {api.Outputs["executionArn"], arns.Execute(region, Account, api.ID, "")},
	} {
		if tt.got != tt.want {
			t.Errorf("%s ARN = %v, want %s", what, tt.got, tt.want)
		}
	}
}
