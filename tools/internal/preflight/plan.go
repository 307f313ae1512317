package preflight

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Plan is what the stacks would deploy, as far as the checks care, read
// from the synth of the user's stack config (tools/synth): the stacks' own
// code decides every value, so a config key another team adds (reserved
// concurrency, access logging) reaches the checks without a copy here.
type Plan struct {
	// Bucket is the raw-data bucket's name.
	Bucket string
	// Functions are the Lambda functions, sorted by name.
	Functions []Function
	// QueueMaxConcurrency is the SQS event source mapping's maximum
	// concurrency (0: unset), and QueueFunction the function it invokes.
	QueueMaxConcurrency int
	QueueFunction       string
	// AccessLogging is whether a stage writes access logs.
	AccessLogging bool
	// SetsAPIGatewayRole is whether the api stack sets the account-level
	// API Gateway CloudWatch role itself (an aws:apigateway/account:Account).
	SetsAPIGatewayRole bool
}

// Function is one Lambda function of the plan.
type Function struct {
	Name     string
	MemoryMB int
	// Reserved is its reserved concurrency, 0 when unset (AWS's -1).
	Reserved int
}

// Resource types the plan reads.
const (
	typeBucket     = "aws:s3/bucketV2:BucketV2"
	typeFunction   = "aws:lambda/function:Function"
	typeESM        = "aws:lambda/eventSourceMapping:EventSourceMapping"
	typeStage      = "aws:apigateway/stage:Stage"
	typeAPIAccount = "aws:apigateway/account:Account"
)

type synthFile struct {
	Resources []struct {
		Type   string         `json:"type"`
		Name   string         `json:"name"`
		Inputs map[string]any `json:"inputs"`
	} `json:"resources"`
}

// LoadPlan reads the plan from <dir>/storage.json, compute.json and api.json
// as `tools/synth` writes them.
func LoadPlan(dir string) (Plan, error) {
	var p Plan
	for _, layer := range []string{"storage", "compute", "api"} {
		b, err := os.ReadFile(filepath.Join(dir, layer+".json"))
		if err != nil {
			return Plan{}, fmt.Errorf("read the synth: %w", err)
		}
		var f synthFile
		if err := json.Unmarshal(b, &f); err != nil {
			return Plan{}, fmt.Errorf("read the synth %s: %w", layer, err)
		}
		for _, r := range f.Resources {
			in := r.Inputs
			switch r.Type {
			case typeBucket:
				p.Bucket = str(in["bucket"])
			case typeFunction:
				p.Functions = append(p.Functions, Function{
					Name: str(in["name"]), MemoryMB: num(in["memorySize"]), Reserved: max(num(in["reservedConcurrentExecutions"]), 0),
				})
			case typeESM:
				if sc, ok := in["scalingConfig"].(map[string]any); ok {
					p.QueueMaxConcurrency = num(sc["maximumConcurrency"])
				}
				p.QueueFunction = functionName(str(in["functionName"]))
			case typeStage:
				if s, ok := in["accessLogSettings"].(map[string]any); ok && len(s) > 0 {
					p.AccessLogging = true
				}
			case typeAPIAccount:
				p.SetsAPIGatewayRole = true
			}
		}
	}
	if p.Bucket == "" || len(p.Functions) == 0 {
		return Plan{}, fmt.Errorf("the synth in %s has no bucket or no functions", dir)
	}
	sort.Slice(p.Functions, func(i, j int) bool { return p.Functions[i].Name < p.Functions[j].Name })
	return p, nil
}

// functionName is the name in a function ARN (the mapping's functionName
// input is the function's ARN), or the value itself.
func functionName(v string) string {
	if a, err := arn.Parse(v); err == nil {
		return strings.TrimPrefix(a.Resource, "function:")
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// num reads a JSON number as an int (0 when absent or not a number).
func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}
