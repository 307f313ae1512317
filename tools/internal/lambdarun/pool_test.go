package lambdarun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// build compiles the emulator (pinned in go.mod) and the test function.
func build(t *testing.T) (rie, fn string) {
	t.Helper()
	dir := t.TempDir()
	rie, fn = filepath.Join(dir, "aws-lambda-rie"), filepath.Join(dir, "bootstrap")
	for _, args := range [][]string{
		{"build", "-o", rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"},
		{"build", "-tags", "lambda.norpc", "-o", fn, "./testdata/fn"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	return rie, fn
}

func TestPoolRunsTheFunctionLikeLambda(t *testing.T) {
	rie, fn := build(t)
	f := Function{Name: "TestFn-dev", ARN: "arn:aws:lambda:us-east-1:123456789012:function:TestFn-dev", MemoryMB: 256,
		Timeout: 2 * time.Second, Env: map[string]string{"TABLE_NAME": "T-dev"}}
	var log strings.Builder
	var mu sync.Mutex
	p, err := Start(context.Background(), f, PoolOptions{RIE: rie, Bootstrap: fn, Instances: 2,
		AWSEnv: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, Log: writerFunc(func(b []byte) { mu.Lock(); log.Write(b); mu.Unlock() })})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	ctx := context.Background()
	env := func(name string) string {
		out, err := p.Invoke(ctx, []byte(`{"env":"`+name+`"}`))
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		var m map[string]string
		json.Unmarshal(out, &m)
		return m["env"]
	}
	for name, want := range map[string]string{
		"TABLE_NAME": "T-dev", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_TIMEOUT": "2",
		"AWS_LAMBDA_FUNCTION_NAME": "TestFn-dev", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
	} {
		if got := env(name); got != want {
			t.Errorf("the function sees %s=%q, want %q", name, got, want)
		}
	}
	var fe *FunctionError
	for _, do := range []string{"fail", "panic", "sleep", "exit"} {
		_, err := p.Invoke(ctx, []byte(`{"do":"`+do+`"}`))
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a FunctionError", do, err)
		}
	}
	// The environment recovers after a crash or a timeout, as Lambda's does.
	if got := env("TABLE_NAME"); got != "T-dev" {
		t.Errorf("after failures the function sees TABLE_NAME=%q", got)
	}
	// Two emulators take two invocations at once.
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); p.Invoke(ctx, []byte(`{"do":"sleep"}`)) }()
	}
	wg.Wait()
	if d := time.Since(start); d > 3500*time.Millisecond {
		t.Errorf("two timed-out invocations on two emulators took %s, want them in parallel", d)
	}
	p.Stop()
	if _, err := p.Invoke(ctx, []byte(`{}`)); err == nil {
		t.Error("invoke after Stop succeeded")
	}
}

type writerFunc func([]byte)

func (w writerFunc) Write(b []byte) (int, error) { w(b); return len(b), nil }

func TestFunctionsFromTheSynth(t *testing.T) {
	p, err := synthread.Load("../../testdata/synth")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := Functions(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 3 {
		t.Fatalf("%d functions", len(fns))
	}
	byService := map[string]Function{}
	for _, f := range fns {
		byService[f.Service] = f
	}
	proc, ing := byService["processor"], byService["ingestion"]
	if proc.Name == "" || proc.Env["EVENT_BUS_NAME"] == "" || proc.Timeout <= 0 || proc.MemoryMB <= 128 {
		t.Fatalf("processor %+v", proc)
	}
	// The synth's event-invoke config: 2 retries, 6 hours.
	if ing.DeadLetterARN == "" || ing.Async != (AsyncConfig{MaxRetries: 2, MaxAge: 6 * time.Hour}) {
		t.Fatalf("ingestion async %+v dlq %q", ing.Async, ing.DeadLetterARN)
	}
	env := proc.RuntimeEnv(map[string]string{"AWS_ENDPOINT_URL": "http://e"})
	if env["AWS_LAMBDA_FUNCTION_TIMEOUT"] != fmt.Sprint(int(proc.Timeout/time.Second)) || env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != fmt.Sprint(proc.MemoryMB) {
		t.Fatalf("runtime env %v", env)
	}
	if env["AWS_ENDPOINT_URL"] != "http://e" || env["TABLE_NAME"] != proc.Env["TABLE_NAME"] || env["AWS_LAMBDA_LOG_FORMAT"] != "JSON" {
		t.Fatalf("runtime env %v", env)
	}
}
