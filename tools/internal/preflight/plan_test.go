package preflight

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The synth fixture of the tools' tests (stack dev, the stacks' defaults)
// reads into a complete plan.
func TestLoadPlanFromTheSynth(t *testing.T) {
	p, err := LoadPlan(filepath.Join("..", "..", "testdata", "synth"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Bucket != "market-data-dev" {
		t.Errorf("bucket %q", p.Bucket)
	}
	if len(p.Functions) != 3 || p.Functions[0].MemoryMB == 0 {
		t.Errorf("functions %+v", p.Functions)
	}
	if p.QueueMaxConcurrency == 0 || !strings.HasPrefix(p.QueueFunction, "DataProcessor-") {
		t.Errorf("queue mapping: max %d, function %q", p.QueueMaxConcurrency, p.QueueFunction)
	}
	// The defaults log, with the stack's own account role.
	if !p.AccessLogging || p.APIGatewayRole != "MarketDataAPIGatewayLogs-dev" {
		t.Errorf("access logging %v, API Gateway role %q; want on, MarketDataAPIGatewayLogs-dev", p.AccessLogging, p.APIGatewayRole)
	}
}

// A plan with a reservation, access logging and the account role set by the
// api stack: each input reaches its field.
func TestLoadPlanReadsEachInput(t *testing.T) {
	dir := t.TempDir()
	write := func(layer string, resources ...map[string]any) {
		b, err := json.Marshal(map[string]any{"resources": resources})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, layer+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	res := func(typ string, inputs map[string]any) map[string]any {
		n++
		return map[string]any{"type": typ, "urn": fmt.Sprintf("urn:pulumi:dev::p::%s::r%d", typ, n), "inputs": inputs}
	}
	write("messaging")
	write("storage", res(typeBucket, map[string]any{"bucket": "market-data-x"}))
	write("compute",
		res(typeFunction, map[string]any{"name": "DataProcessor-x", "memorySize": 3008, "reservedConcurrentExecutions": 20}),
		res(typeFunction, map[string]any{"name": "DataIngestion-x", "memorySize": 3072, "reservedConcurrentExecutions": -1}),
		res(typeESM, map[string]any{"functionName": "arn:aws:lambda:us-east-1:123456789012:function:DataProcessor-x", "scalingConfig": map[string]any{"maximumConcurrency": 7}}))
	write("api",
		res(typeStage, map[string]any{"accessLogSettings": map[string]any{"destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:x"}}),
		res(typeAPIAccount, map[string]any{"cloudwatchRoleArn": "arn:aws:iam::123456789012:role/MarketDataAPIGatewayLogs-x"}))
	p, err := LoadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Plan{Bucket: "market-data-x", Functions: []Function{{"DataIngestion-x", 3072, 0}, {"DataProcessor-x", 3008, 20}},
		QueueMaxConcurrency: 7, QueueFunction: "DataProcessor-x", AccessLogging: true, APIGatewayRole: "MarketDataAPIGatewayLogs-x"}
	if got, _ := json.Marshal(p); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("plan %s\nwant %s", got, must(json.Marshal(want)))
	}
	if err := os.Remove(filepath.Join(dir, "api.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPlan(dir); err == nil {
		t.Error("missing api.json: no error")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
