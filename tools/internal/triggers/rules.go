package triggers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// schedule is a schedule rule's timer and its targets.
type schedule struct {
	rule    *synthread.Resource
	period  time.Duration
	targets []*Function
	deliver []func([]byte, func(error))
}

// wireRules wires each EventBridge target of the synth:
//   - on a rule with an event pattern, moto matches the events (its own
//     pattern matching, with the rule's pattern from the synth) and sends
//     them to an internal queue set as the rule's target; the glue drains it
//     into the function as asynchronous invocations;
//   - on a schedule rule, a timer fires the "Scheduled Event" every period
//     (the rule's rate, or Options.ScheduleEvery).
//
// EventBridge needs the function's invoke permission for the rule; without
// it every delivery fails, and the event goes to the target's dead-letter
// queue (as it would once the target's retry policy gives up).
func (g *Glue) wireRules(ctx context.Context) error {
	for _, t := range g.plan.OfType("aws:cloudwatch/eventTarget:EventTarget") {
		ruleName, bus := t.Str("rule"), t.Str("eventBusName")
		rule, err := g.rule(ruleName, bus)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		fn, err := g.function(t.Str("arn"))
		if err != nil {
			return fmt.Errorf("%s: only Lambda targets are wired locally: %w", t, err)
		}
		if st := rule.Str("state"); st == "DISABLED" || (rule.Inputs["isEnabled"] == false) {
			g.NotWired = append(g.NotWired, fmt.Sprintf("rule %s → %s: rule disabled", ruleName, fn.Name))
			continue
		}
		allowed, err := g.permitted(fn, "events.amazonaws.com", rule.Str("arn"))
		if err != nil {
			return err
		}
		dlq := synthread.Str(t.Map("deadLetterConfig"), "arn")
		if !allowed {
			g.NotWired = append(g.NotWired, fmt.Sprintf("rule %s → %s: no lambda Permission for events.amazonaws.com from %s; events go to %s",
				ruleName, fn.Name, rule.Str("arn"), orNone(dlq)))
		}
		deliver := func(payload []byte, done func(error)) {
			if !allowed {
				err := fmt.Errorf("EventBridge is not permitted to invoke %s", fn.Name)
				if dlq != "" {
					if dErr := g.deadLetterEvent(g.ctx, dlq, payload, "NO_PERMISSIONS", err, rule.Str("arn"), fn.ARN); dErr != nil {
						g.logf("rule %s: dead-letter: %v", ruleName, dErr)
					}
				}
				if done != nil {
					done(err)
				}
				return
			}
			g.invokeAsync(fn, payload, "rule "+ruleName, done)
		}
		switch {
		case rule.Str("eventPattern") != "":
			if err := g.wirePatternTarget(ctx, rule, t, fn, deliver); err != nil {
				return err
			}
		case rule.Str("scheduleExpression") != "":
			if err := g.wireSchedule(rule, fn, deliver); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		default:
			return fmt.Errorf("%s: rule %s has neither a pattern nor a schedule", t, ruleName)
		}
	}
	return nil
}

