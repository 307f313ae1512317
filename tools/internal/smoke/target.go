package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// targetOutputs are the stack outputs a Target is made of, by layer (a
// directory under stacks/ and a name of naming.Layers; a test checks).
var targetOutputs = []struct {
	layer, key string
	field      func(*Target) *string
}{
	{"storage", outputs.BucketName, func(t *Target) *string { return &t.Bucket }},
	{"storage", outputs.TableName, func(t *Target) *string { return &t.Table }},
	{"messaging", outputs.DLQURL, func(t *Target) *string { return &t.DLQURL }},
	{"api", outputs.IngestURL, func(t *Target) *string { return &t.IngestURL }},
	{"api", outputs.AggregatesURL, func(t *Target) *string { return &t.AggregatesURL }},
}

// TargetFromOutputs builds a Target from each layer's stack outputs (as
// `pulumi stack output --json` prints them); a missing or empty output is an
// error naming the layer and the key.
func TargetFromOutputs(byLayer map[string]map[string]any) (Target, error) {
	var t Target
	for _, o := range targetOutputs {
		outs, ok := byLayer[o.layer]
		if !ok {
			return Target{}, fmt.Errorf("no outputs of the %s layer", o.layer)
		}
		s, _ := outs[o.key].(string)
		if s == "" {
			return Target{}, fmt.Errorf("the %s layer has no output %q (is it deployed? `pulumi stack output` in stacks/%s)", o.layer, o.key, o.layer)
		}
		*o.field(&t) = s
	}
	return t, nil
}

// OutputLayers lists the layers whose outputs TargetFromOutputs reads, in
// deploy order.
func OutputLayers() []string {
	var ls []string
	for _, l := range naming.Layers {
		for _, o := range targetOutputs {
			if o.layer == l {
				ls = append(ls, l)
				break
			}
		}
	}
	return ls
}

// CommandRunner runs a command in dir and returns its standard output.
type CommandRunner func(ctx context.Context, dir, name string, args ...string) ([]byte, error)

// ExecRunner runs the command for real; its error carries the standard error.
func ExecRunner(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), dir, err, strings.TrimSpace(string(ee.Stderr)))
	}
	return out, err
}

// StackTarget reads the deployed stack's outputs with `pulumi stack output
// --json --stack <stack>` in stacksDir/<layer> for each layer it needs.
func StackTarget(ctx context.Context, run CommandRunner, stacksDir, stack string) (Target, error) {
	byLayer := map[string]map[string]any{}
	for _, l := range OutputLayers() {
		dir := filepath.Join(stacksDir, l)
		out, err := run(ctx, dir, "pulumi", "stack", "output", "--json", "--stack", stack)
		if err != nil {
			return Target{}, fmt.Errorf("read the outputs of the %s layer of stack %s: %w", l, stack, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			return Target{}, fmt.Errorf("outputs of the %s layer of stack %s: %w", l, stack, err)
		}
		byLayer[l] = m
	}
	return TargetFromOutputs(byLayer)
}

// AWSClients returns clients with the caller's AWS credentials and config
// (environment, profile, SSO, ...) in the pipeline's region.
func AWSClients(ctx context.Context) (Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(naming.Region))
	if err != nil {
		return Clients{}, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return Clients{}, fmt.Errorf("no usable AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): %w", err)
	}
	return Clients{
		S3: s3.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg),
		HTTP: &http.Client{Timeout: 30 * time.Second}, Credentials: cfg.Credentials, Region: cfg.Region,
	}, nil
}

// LocalTarget returns the local pipeline's target and clients: its bucket,
// table and DLQ in moto, its local API, and the local account's credentials
// (which the local API Gateway checks signatures against).
func LocalTarget(p *pipeline.Pipeline) (Target, Clients, error) {
	dlq, err := p.QueueURL(outputs.DLQArn)
	if err != nil {
		return Target{}, Clients{}, err
	}
	stage, err := p.StageURL()
	if err != nil {
		return Target{}, Clients{}, err
	}
	t := Target{
		Bucket: p.Bucket(), Table: p.Table(), DLQURL: dlq,
		IngestURL: stage + marketdata.APIIngestResource, AggregatesURL: stage + "/" + marketdata.APIAggregatesPart,
	}
	c := Clients{
		S3: p.AWS.S3, DynamoDB: p.AWS.DynamoDB, SQS: p.AWS.SQS,
		HTTP: &http.Client{Timeout: 30 * time.Second}, Credentials: awsx.Credentials(), Region: naming.Region,
	}
	return t, c, nil
}
