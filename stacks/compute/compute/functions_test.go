package compute

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

var dev = naming.MustNew("dev")

func TestFunctions(t *testing.T) {
	build := stacktest.FakeBuild(t)
	opts := fixture(t).Options(t, "dev", map[string]string{ConfigBuildDir: build})
	res := stacktest.Run(t, Program, opts)
	dlq := "arn:aws:sqs:us-east-1:123456789012:ProcessingDLQ-dev"
	tests := []struct {
		service, name string
		timeout       int
		env           map[string]string
		dlq           bool
	}{
		{"ingestion", "DataIngestion-dev", 300, map[string]string{
			"TABLE_NAME":       "MarketDataState-dev",
			"QUEUE_URL":        "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingQueue-dev",
			"METRIC_NAMESPACE": "MarketAnalytics/Pipeline-dev",
		}, true},
		{"processor", "DataProcessor-dev", 45, map[string]string{
			"TABLE_NAME":     "MarketDataState-dev",
			"EVENT_BUS_NAME": "MarketDataEvents-dev",
		}, false},
		{"aggregator", "DataAggregator-dev", 120, map[string]string{
			"TABLE_NAME":       "MarketDataState-dev",
			"METRIC_NAMESPACE": "MarketAnalytics/Pipeline-dev",
		}, true},
	}
	if len(tests) != len(naming.Services) {
		t.Fatalf("test covers %d services, naming.Services has %d", len(tests), len(naming.Services))
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			fn := stacktest.Get(t, res, stacktest.TypeFunction, tc.service)
			stacktest.WantInput(t, fn, "name", tc.name)
			stacktest.WantInput(t, fn, "role", "arn:aws:iam::123456789012:role/"+tc.name+"-role")
			stacktest.WantInput(t, fn, "runtime", "provided.al2023")
			stacktest.WantInput(t, fn, "handler", "bootstrap")
			stacktest.WantInput(t, fn, "architectures", []string{"arm64"})
			stacktest.WantInput(t, fn, "memorySize", 3072)
			stacktest.WantInput(t, fn, "timeout", tc.timeout)
			stacktest.WantInput(t, fn, "tracingConfig", map[string]string{"mode": "Active"})
			stacktest.WantInput(t, fn, "environment", map[string]interface{}{"variables": tc.env})
			stacktest.WantInput(t, fn, "loggingConfig", map[string]string{"logFormat": "JSON", "logGroup": "/aws/lambda/" + tc.name})
			stacktest.WantInput(t, fn, "code", map[string]string{"archive": naming.ArtifactZip(build, tc.service)})
			stacktest.WantInput(t, fn, "tags", map[string]string{"Environment": "Production", "Project": "MarketAnalytics"})
			if d, _ := stacktest.Input(fn, "description"); d == "" || d == nil {
				t.Errorf("function %s has no description", tc.service)
			}
			if tc.dlq {
				stacktest.WantInput(t, fn, "deadLetterConfig", map[string]string{"targetArn": dlq})
			} else {
				stacktest.WantNoInput(t, fn, "deadLetterConfig")
			}
			for _, absent := range []string{"reservedConcurrentExecutions", "vpcConfig", "layers", "imageUri", "s3Bucket"} {
				stacktest.WantNoInput(t, fn, absent)
			}

			// Created after its log group and its policy.
			stacktest.WantDependsOn(t, fn, stacktest.Get(t, res, stacktest.TypeLogGroup, tc.service+"-logs"))
			stacktest.WantDependsOn(t, fn, stacktest.Get(t, res, stacktest.TypeRolePolicy, tc.service+"-policy"))
		})
	}
}

