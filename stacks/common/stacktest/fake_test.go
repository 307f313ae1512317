package stacktest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// fakeT records what a helper reports. Fatal and Fatalf end the helper's
// goroutine, as testing.T's do; any other method of testing.TB panics (the
// embedded interface is nil), so a helper cannot call one unnoticed.
type fakeT struct {
	testing.TB
	errors []string
	fatal  string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Error(args ...interface{}) { f.errors = append(f.errors, fmt.Sprint(args...)) }

func (f *fakeT) Errorf(format string, args ...interface{}) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatal(args ...interface{}) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeT) Fatalf(format string, args ...interface{}) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeT) String() string {
	return fmt.Sprintf("errors %q, fatal %q", f.errors, f.fatal)
}

// record runs helper against a fakeT in a goroutine of its own, so that a
// Fatal stops the helper and not the test, and returns what it reported.
func record(helper func(t testing.TB)) *fakeT {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		helper(f)
	}()
	<-done
	return f
}

// wantPass fails t if helper reported anything.
func wantPass(t *testing.T, helper func(t testing.TB)) {
	t.Helper()
	if f := record(helper); len(f.errors) > 0 || f.fatal != "" {
		t.Errorf("helper failed: %s", f)
	}
}

// wantError fails t unless helper reported an error (not a fatal) holding
// every one of msgs.
func wantError(t *testing.T, helper func(t testing.TB), msgs ...string) {
	t.Helper()
	f := record(helper)
	if len(f.errors) == 0 || f.fatal != "" {
		t.Errorf("want an error, got %s", f)
		return
	}
	all := strings.Join(f.errors, "\n")
	for _, m := range msgs {
		if !strings.Contains(all, m) {
			t.Errorf("errors %q lack %q", f.errors, m)
		}
	}
}

// wantFatal fails t unless helper stopped with a fatal holding every one of
// msgs.
func wantFatal(t *testing.T, helper func(t testing.TB), msgs ...string) {
	t.Helper()
	f := record(helper)
	if f.fatal == "" {
		t.Errorf("want a fatal, got %s", f)
	}
	for _, m := range msgs {
		if !strings.Contains(f.fatal, m) {
			t.Errorf("fatal %q lacks %q", f.fatal, m)
		}
	}
}

// TestFakeT checks the fake itself: a fatal stops the helper.
func TestFakeT(t *testing.T) {
	reached := false
	f := record(func(t testing.TB) {
		t.Errorf("first %d", 1)
		t.Fatal("stop")
		reached = true
	})
	if reached || f.fatal != "stop" || len(f.errors) != 1 || f.errors[0] != "first 1" {
		t.Errorf("fake recorded %s, reached after Fatal: %v", f, reached)
	}
}
