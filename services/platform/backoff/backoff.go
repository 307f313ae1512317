// Package backoff is the one policy for the retries the services make
// themselves (DynamoDB UnprocessedItems, failed PutEvents entries, failed
// SendMessageBatch entries): capped exponential backoff with full jitter, a
// bounded number of attempts, and never a sleep past the context's deadline,
// so that a Lambda handler gives up in time to report what failed instead of
// being killed mid-flight. Its defaults (below) are the only ones: users take
// them with a zero Policy and set fields only in tests.
//
// Errors of whole API calls are the SDK's standard retryer's business; this
// package is for partial successes the SDK hands back as data.
package backoff

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults of a zero Policy. The waits before retries 1..7 are capped at 50,
// 100, 200, 400, 800, 1600 and 3200 ms: at most 6.35 s in all (half that on
// average), well inside the processor's 45 s and API Gateway's 29 s, and a
// deadline that comes first ends the retries early (ErrDeadline).
const (
	DefaultBase     = 50 * time.Millisecond
	DefaultMax      = 5 * time.Second
	DefaultAttempts = 8
)

var (
	// ErrExhausted means the attempts are used up.
	ErrExhausted = errors.New("retry attempts exhausted")
	// ErrDeadline means the next wait would end after the context's deadline.
	ErrDeadline = errors.New("no time left before the deadline")
)

// Policy is capped exponential backoff with full jitter: before retry n the
// caller waits a uniformly random time in [0, min(Max, Base·2ⁿ⁻¹)). The zero
// value uses the defaults above. A Policy is safe for concurrent use if its
// Sleep and Rand are.
type Policy struct {
	Base     time.Duration
	Max      time.Duration
	Attempts int // total attempts, the first included

	// Sleep waits d or until ctx is done; nil is the package's Sleep. Tests
	// replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a uniform int64 in [0, n); nil uses math/rand/v2.
	Rand func(n int64) int64
	// Now is the clock compared with the context's deadline; nil is time.Now.
	Now func() time.Time
}

func (p Policy) attempts() int {
	if p.Attempts <= 0 {
		return DefaultAttempts
	}
	return p.Attempts
}

// Cap returns the upper bound of the wait before retry n (1-based).
func (p Policy) Cap(n int) time.Duration {
	base, max := p.Base, p.Max
	if base <= 0 {
		base = DefaultBase
	}
	if max <= 0 {
		max = DefaultMax
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Wait is called after attempt number done (1-based) failed. It returns nil
// after sleeping the jittered delay when another attempt is allowed, or,
// without sleeping, an error wrapping ErrExhausted when done reaches
// Attempts, ErrDeadline when ctx's deadline would pass during the sleep, or
// ctx's error when it is done.
func (p Policy) Wait(ctx context.Context, done int) error {
	if done >= p.attempts() {
		return fmt.Errorf("%w (%d)", ErrExhausted, done)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	randN := p.Rand
	if randN == nil {
		randN = rand.Int64N
	}
	var d time.Duration
	if c := p.Cap(done); c > 0 {
		d = time.Duration(randN(int64(c)))
	}
	if deadline, ok := ctx.Deadline(); ok {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		if !now().Add(d).Before(deadline) {
			return fmt.Errorf("%w: waiting %s after attempt %d", ErrDeadline, d, done)
		}
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	return sleep(ctx, d)
}

// Sleep waits d, or until ctx is done and then returns ctx's error; a d of
// zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
