package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCapGrowsExponentiallyUpToMax(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: 70 * time.Millisecond}
	want := []time.Duration{10, 20, 40, 70, 70, 70}
	for i, w := range want {
		if got := p.Cap(i + 1); got != w*time.Millisecond {
			t.Errorf("Cap(%d) = %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	if got := (Policy{}).Cap(100); got != DefaultMax {
		t.Errorf("zero policy Cap(100) = %s, want %s", got, DefaultMax)
	}
}

func TestWait(t *testing.T) {
	now := time.Now() // the context checks its deadline against the real clock
	tests := []struct {
		name      string
		attempts  int
		done      int
		deadline  time.Duration // from now; 0 means none
		cancelled bool
		jitter    func(n int64) int64
		wantErr   error
		wantSleep time.Duration // -1: must not sleep
	}{
		{"first retry sleeps a jittered share of the base", 3, 1, 0, false, half, nil, 50 * time.Millisecond},
		{"second retry doubles the cap", 3, 2, 0, false, half, nil, 100 * time.Millisecond},
		{"full jitter may pick zero", 3, 1, 0, false, func(int64) int64 { return 0 }, nil, 0},
		{"attempts exhausted", 3, 3, 0, false, half, ErrExhausted, -1},
		{"deadline would pass during the sleep", 5, 4, 300 * time.Millisecond, false, half, ErrDeadline, -1},
		{"deadline far enough", 5, 4, 500 * time.Millisecond, false, half, nil, 400 * time.Millisecond},
		{"context already cancelled", 5, 1, 0, true, half, context.Canceled, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.deadline > 0 {
				ctx, cancel = context.WithDeadline(ctx, now.Add(tc.deadline))
				defer cancel()
			}
			if tc.cancelled {
				cancel()
			}
			slept := time.Duration(-1)
			p := Policy{
				Base: 100 * time.Millisecond, Max: time.Second, Attempts: tc.attempts,
				Rand:  tc.jitter,
				Now:   func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error { slept = d; return nil },
			}
			err := p.Wait(ctx, tc.done)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if slept != tc.wantSleep {
				t.Fatalf("slept %s, want %s", slept, tc.wantSleep)
			}
		})
	}
}

// half picks the middle of the jitter range, so the cap is visible.
func half(n int64) int64 { return n / 2 }

func TestWaitJitterStaysBelowCap(t *testing.T) {
	p := Policy{Base: time.Millisecond, Max: 8 * time.Millisecond, Attempts: 100}
	nonZero := false
	p.Sleep = func(_ context.Context, d time.Duration) error {
		if d < 0 || d >= p.Cap(4) {
			t.Fatalf("delay %s outside [0, %s)", d, p.Cap(4))
		}
		nonZero = nonZero || d > 0
		return nil
	}
	for range 1000 {
		if err := p.Wait(context.Background(), 4); err != nil {
			t.Fatal(err)
		}
	}
	if !nonZero {
		t.Fatal("jitter never produced a non-zero delay")
	}
}

func TestSleepStopsAtCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("sleep ignored the cancelled context")
	}
}
