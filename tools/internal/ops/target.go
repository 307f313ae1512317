package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Target is the pipeline the tools work on: its clients and the resources
// the stacks' outputs name.
type Target struct {
	SQS        SQSAPI
	Lambda     LambdaAPI
	S3         *s3.Client
	DynamoDB   *dynamodb.Client
	CloudWatch *cloudwatch.Client // nil: alarm states are not shown

	Names                                 naming.Names
	QueueURL, QueueArn, DLQURL            string
	IngestionFunction, AggregatorFunction string
	AggregatorArn                         string
	Bucket, Table                         string
	Now                                   func() time.Time
}

func (t *Target) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Outputs are the stack outputs of the four layers, by layer then key.
type Outputs map[string]map[string]string

func (o Outputs) get(layer, key string) (string, error) {
	v := o[layer][key]
	if v == "" {
		return "", fmt.Errorf("the %s layer has no output %s: is it deployed?", layer, key)
	}
	return v, nil
}

// PulumiOutputs reads each layer's outputs with `pulumi stack output --json`
// in stacks/<layer> of repo, for stack.
func PulumiOutputs(ctx context.Context, repo, stack string) (Outputs, error) {
	outs := Outputs{}
	for _, layer := range naming.Layers {
		cmd := exec.CommandContext(ctx, "pulumi", "stack", "output", "--json", "--stack", stack)
		cmd.Dir = filepath.Join(repo, "stacks", layer)
		b, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
			}
			return nil, fmt.Errorf("pulumi stack output of %s (stack %s): %w", layer, stack, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("pulumi stack output of %s: %w", layer, err)
		}
		outs[layer] = map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				outs[layer][k] = s
			}
		}
	}
	return outs, nil
}

// SynthOutputs are the outputs of the synthesized stacks (build/synth), which
// the local pipeline is provisioned from.
func SynthOutputs(p *synthread.Plan) Outputs {
	outs := Outputs{}
	for _, layer := range naming.Layers {
		outs[layer] = map[string]string{}
		for _, key := range []string{outputs.BucketName, outputs.TableName, outputs.QueueArn, outputs.DLQArn,
			outputs.IngestionFunctionName, outputs.AggregatorFunctionName, outputs.AggregatorFunctionArn} {
			if v, ok := p.Output(layer, key); ok {
				outs[layer][key] = v
			}
		}
	}
	return outs
}

// Clients are the AWS clients a Target uses.
type Clients struct {
	SQS        *sqs.Client
	Lambda     LambdaAPI
	S3         *s3.Client
	DynamoDB   *dynamodb.Client
	CloudWatch *cloudwatch.Client
}

// NewTarget resolves the resources named by outs; queue URLs are asked of
// SQS by name (the local URLs differ from AWS's).
func NewTarget(ctx context.Context, c Clients, outs Outputs) (*Target, error) {
	t := &Target{SQS: c.SQS, Lambda: c.Lambda, S3: c.S3, DynamoDB: c.DynamoDB, CloudWatch: c.CloudWatch}
	var err error
	get := func(layer, key string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = outs.get(layer, key)
		return v
	}
	t.Bucket = get("storage", outputs.BucketName)
	t.Table = get("storage", outputs.TableName)
	t.QueueArn = get("messaging", outputs.QueueArn)
	dlqArn := get("messaging", outputs.DLQArn)
	t.IngestionFunction = get("compute", outputs.IngestionFunctionName)
	t.AggregatorFunction = get("compute", outputs.AggregatorFunctionName)
	t.AggregatorArn = get("compute", outputs.AggregatorFunctionArn)
	if err != nil {
		return nil, err
	}
	// The names follow the suffix of the table's name.
	suffix := strings.TrimPrefix(t.Table, strings.TrimSuffix(naming.MustNew("x").Table(), "x"))
	if t.Names, err = naming.New(suffix); err != nil {
		return nil, fmt.Errorf("suffix of table %s: %w", t.Table, err)
	}
	if t.QueueURL, err = queueURL(ctx, c.SQS, t.QueueArn); err != nil {
		return nil, err
	}
	if t.DLQURL, err = queueURL(ctx, c.SQS, dlqArn); err != nil {
		return nil, err
	}
	return t, nil
}

func queueURL(ctx context.Context, c *sqs.Client, queueArn string) (string, error) {
	a, err := arn.Parse(queueArn)
	if err != nil {
		return "", fmt.Errorf("queue ARN %q: %w", queueArn, err)
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource)})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", a.Resource, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
