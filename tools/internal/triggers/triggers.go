// Package triggers wires the functions to their event sources the way AWS
// does, reading every trigger from the synth: the bucket notification, the
// SQS event source mapping, the EventBridge rules and their targets. It uses
// what moto already does — S3 notification filtering, the queue's redrive to
// the DLQ, EventBridge pattern matching — and only adds the plumbing Lambda
// itself provides: polling a queue into batches, asynchronous invocation with
// retries and a dead-letter target, and the schedule's timer.
//
// A trigger the synth does not declare is not wired, and one declared
// without the invoke permission Lambda requires does not deliver.
package triggers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/tools/internal/arnmatch"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/lambdarun"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Invoker runs one synchronous invocation of a function (a lambdarun.Pool).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Function is a local function: its synthesized settings and its invoker.
type Function struct {
	lambdarun.Function
	Invoker Invoker
	// Concurrency is how many invocations the local function takes at once.
	Concurrency int
}

// Options tune the glue's clock. Zero values keep AWS's timing.
type Options struct {
	// ScheduleEvery replaces every schedule rule's period (e.g. 10s instead
	// of rate(5 minutes)); 0 keeps the rule's own. Negative disables the
	// timers (Tick still fires a rule on demand).
	ScheduleEvery time.Duration
	// RetryVisibility, when > 0, makes messages of a failed SQS batch
	// visible again after this long instead of the queue's visibility
	// timeout, so redrive to the DLQ happens in seconds, not minutes.
	RetryVisibility time.Duration
	// AsyncRetryDelay replaces Lambda's 1 and 2 minute waits between
	// retries of a failed asynchronous invocation; 0 keeps them.
	AsyncRetryDelay time.Duration
	// Log receives one line per wiring decision and per failure.
	Log io.Writer
}

// Glue is the running set of triggers.
type Glue struct {
	plan  *synthread.Plan
	aws   *awsx.Clients
	fns   map[string]*Function // by ARN
	opts  Options
	log   io.Writer
	logMu sync.Mutex

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	inflight atomic.Int64

	// Wired describes each trigger wired (for the summary).
	Wired []string
	// NotWired describes triggers declared but not delivered, and why.
	NotWired  []string
	schedules map[string]*schedule // by rule name
	broken    sync.Map             // function ARN → error (Break)
	stats     Stats
}

// Stats counts what the glue delivered.
type Stats struct {
	S3Events, SQSBatches, SQSMessages, SQSFailedMessages, RuleEvents, ScheduleTicks atomic.Int64
	AsyncFailures, DeadLettered                                                     atomic.Int64
	// SQSRedelivered counts messages delivered with an ApproximateReceiveCount
	// above 1: received before and not deleted (failed or timed out).
	SQSRedelivered atomic.Int64
}

// Wire reads every trigger from p and starts delivering. fns are the local
// functions by ARN. Stop ends the deliveries.
func Wire(ctx context.Context, p *synthread.Plan, c *awsx.Clients, fns map[string]*Function, opts Options) (*Glue, error) {
	g := &Glue{plan: p, aws: c, fns: fns, opts: opts, log: opts.Log, schedules: map[string]*schedule{}}
	if g.log == nil {
		g.log = io.Discard
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	steps := []func(context.Context) error{g.wireBucketNotifications, g.wireEventSourceMappings, g.wireRules}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			g.Stop()
			return nil, err
		}
	}
	return g, nil
}

// Stats returns the delivery counters.
func (g *Glue) Stats() *Stats { return &g.stats }

// Busy is the number of deliveries in progress (batches being processed,
// asynchronous invocations including their retries).
func (g *Glue) Busy() int64 { return g.inflight.Load() }

// Stop ends every poller and timer and waits for deliveries in progress.
func (g *Glue) Stop() {
	g.cancel()
	g.wg.Wait()
}

func (g *Glue) logf(format string, args ...any) {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	fmt.Fprintf(g.log, "glue: "+format+"\n", args...)
}

func (g *Glue) go_(f func()) {
	g.wg.Add(1)
	go func() { defer g.wg.Done(); f() }()
}

// function returns the local function an ARN (or name) designates.
func (g *Glue) function(ref string) (*Function, error) {
	if f, ok := g.fns[ref]; ok {
		return f, nil
	}
	for _, f := range g.fns {
		if f.Name == ref {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no local function %q (the compute stack declares none with that name or ARN)", ref)
}

// permitted reports whether a lambda Permission lets principal invoke fn
// from sourceArn (Lambda's resource policy; without it the service cannot
// invoke the function). A permission whose source ARN is not an ARN is an
// error: Lambda would refuse it.
func (g *Glue) permitted(fn *Function, principal, sourceArn string) (bool, error) {
	for _, r := range g.plan.OfType("aws:lambda/permission:Permission") {
		f := r.Str("function")
		if f != fn.Name && f != fn.ARN {
			continue
		}
		if r.Str("principal") != principal {
			continue
		}
		if a := r.Str("action"); a != "lambda:InvokeFunction" && a != "lambda:*" {
			continue
		}
		src := r.Str("sourceArn")
		if src == "" {
			return true, nil
		}
		p, err := arnmatch.Compile(src)
		if err != nil {
			return false, fmt.Errorf("%s: %w", r, err)
		}
		if p.Match(sourceArn) {
			return true, nil
		}
	}
	return false, nil
}

// internalQueue creates (or finds) a queue of the glue itself, named from
// purpose, and returns its URL and ARN.
func (g *Glue) internalQueue(ctx context.Context, purpose string) (url, arn string, err error) {
	sum := sha256.Sum256([]byte(purpose))
	name := "local-glue-" + sanitize(purpose)
	if len(name) > 70 {
		name = name[:70]
	}
	name += "-" + hex.EncodeToString(sum[:3])
	out, err := g.aws.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("create internal queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), fmt.Sprintf("arn:aws:sqs:%s:%s:%s", g.aws.Config.Region, awsx.Account, name), nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// queueURL returns the local URL of a queue of the synth, by ARN.
func (g *Glue) queueURL(ctx context.Context, arn string) (string, error) {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	out, err := g.aws.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", arn, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// sleep waits d or until the glue stops; it reports whether to go on.
func (g *Glue) sleep(d time.Duration) bool {
	select {
	case <-g.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
