// Package preflight holds the read-only checks `go run mage.go preflight`
// runs before a deployment, with the caller's AWS credentials and Pulumi
// CLI: each check answers PASS, WARN or FAIL and, unless it passed, the fix.
// The AWS and Pulumi calls go through narrow interfaces so that every
// outcome is tested with fakes; the values the stacks would deploy (bucket
// name, memory, concurrency, access logging) come from the synth of the
// user's own stack config (Plan), never from copies.
package preflight

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is a check's outcome.
type Status int

const (
	Pass Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	}
	return "FAIL"
}

// Result is one check's outcome: what was found and, unless it passed, what
// to do about it.
type Result struct {
	Check  string
	Status Status
	Detail string
	Fix    string
}

// Results is a run's outcomes in the order the checks ran.
type Results []Result

// Failed reports whether any check failed.
func (rs Results) Failed() bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Print writes one line per check, with the fix indented below it.
func (rs Results) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Status, r.Check, r.Detail)
		if r.Fix != "" && r.Status != Pass {
			fmt.Fprintf(tw, "\t\t→ %s\n", r.Fix)
		}
	}
	return tw.Flush()
}

func pass(check, detail string, args ...any) Result {
	return Result{Check: check, Status: Pass, Detail: fmt.Sprintf(detail, args...)}
}

func warn(check, fix, detail string, args ...any) Result {
	return Result{Check: check, Status: Warn, Detail: fmt.Sprintf(detail, args...), Fix: fix}
}

func fail(check, fix, detail string, args ...any) Result {
	return Result{Check: check, Status: Fail, Detail: fmt.Sprintf(detail, args...), Fix: fix}
}

// Checker runs the checks. Nil clients are the checks that cannot run
// (e.g. no AWS credentials): they are reported, not skipped silently.
type Checker struct {
	Stack string
	// Layer, when set, is the one layer about to be previewed or deployed
	// alone; its lower layers must then be deployed. Empty: all four, in order.
	Layer string
	// Region is the region the caller's AWS configuration resolved.
	Region string
	Plan   Plan
	Pulumi Pulumi
	AWS    AWS
}

// AWS groups the clients of the AWS checks.
type AWS struct {
	STS    STS
	S3     S3
	Lambda Lambda
	APIGW  APIGateway
}

// Run runs every check in order: the Pulumi CLI and stacks, then AWS.
func (c Checker) Run(ctx context.Context) Results {
	var rs Results
	rs = append(rs, c.pulumiChecks(ctx)...)
	rs = append(rs, c.account(ctx), c.region())
	rs = append(rs, c.bucket(ctx))
	rs = append(rs, c.concurrency(ctx)...)
	rs = append(rs, c.memory())
	rs = append(rs, c.apiGatewayRole(ctx))
	return rs
}

// quote joins names for a message.
func quote(names []string) string { return strings.Join(names, ", ") }
