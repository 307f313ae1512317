package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-xray-sdk-go/xray"
)

// Without a segment in the context a traced call still runs, and the missing
// context is reported once, as a warning that the error metric filter
// (?ERROR ?Exception) does not count.
func TestMissingSegmentWarnsOnceAndCarriesOn(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "")
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for i := 0; i < 3; i++ {
		// What an instrumented SDK call does: a subsegment of a missing segment.
		if err := xray.Capture(context.Background(), "work", func(context.Context) error { ran++; return nil }); err != nil {
			t.Fatalf("Capture: %v", err)
		}
		_, seg := xray.BeginSubsegment(context.Background(), "direct")
		seg.Close(nil)
	}
	if ran != 3 {
		t.Fatalf("fn ran %d times, want 3", ran)
	}
	out := logs.String()
	if n := strings.Count(out, "no X-Ray segment"); n != 1 {
		t.Fatalf("warning logged %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, "ERROR") || strings.Contains(out, "Exception") {
		t.Fatalf("log would be counted as an error by the metric filter:\n%s", out)
	}
}
