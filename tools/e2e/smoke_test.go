//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
)

// runSmoke runs what `go run mage.go smoke --local` runs (tools/cmd/smoke:
// smoke.LocalTarget, then smoke.Run) against p, and returns its output.
func runSmoke(t *testing.T, p *pipeline.Pipeline, timeout time.Duration) (string, error) {
	t.Helper()
	target, clients, err := smoke.LocalTarget(p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = smoke.Run(context.Background(), target, clients, smoke.Options{Out: &out, Timeout: timeout, PollEvery: 500 * time.Millisecond})
	t.Logf("smoke output:\n%s", out.String())
	return out.String(), err
}

// TestSmokePassesAgainstTheLocalPipeline is CI's run of the command a user
// runs against AWS: every step passes against the local pipeline, each
// printing its duration, and the objects it uploaded are gone afterwards.
func TestSmokePassesAgainstTheLocalPipeline(t *testing.T) {
	p := shared(t)
	out, err := runSmoke(t, p, 2*time.Minute)
	if err != nil {
		t.Fatalf("smoke failed against the local pipeline: %v", err)
	}
	for _, step := range []string{smoke.StepDLQBefore, smoke.StepUpload, smoke.StepIngest, smoke.StepAggregates,
		smoke.StepReport, smoke.StepDLQAfter, smoke.StepCleanup} {
		if !regexp.MustCompile(`\] ` + step + ` +ok +\d+\.\d{3}s  `).MatchString(out) {
			t.Errorf("no ok line with a duration for step %s", step)
		}
	}
	if !strings.Contains(out, "deleted 1 object versions") {
		t.Errorf("cleanup did not delete the uploaded object's version")
	}
}

// TestSmokeFailsWithoutTheS3Trigger: on a stack whose bucket notification
// was dropped, smoke fails at the aggregates step, naming the symbol that
// went through S3 and what it expected and saw, and still cleans up.
func TestSmokeFailsWithoutTheS3Trigger(t *testing.T) {
	synthDir, buildDir := requireBuild(t)
	dir := editedSynth(t, synthDir, map[string][]string{
		"aws:s3/bucketNotification:BucketNotification": resourceNames(t, synthDir, "aws:s3/bucketNotification:BucketNotification"),
	})
	p := startPipeline(t, dir, buildDir)
	out, err := runSmoke(t, p, 20*time.Second)
	var se *smoke.StepError
	if !errors.As(err, &se) || se.Step != smoke.StepAggregates {
		t.Fatalf("smoke: %v, want a failure of step %s", err, smoke.StepAggregates)
	}
	msg := err.Error()
	for _, want := range []string{"F (uploaded to s3://" + p.Bucket() + "/smoke/", "expected 2 windows, saw none yet"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failure lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "A (posted to") {
		t.Errorf("the API path works on this stack, yet the failure names it:\n%s", msg)
	}
	if !strings.Contains(out, "smoke FAILED") || !regexp.MustCompile(`\] cleanup +ok `).MatchString(out) {
		t.Errorf("a failed run must say FAILED and still clean up:\n%s", out)
	}
}
