package compute

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

const (
	acct   = mocks.Account
	region = naming.Region
)

// fakeBuild writes a deployment zip (holding a "bootstrap") for every service
// into a temporary build directory and returns it.
func fakeBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, svc := range naming.Services {
		path := naming.ArtifactZip(dir, svc)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, err := zw.Create("bootstrap")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// lowerOutputs are realistic outputs of the storage and messaging stacks for names n.
func lowerOutputs(n naming.Names) (storage, messaging map[string]interface{}) {
	storage = map[string]interface{}{
		outputs.BucketName: n.Bucket(),
		outputs.BucketArn:  "arn:aws:s3:::" + n.Bucket(),
		outputs.TableName:  n.Table(),
		outputs.TableArn:   "arn:aws:dynamodb:" + region + ":" + acct + ":table/" + n.Table(),
	}
	messaging = map[string]interface{}{
		outputs.QueueURL:     "https://sqs." + region + ".amazonaws.com/" + acct + "/" + n.ProcessingQueue(),
		outputs.QueueArn:     "arn:aws:sqs:" + region + ":" + acct + ":" + n.ProcessingQueue(),
		outputs.DLQURL:       "https://sqs." + region + ".amazonaws.com/" + acct + "/" + n.DeadLetterQueue(),
		outputs.DLQArn:       "arn:aws:sqs:" + region + ":" + acct + ":" + n.DeadLetterQueue(),
		outputs.EventBusName: n.EventBus(),
		outputs.EventBusArn:  "arn:aws:events:" + region + ":" + acct + ":event-bus/" + n.EventBus(),
	}
	return storage, messaging
}

// options runs the compute program for stack with lower layers at their
// default stack names and the given extra config (keys without namespace).
func options(t *testing.T, stack string, cfg map[string]string) mocks.Options {
	t.Helper()
	raw := stack
	if s, ok := cfg[common.ConfigEnvironmentSuffix]; ok {
		raw = s
	}
	n := naming.MustNew(raw)
	storage, messaging := lowerOutputs(n)
	config := map[string]string{
		naming.ProjectCompute + ":" + ConfigBuildDir: fakeBuild(t),
		"aws:region": region,
	}
	for k, v := range cfg {
		config[naming.ProjectCompute+":"+k] = v
	}
	return mocks.Options{
		Project: naming.ProjectCompute,
		Stack:   stack,
		Config:  config,
		StackOutputs: map[string]map[string]interface{}{
			"organization/" + naming.ProjectStorage + "/" + stack:   storage,
			"organization/" + naming.ProjectMessaging + "/" + stack: messaging,
		},
	}
}

func run(t *testing.T, opts mocks.Options) *mocks.Result {
	t.Helper()
	res, err := mocks.Run(Program, opts)
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return res
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *mocks.Result {
	t.Helper()
	return run(t, options(t, "dev", nil))
}

func get(t *testing.T, res *mocks.Result, typ, name string) mocks.Resource {
	t.Helper()
	r, err := res.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// normalize turns Go values into what the recording holds (JSON data).
func normalize(t *testing.T, v interface{}) interface{} {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// input returns an input by dotted path ("tracingConfig.mode").
func input(r mocks.Resource, path string) (interface{}, bool) {
	var cur interface{} = r.Inputs
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// wantInput asserts an input's exact value.
func wantInput(t *testing.T, r mocks.Resource, path string, want interface{}) {
	t.Helper()
	got, ok := input(r, path)
	if !ok {
		t.Errorf("%s %s: input %s is missing", r.Type, r.Name, path)
		return
	}
	if w := normalize(t, want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s %s: %s = %#v, want %#v", r.Type, r.Name, path, got, w)
	}
}

// wantNoInput asserts an input is absent.
func wantNoInput(t *testing.T, r mocks.Resource, path string) {
	t.Helper()
	if got, ok := input(r, path); ok && got != nil {
		t.Errorf("%s %s: input %s = %#v, want none", r.Type, r.Name, path, got)
	}
}

// policyInput unmarshals a policy document input.
func policyInput(t *testing.T, r mocks.Resource, path string) common.Policy {
	t.Helper()
	v, ok := input(r, path)
	if !ok {
		t.Fatalf("%s %s: no %s", r.Type, r.Name, path)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s %s: %s is %T, want a JSON string", r.Type, r.Name, path, v)
	}
	var p common.Policy
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s %s: policy %q: %v", r.Type, r.Name, s, err)
	}
	if p.Version != common.PolicyVersion {
		t.Errorf("%s %s: policy version %q", r.Type, r.Name, p.Version)
	}
	return p
}

// wantDependsOn asserts that a lists b among its dependencies.
func wantDependsOn(t *testing.T, a, b mocks.Resource) {
	t.Helper()
	if !a.DependsOn(b) {
		t.Errorf("%s %s does not depend on %s %s (dependencies %v)", a.Type, a.Name, b.Type, b.Name, a.Dependencies)
	}
}

// mocksRun runs the program and returns its error instead of failing.
func mocksRun(t *testing.T, opts mocks.Options) (*mocks.Result, error) {
	t.Helper()
	return mocks.Run(Program, opts)
}

func removeFile(path string) error { return os.Remove(path) }