// rule finds the rule a target names (by name and bus).
func (g *Glue) rule(name, bus string) (*synthread.Resource, error) {
	for _, r := range g.plan.OfType("aws:cloudwatch/eventRule:EventRule") {
		rb := r.Str("eventBusName")
		if r.Str("name") == name && (rb == bus || (rb == "" || rb == "default") && (bus == "" || bus == "default")) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no rule %q on bus %q in the synth", name, bus)
}

func (g *Glue) wirePatternTarget(ctx context.Context, rule, t *synthread.Resource, fn *Function, deliver func([]byte, func(error))) error {
	ruleName, bus := rule.Str("name"), rule.Str("eventBusName")
	url, arn, err := g.internalQueue(ctx, "rule-"+ruleName+"-"+t.Str("targetId"))
	if err != nil {
		return err
	}
	in := &eventbridge.PutTargetsInput{Rule: aws.String(ruleName), Targets: []ebtypes.Target{{Id: aws.String(t.Str("targetId")), Arn: aws.String(arn)}}}
	if bus != "" {
		in.EventBusName = aws.String(bus)
	}
	out, err := g.aws.Events.PutTargets(ctx, in)
	if err != nil {
		return fmt.Errorf("%s: put target: %w", t, err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("%s: put target: %s", t, aws.ToString(out.FailedEntries[0].ErrorMessage))
	}
	g.Wired = append(g.Wired, fmt.Sprintf("bus %s rule %s %s → %s (asynchronous; %d retries, then %s)",
		bus, ruleName, rule.Str("eventPattern"), fn.Name, fn.Async.MaxRetries, orNone(fn.DeadLetterARN)))
	g.go_(func() {
		for g.ctx.Err() == nil {
			out, err := g.aws.SQS.ReceiveMessage(g.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				if g.ctx.Err() == nil {
					g.logf("rule %s: receive: %v", ruleName, err)
					g.sleep(time.Second)
				}
				continue
			}
			for _, m := range out.Messages {
				g.stats.RuleEvents.Add(1)
				deliver([]byte(aws.ToString(m.Body)), nil)
				if _, err := g.aws.SQS.DeleteMessage(g.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil && g.ctx.Err() == nil {
					g.logf("rule %s: delete: %v", ruleName, err)
				}
			}
		}
	})
	return nil
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate returns the period of a rate(...) schedule expression.
func ParseRate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: only rate(N minutes|hours|days) schedules are run locally", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[m[2]]
	if n < 1 {
		return 0, fmt.Errorf("schedule %q: the rate must be positive", expr)
	}
	return time.Duration(n) * unit, nil
}

func (g *Glue) wireSchedule(rule *synthread.Resource, fn *Function, deliver func([]byte, func(error))) error {
	period, err := ParseRate(rule.Str("scheduleExpression"))
	if err != nil {
		return err
	}
	name := rule.Str("name")
	s := g.schedules[name]
	if s == nil {
		s = &schedule{rule: rule, period: period}
		g.schedules[name] = s
		every := period
		if g.opts.ScheduleEvery != 0 {
			every = g.opts.ScheduleEvery
		}
		if every > 0 {
			g.go_(func() {
				t := time.NewTicker(every)
				defer t.Stop()
				for {
					select {
					case <-g.ctx.Done():
						return
					case <-t.C:
						g.fire(s, deliver, nil)
					}
				}
			})
		}
		g.Wired = append(g.Wired, fmt.Sprintf("schedule %s %s (locally every %s) → %s", name, rule.Str("scheduleExpression"), every, fn.Name))
	}
	s.targets = append(s.targets, fn)
	s.deliver = append(s.deliver, deliver)
	return nil
}

// fire sends the rule's "Scheduled Event" to every target.
func (g *Glue) fire(s *schedule, _ func([]byte, func(error)), done func(error)) {
	g.stats.ScheduleTicks.Add(1)
	payload := ScheduledEvent(s.rule.Str("arn"), time.Now())
	for _, d := range s.deliver {
		d(payload, done)
	}
}

// Tick fires a schedule rule now and waits until every target's invocation
// (with its retries) finished; the error is the first target's failure.
func (g *Glue) Tick(ctx context.Context, ruleName string) error {
	s := g.schedules[ruleName]
	if s == nil {
		return fmt.Errorf("no schedule rule %q is wired", ruleName)
	}
	errs := make(chan error, len(s.deliver))
	g.fire(s, nil, func(err error) { errs <- err })
	var first error
	for range s.deliver {
		select {
		case err := <-errs:
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// Schedules lists the wired schedule rules' names.
func (g *Glue) Schedules() []string {
	var out []string
	for n := range g.schedules {
		out = append(out, n)
	}
	return out
}

// ScheduledEvent is the event EventBridge sends a schedule rule's targets.
func ScheduledEvent(ruleArn string, at time.Time) []byte {
	id := make([]byte, 16)
	rand.Read(id)
	h := hex.EncodeToString(id)
	b, err := json.Marshal(events.EventBridgeEvent{
		Version:    "0",
		ID:         h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		DetailType: marketdata.ScheduledEventDetailType,
		Source:     marketdata.ScheduledEventSource,
		AccountID:  awsx.Account,
		Time:       at.UTC().Truncate(time.Second), // EventBridge's times have whole seconds
		Region:     naming.Region,
		Resources:  []string{ruleArn},
		Detail:     json.RawMessage("{}"),
	})
	if err != nil {
		panic(err) // a struct of strings and a valid JSON detail always marshal
	}
	return b
}