// Each function gets exactly its service's lambdaenv list, the variables the
// service loads (services/platform/envconfig): a variable added to either
// side only fails here.
func TestEnvironmentIsTheServiceList(t *testing.T) {
	lists := map[string][]string{
		"ingestion":  lambdaenv.Ingestion,
		"processor":  lambdaenv.Processor,
		"aggregator": lambdaenv.Aggregator,
	}
	if len(lists) != len(naming.Services) {
		t.Fatalf("test covers %d services, naming.Services has %d", len(lists), len(naming.Services))
	}
	res := fixture(t).RunDev(t)
	for _, svc := range naming.Services {
		fn := stacktest.Get(t, res, stacktest.TypeFunction, svc)
		vars, _ := stacktest.Input(fn, "environment.variables")
		got := slices.Sorted(maps.Keys(vars.(map[string]interface{})))
		if want := slices.Sorted(slices.Values(lists[svc])); !slices.Equal(got, want) {
			t.Errorf("function %s sets %v, want its lambdaenv list %v", svc, got, want)
		}
	}
	// Every variable has a value; a name without one is an error.
	if _, err := environment(lambdaenv.Names, dev, lowerLayers{}); err != nil {
		t.Errorf("environment(lambdaenv.Names): %v", err)
	}
	if _, err := environment([]string{"UNKNOWN"}, dev, lowerLayers{}); err == nil {
		t.Error("environment accepted a variable it has no value for")
	}
}

func TestMemorySizeConfig(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr string
	}{
		{"3008", 3008, ""},
		{"128", 128, ""},
		{"10240", 10240, ""},
		{"127", 0, "outside Lambda's"},
		{"10241", 0, "outside Lambda's"},
		{"lots", 0, "config memorySize"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			res := fixture(t).RunExpect(t, map[string]string{ConfigMemorySize: tc.value}, tc.wantErr)
			if res == nil {
				return
			}
			for _, svc := range naming.Services {
				stacktest.WantInput(t, stacktest.Get(t, res, stacktest.TypeFunction, svc), "memorySize", tc.want)
			}
		})
	}
}

// The SQS event source rule: the processor's timeout × 6 (plus the batching
// window) must fit in the queue's visibility timeout, or messages of a slow
// batch become visible again and are processed twice.
func TestProcessorTimeoutRespectsQueueVisibility(t *testing.T) {
	res := fixture(t).RunDev(t)
	fn := stacktest.Get(t, res, stacktest.TypeFunction, "processor")
	esm := stacktest.Get(t, res, stacktest.TypeMapping, "processor-queue")
	timeout, _ := stacktest.Input(fn, "timeout")
	window, _ := stacktest.Input(esm, "maximumBatchingWindowInSeconds")
	visibility := limits.QueueVisibilityTimeout.Seconds()
	if got := timeout.(float64)*6 + window.(float64); got > visibility {
		t.Errorf("processor timeout %v s × 6 + batching window %v s = %v s exceeds the queue visibility %v s",
			timeout, window, got, visibility)
	}
	if timeout.(float64) > 50 {
		t.Errorf("processor timeout %v s > 50 s", timeout)
	}
}

func TestMissingFunctionPackageIsAClearError(t *testing.T) {
	for _, missing := range naming.Services {
		t.Run(missing, func(t *testing.T) {
			opts := fixture(t).Options(t, "dev", nil)
			build := opts.Config[naming.ProjectCompute+":"+ConfigBuildDir]
			zip := naming.ArtifactZip(build, missing)
			if err := os.Remove(zip); err != nil {
				t.Fatal(err)
			}
			res, err := synthrec.Run(Program, opts)
			if err == nil {
				t.Fatalf("program succeeded with %d resources, want an error", len(res.Resources))
			}
			want := fmt.Sprintf("function package %s not found: run `go run mage.go build` first", zip)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q, want it to contain %q", err, want)
			}
		})
	}
}

// A relative buildDir is resolved against the program's directory; under
// mocks (no Pulumi root directory) that is the working directory.
func TestRelativeBuildDir(t *testing.T) {
	build := stacktest.FakeBuild(t)
	t.Chdir(build)
	res := fixture(t).Run(t, "dev", map[string]string{ConfigBuildDir: "."})
	stacktest.WantInput(t, stacktest.Get(t, res, stacktest.TypeFunction, "processor"), "code", map[string]string{"archive": naming.ArtifactZip(build, "processor")})
}

