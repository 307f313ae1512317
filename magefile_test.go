//go:build mage

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/shared/openapi"
)

// The repository's workflows pass actionlint, and a broken one fails it: an
// unknown job key, an undefined context property and a step with both uses
// and run.
func TestLintWorkflows(t *testing.T) {
	if err := lintWorkflows(workflowDir); err != nil {
		t.Fatalf("the repository's workflows: %v", err)
	}
	dir := t.TempDir()
	broken := `name: broken
on: [pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    timeout: 10
    steps:
      - uses: actions/checkout@v4
        run: echo ${{ github.no_such_property }}
`
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lintWorkflows(dir); err == nil {
		t.Fatal("actionlint accepted a broken workflow")
	}
	if err := lintWorkflows(t.TempDir()); err == nil {
		t.Fatal("no workflow: no error")
	}
}

// fakePulumi writes a pulumi executable that logs each `up` and fails the
// first `failures` of them with failOutput.
func fakePulumi(t *testing.T, failures int, failOutput string) (cli, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "ups")
	script := `#!/bin/sh
[ "$1" = up ] || exit 0
echo up >> "` + log + `"
n=$(wc -l < "` + log + `")
if [ "$n" -le ` + strconv.Itoa(failures) + ` ]; then
  cat <<'OUT'
` + failOutput + `
OUT
  exit 255
fi
echo "Resources: 8 created"
`
	cli = filepath.Join(dir, "pulumi")
	if err := os.WriteFile(cli, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cli, log
}

// up waits out SQS's name reuse once and retries; the memory cap is
// explained, not retried; an unknown failure is returned as is.
func TestUpDiagnosesPulumiFailures(t *testing.T) {
	const (
		queueDeleted = `error: creating SQS Queue (ProcessingQueue-dev): operation error SQS: CreateQueue, https response error StatusCode: 400, QueueDeletedRecently: You must wait 60 seconds after deleting a queue before you can create another with the same name.`
		memoryCap    = `error: creating Lambda Function (DataIngestion-dev): operation error Lambda: CreateFunction, https response error StatusCode: 400, InvalidParameterValueException: 'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 3008`
		other        = `error: something else broke`
	)
	var slept []time.Duration
	sleep = func(d time.Duration) { slept = append(slept, d) }
	defer func() { sleep = time.Sleep }()
	for _, tc := range []struct {
		name      string
		failures  int
		output    string
		wantUps   int
		wantSleep int
		wantErr   string // "" = success
	}{
		{"queue name reused: one wait, then success", 1, queueDeleted, 2, 1, ""},
		{"queue name still taken: one retry only", 2, queueDeleted, 2, 1, "QueueDeletedRecently"},
		{"memory cap: advice, no retry", 1, memoryCap, 1, 0, "pulumi config set memorySize 3008"},
		{"unknown failure: no retry", 1, other, 1, 0, "exit status 255"},
		{"success", 0, "", 1, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slept = nil
			cli, log := fakePulumi(t, tc.failures, tc.output)
			d := deployment{stack: "dev", cli: cli}
			err := d.up("storage")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("up = %v, want error containing %q", err, tc.wantErr)
			}
			b, rerr := os.ReadFile(log)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if ups := strings.Count(string(b), "up"); ups != tc.wantUps || len(slept) != tc.wantSleep {
				t.Errorf("%d ups, %d waits; want %d, %d", ups, len(slept), tc.wantUps, tc.wantSleep)
			}
			for _, w := range slept {
				if w < 60*time.Second {
					t.Errorf("waited %s, less than SQS's 60 s", w)
				}
			}
		})
	}
}

// synth's OpenAPI document is the route table's, written whole.
func TestWriteOpenAPI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build", "openapi.json")
	if err := writeOpenAPI(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("the written document is not the route table's")
	}
}

// TestFuzzDeadlineRace: only the Go fuzz coordinator's bare deadline failure
// is run again; a target that found something, panicked or failed is not.
func TestFuzzDeadlineRace(t *testing.T) {
	tests := []struct {
		name, out string
		want      bool
	}{
		{"coordinator deadline race", "fuzz: elapsed: 11s, execs: 60135 (9262/sec)\n--- FAIL: FuzzParseNDJSON (11.09s)\n    context deadline exceeded\nFAIL\n", true},
		{"a failing input", "--- FAIL: FuzzX (0.10s)\n    --- FAIL: FuzzX (0.00s)\n        x_test.go:12: bad\n    Failing input written to testdata/fuzz/FuzzX/abc\n    context deadline exceeded\n", false},
		{"a panic", "--- FAIL: FuzzX\n    panic: runtime error: index out of range\n    context deadline exceeded\n", false},
		{"a hung worker", "fuzzing process hung or terminated unexpectedly: context deadline exceeded\n", false},
		{"a seed corpus failure", "failure while testing seed corpus entry: FuzzX/seed#0\ncontext deadline exceeded\n", false},
		{"another failure", "--- FAIL: FuzzX (1.00s)\n    build failed\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fuzzDeadlineRace(tc.out); got != tc.want {
				t.Errorf("fuzzDeadlineRace = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMedianRun: Bench reports, of each benchmark's runs, the one of median
// points/s, with that run's other figures.
func TestMedianRun(t *testing.T) {
	run := func(rate, allocs float64) map[string]float64 {
		return map[string]float64{"points/s": rate, "allocs/op": allocs}
	}
	tests := []struct {
		name string
		runs []map[string]float64
		want map[string]float64
	}{
		{"one run", []map[string]float64{run(5, 1)}, run(5, 1)},
		{"odd count, middle rate last", []map[string]float64{run(9, 1), run(1, 2), run(5, 3)}, run(5, 3)},
		{"even count, lower middle", []map[string]float64{run(4, 1), run(1, 2), run(3, 3), run(2, 4)}, run(2, 4)},
		{"ties keep their order", []map[string]float64{run(5, 1), run(5, 2), run(5, 3)}, run(5, 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := medianRun(tc.runs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("medianRun = %v, want %v", got, tc.want)
			}
		})
	}
}
