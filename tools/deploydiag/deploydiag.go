// Package deploydiag is what the deploy targets of the magefile and the
// preflight need from the Pulumi CLI besides running it: which layers of a
// stack are deployed (ListStacks, Gate), and what a failed `pulumi up`
// means (Diagnose). Standard library only, so the magefile imports it.
package deploydiag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Kind names a known deployment failure.
type Kind string

const (
	// QueueDeletedRecently: SQS refuses to create a queue under a name
	// deleted less than 60 seconds ago (deploy right after destroy).
	QueueDeletedRecently Kind = "QueueDeletedRecently"
	// MemoryCap: the account's Lambda memory quota is below memorySize
	// (new accounts are capped at 3008 MB; no API reports the cap).
	MemoryCap Kind = "MemoryCap"
)

// memoryCap matches Lambda's refusal of a memory size above the account's cap.
var memoryCap = regexp.MustCompile(`(?i)'?MemorySize'? value failed to satisfy constraint: Member must have value less than or equal to (\d+)`)

// QueueNameReuseWait is how long SQS keeps a deleted queue's name.
const QueueNameReuseWait = 60 * time.Second

// CappedMemoryMB is the memory new accounts are held to.
const CappedMemoryMB = 3008

// Diagnosis explains a failed `pulumi up`.
type Diagnosis struct {
	Kind Kind
	// Retry is whether the same `pulumi up` succeeds after Wait.
	Retry bool
	Wait  time.Duration
	// Advice says what happened and what to do, in one paragraph.
	Advice string
}

// Diagnose classifies the output of a failed `pulumi up` (engine diagnostics
// as printed by the CLI); nil when it is none of the known failures.
func Diagnose(output string) *Diagnosis {
	lower := strings.ToLower(output)
	// AWS.SimpleQueueService.QueueDeletedRecently (query protocol) or
	// QueueDeletedRecently (JSON protocol), with the message "You must wait
	// 60 seconds after deleting a queue before you can create another with
	// the same name."
	if strings.Contains(lower, "queuedeletedrecently") ||
		strings.Contains(lower, "wait 60 seconds after deleting a queue") {
		return &Diagnosis{
			Kind: QueueDeletedRecently, Retry: true, Wait: QueueNameReuseWait + 5*time.Second,
			Advice: "SQS keeps a deleted queue's name for 60 seconds, and this deploy follows a destroy " +
				"that deleted the queues; waiting and running `pulumi up` once more creates them.",
		}
	}
	// CreateFunction / UpdateFunctionConfiguration: "'MemorySize' value
	// failed to satisfy constraint: Member must have value less than or
	// equal to 3008": the figure is the account's cap.
	if m := memoryCap.FindStringSubmatch(output); m != nil {
		return &Diagnosis{
			Kind: MemoryCap,
			Advice: fmt.Sprintf("this account's Lambda functions are capped at %s MB (new accounts are held to %d MB "+
				"until a quota increase, and no API reports the cap): run `pulumi config set memorySize %s` in "+
				"stacks/compute (for STACK) and deploy again, or ask AWS Support to raise the memory quota.", m[1], CappedMemoryMB, m[1]),
		}
	}
	return nil
}

// StackInfo is one stack of a layer's project as `pulumi stack ls` sees it.
type StackInfo struct {
	Exists    bool
	Resources int
}

// Deployed reports whether the stack exists and holds resources.
func (s StackInfo) Deployed() bool { return s.Exists && s.Resources > 0 }

// ParseStackList finds stack in the JSON of `pulumi stack ls --json`. A
// stack of another organization is listed as "<org>/<stack>"; the bare
// name matches the current organization's.
func ParseStackList(data []byte, stack string) (StackInfo, error) {
	var list []struct {
		Name          string `json:"name"`
		ResourceCount *int   `json:"resourceCount"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return StackInfo{}, fmt.Errorf("pulumi stack ls: %w", err)
	}
	for _, s := range list {
		if s.Name == stack {
			info := StackInfo{Exists: true}
			if s.ResourceCount != nil {
				info.Resources = *s.ResourceCount
			}
			return info, nil
		}
	}
	return StackInfo{}, nil
}

// CLI runs the read-only Pulumi commands.
type CLI struct {
	// Exe is the pulumi executable ("pulumi": the one on PATH).
	Exe string
	// LayerDir maps a layer to its project's directory.
	LayerDir func(layer string) string
}

func (c CLI) output(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Exe, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("pulumi %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// Version is the CLI's version; an error when it is not on PATH.
func (c CLI) Version(ctx context.Context) (string, error) {
	if _, err := exec.LookPath(c.Exe); err != nil {
		return "", err
	}
	out, err := c.output(ctx, "", "version")
	return strings.TrimSpace(string(out)), err
}

// Whoami is the logged-in user and backend; an error when not logged in.
func (c CLI) Whoami(ctx context.Context) (string, error) {
	out, err := c.output(ctx, "", "whoami", "--verbose")
	return strings.Join(strings.Fields(string(out)), " "), err
}

// Stack reads a layer's stack from `pulumi stack ls --json` in its project.
func (c CLI) Stack(ctx context.Context, layer, stack string) (StackInfo, error) {
	out, err := c.output(ctx, c.LayerDir(layer), "stack", "ls", "--json")
	if err != nil {
		return StackInfo{}, err
	}
	return ParseStackList(out, stack)
}

// Gate splits layers (in deploy order) into those that can be previewed,
// every layer below them being deployed, and the first that cannot, with
// the reason; deployed answers for each layer below.
func Gate(layers []string, deployed func(layer string) (bool, error)) (ok []string, blocked, reason string, err error) {
	for i, l := range layers {
		if i > 0 {
			below := layers[i-1]
			d, err := deployed(below)
			if err != nil {
				return ok, "", "", err
			}
			if !d {
				return ok, l, fmt.Sprintf("%s is not deployed yet, so %s (and the layers above it) cannot be previewed: "+
					"their stack references would fail; deploy %s first (go run mage.go deploy)", below, l, below), nil
			}
		}
		ok = append(ok, l)
	}
	return ok, "", "", nil
}

// ParseConfig reads the JSON of `pulumi config --json` into "<namespace>:<key>"
// → value. Secrets (shown without their value) are left out: no check
// needs one.
func ParseConfig(data []byte) (map[string]string, error) {
	var raw map[string]struct {
		Value  *string `json:"value"`
		Secret bool    `json:"secret"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("pulumi config: %w", err)
	}
	cfg := map[string]string{}
	for k, v := range raw {
		if !v.Secret && v.Value != nil {
			cfg[k] = *v.Value
		}
	}
	return cfg, nil
}

// Config reads a layer's stack config (the values set, not the defaults).
func (c CLI) Config(ctx context.Context, layer, stack string) (map[string]string, error) {
	out, err := c.output(ctx, c.LayerDir(layer), "config", "--json", "--stack", stack)
	if err != nil {
		return nil, err
	}
	return ParseConfig(out)
}