func TestLogGroupsAndErrorMetrics(t *testing.T) {
	res := fixture(t).RunDev(t)
	for _, svc := range naming.Services {
		name, _ := dev.FunctionFor(svc)
		lg := stacktest.Get(t, res, stacktest.TypeLogGroup, svc+"-logs")
		stacktest.WantInput(t, lg, "name", "/aws/lambda/"+name)
		stacktest.WantInput(t, lg, "retentionInDays", 7)
		stacktest.WantInput(t, lg, "retentionInDays", limits.LogRetentionDays)
		stacktest.WantNoInput(t, lg, "skipDestroy")

		mf := stacktest.Get(t, res, stacktest.TypeMetricFilter, svc+"-errors")
		stacktest.WantInput(t, mf, "name", name+"-Errors")
		stacktest.WantInput(t, mf, "logGroupName", "/aws/lambda/"+name)
		stacktest.WantInput(t, mf, "pattern", "?ERROR ?Exception")
		stacktest.WantInput(t, mf, "metricTransformation", map[string]string{
			"name":         dev.ErrorMetric(name),
			"namespace":    "MarketAnalytics/Pipeline-dev",
			"value":        "1",
			"defaultValue": "0",
			"unit":         "Count",
		})
		stacktest.WantDependsOn(t, mf, lg)
	}
}

func TestAsyncInvokeConfigs(t *testing.T) {
	res := fixture(t).RunDev(t)
	tests := []struct {
		service, function string
		retries, maxAge   int
	}{
		{"ingestion", "DataIngestion-dev", 2, 21600},
		{"aggregator", "DataAggregator-dev", 2, 3600},
	}
	for _, tc := range tests {
		c := stacktest.Get(t, res, stacktest.TypeInvokeConfig, tc.service+"-async")
		stacktest.WantInput(t, c, "functionName", tc.function)
		stacktest.WantInput(t, c, "maximumRetryAttempts", tc.retries)
		stacktest.WantInput(t, c, "maximumEventAgeInSeconds", tc.maxAge)
		stacktest.WantNoInput(t, c, "destinationConfig") // the function's DLQ takes failures; a destination would duplicate them
	}
	if got := len(res.OfType(stacktest.TypeInvokeConfig)); got != 2 {
		t.Errorf("%d event invoke configs, want 2 (the processor is invoked synchronously)", got)
	}
}

// Reserved concurrency is set only for the functions configured with one;
// values that would stop a function or throttle the SQS trigger are refused.
func TestReservedConcurrency(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]string
		want    map[string]int // service → reserved; absent = no input
		wantErr string
	}{
		{"unset", nil, nil, ""},
		{"explicitly none", map[string]string{"processorReservedConcurrency": "-1"}, nil, ""},
		{"one function", map[string]string{"ingestionReservedConcurrency": "5"}, map[string]int{"ingestion": 5}, ""},
		{"all three", map[string]string{
			"ingestionReservedConcurrency": "5", "processorReservedConcurrency": "10", "aggregatorReservedConcurrency": "2",
		}, map[string]int{"ingestion": 5, "processor": 10, "aggregator": 2}, ""},
		{"zero stops the function", map[string]string{"aggregatorReservedConcurrency": "0"}, nil, "0 stops the function"},
		{"below the trigger's concurrency", map[string]string{"processorReservedConcurrency": "9"}, nil, "below the SQS trigger's maximum concurrency 10"},
		{"not a number", map[string]string{"ingestionReservedConcurrency": "many"}, nil, "config ingestionReservedConcurrency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fixture(t).RunExpect(t, tc.cfg, tc.wantErr)
			if res == nil {
				return
			}
			for _, svc := range naming.Services {
				fn := stacktest.Get(t, res, stacktest.TypeFunction, svc)
				if r, ok := tc.want[svc]; ok {
					stacktest.WantInput(t, fn, "reservedConcurrentExecutions", r)
				} else {
					stacktest.WantNoInput(t, fn, "reservedConcurrentExecutions")
				}
			}
		})
	}
}
