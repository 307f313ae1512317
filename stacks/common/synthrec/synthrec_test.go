package synthrec

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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
