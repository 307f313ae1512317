package deploydiag

import (
	"errors"
	"strings"
	"testing"
)

// Engine outputs as `pulumi up` prints them (pulumi-aws v6 wraps the AWS SDK
// error of the failed create).
const (
	queueJSONProtocol = `  aws:sqs:Queue (processing-queue):
    error:   sdk-v2/provider2.go:566: sdk.helper_schema: creating SQS Queue (ProcessingQueue-dev): operation error SQS: CreateQueue, https response error StatusCode: 400, RequestID: 3c5a8f4e-1b0d-5a8e-9a39-2b8b2f5f6d11, QueueDeletedRecently: You must wait 60 seconds after deleting a queue before you can create another with the same name.: provider=aws@6.83.4
    error: 1 error occurred:
    	* creating SQS Queue (ProcessingQueue-dev): operation error SQS: CreateQueue, https response error StatusCode: 400, QueueDeletedRecently
`
	queueQueryProtocol = `error: creating urn:pulumi:dev::market-data-messaging::aws:sqs/queue:Queue::dlq: AWS.SimpleQueueService.QueueDeletedRecently: You must wait 60 seconds after deleting a queue before you can create another with the same name.`
	memoryCapOutput    = `  aws:lambda:Function (ingestion):
    error:   sdk-v2/provider2.go:566: sdk.helper_schema: creating Lambda Function (DataIngestion-dev): operation error Lambda: CreateFunction, https response error StatusCode: 400, RequestID: 8d1c2b07-4e6f-4a55-b0d2-2c61c3f0a0aa, InvalidParameterValueException: 'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 3008: provider=aws@6.83.4`
	memoryLowOutput = `InvalidParameterValueException: 'MemorySize' value failed to satisfy constraint: Member must have value greater than or equal to 128`
	otherFailure    = `error: creating S3 Bucket (market-data-dev): operation error S3: CreateBucket, https response error StatusCode: 409, BucketAlreadyExists`
)

func TestDiagnose(t *testing.T) {
	for _, tc := range []struct {
		name      string
		output    string
		kind      Kind // "" = not diagnosed
		retry     bool
		adviceHas string
	}{
		{"queue deleted recently, JSON protocol", queueJSONProtocol, QueueDeletedRecently, true, "60 seconds"},
		{"queue deleted recently, query protocol", queueQueryProtocol, QueueDeletedRecently, true, "60 seconds"},
		{"memory cap on CreateFunction", memoryCapOutput, MemoryCap, false, "pulumi config set memorySize 3008"},
		{"memory cap of another figure", strings.ReplaceAll(memoryCapOutput, "3008", "2048"), MemoryCap, false, "pulumi config set memorySize 2048"},
		{"memory below the minimum is not the cap", memoryLowOutput, "", false, ""},
		{"bucket taken is not known here", otherFailure, "", false, ""},
		{"empty output", "", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(tc.output)
			if tc.kind == "" {
				if d != nil {
					t.Fatalf("Diagnose = %+v, want nil", d)
				}
				return
			}
			if d == nil || d.Kind != tc.kind || d.Retry != tc.retry {
				t.Fatalf("Diagnose = %+v, want kind %s retry %v", d, tc.kind, tc.retry)
			}
			if !strings.Contains(d.Advice, tc.adviceHas) {
				t.Errorf("advice %q lacks %q", d.Advice, tc.adviceHas)
			}
			if d.Retry && d.Wait < QueueNameReuseWait {
				t.Errorf("wait %s < SQS's %s", d.Wait, QueueNameReuseWait)
			}
		})
	}
}

func TestParseStackList(t *testing.T) {
	const list = `[{"name":"dev","current":true,"updateInProgress":false,"lastUpdate":"2026-11-30T07:00:00.000Z","resourceCount":8},
	{"name":"prod","current":false,"updateInProgress":false},
	{"name":"other-org/dev","current":false,"resourceCount":3}]`
	for _, tc := range []struct {
		stack string
		want  StackInfo
	}{
		{"dev", StackInfo{Exists: true, Resources: 8}},
		{"prod", StackInfo{Exists: true}},
		{"qa", StackInfo{}},
		{"other-org/dev", StackInfo{Exists: true, Resources: 3}},
	} {
		got, err := ParseStackList([]byte(list), tc.stack)
		if err != nil || got != tc.want {
			t.Errorf("ParseStackList(%s) = %+v, %v; want %+v", tc.stack, got, err, tc.want)
		}
		if got.Deployed() != (tc.want.Resources > 0) {
			t.Errorf("%s: Deployed = %v", tc.stack, got.Deployed())
		}
	}
	if _, err := ParseStackList([]byte("error: no Pulumi.yaml"), "dev"); err == nil {
		t.Error("non-JSON output: no error")
	}
}

func TestGate(t *testing.T) {
	layers := []string{"storage", "messaging", "compute", "api"}
	for _, tc := range []struct {
		name     string
		deployed map[string]bool
		ok       string
		blocked  string
	}{
		{"fresh account: only storage", map[string]bool{}, "storage", "messaging"},
		{"storage and messaging deployed", map[string]bool{"storage": true, "messaging": true}, "storage,messaging,compute", "api"},
		{"all deployed", map[string]bool{"storage": true, "messaging": true, "compute": true, "api": true}, "storage,messaging,compute,api", ""},
		{"a gap below stops there", map[string]bool{"storage": true, "compute": true}, "storage,messaging", "compute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, blocked, reason, err := Gate(layers, func(l string) (bool, error) { return tc.deployed[l], nil })
			if err != nil || strings.Join(ok, ",") != tc.ok || blocked != tc.blocked {
				t.Fatalf("Gate = %v, %q, %v; want %s, %q", ok, blocked, err, tc.ok, tc.blocked)
			}
			if blocked != "" && !strings.Contains(reason, "not deployed") {
				t.Errorf("reason %q", reason)
			}
		})
	}
	boom := errors.New("boom")
	if _, _, _, err := Gate(layers, func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("Gate error = %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	const out = `{
  "aws:region": {"value": "us-east-1", "secret": false},
  "market-data-compute:memorySize": {"value": "3008", "secret": false, "objectValue": 3008},
  "market-data-compute:token": {"secret": true}
}`
	got, err := ParseConfig([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["aws:region"] != "us-east-1" || got["market-data-compute:memorySize"] != "3008" {
		t.Errorf("ParseConfig = %v", got)
	}
	if _, err := ParseConfig([]byte("error: no stack named 'dev' found")); err == nil {
		t.Error("non-JSON output: no error")
	}
}
