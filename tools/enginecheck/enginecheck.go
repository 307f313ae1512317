// Package enginecheck reads what the Pulumi CLI reports about a stack
// (`pulumi stack export`, `pulumi stack history --json`) and compares states,
// for `go run mage.go check:engine`, which drives the real engine through the
// magefile's own deploy and destroy. Standard library only: it parses the
// CLI's JSON, it does not link the engine.
package enginecheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/marketanalytics/pipeline/shared/synthfile"
)

// Resource is one resource of a stack's state.
type Resource struct {
	URN     string                 `json:"urn"`
	Type    string                 `json:"type"`
	ID      string                 `json:"id"`
	Custom  bool                   `json:"custom"`
	Inputs  map[string]interface{} `json:"inputs"`
	Outputs map[string]interface{} `json:"outputs"`
}

// State is a stack's state as `pulumi stack export` prints it.
type State struct {
	Resources []Resource
}

// ParseExport reads `pulumi stack export` output.
func ParseExport(data []byte) (State, error) {
	var doc struct {
		Version    int `json:"version"`
		Deployment struct {
			Resources []Resource `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return State{}, fmt.Errorf("stack export: %w", err)
	}
	if doc.Version == 0 {
		return State{}, fmt.Errorf("stack export: no deployment version: not an export")
	}
	return State{Resources: doc.Deployment.Resources}, nil
}

// Engine-owned resource types, present in every non-empty state: the stack
// itself and the default provider of each package.
const (
	stackType     = "pulumi:pulumi:Stack"
	providerTypes = "pulumi:providers:"
)

// Managed returns the resources the program declared: the state without the
// stack resource and the providers.
func (s State) Managed() []Resource {
	var out []Resource
	for _, r := range s.Resources {
		if r.Type != stackType && !strings.HasPrefix(r.Type, providerTypes) {
			out = append(out, r)
		}
	}
	return out
}

// CountByType counts the managed resources by type, as "n × type" sorted by type.
func (s State) CountByType() []string {
	n := map[string]int{}
	for _, r := range s.Managed() {
		n[r.Type]++
	}
	types := make([]string, 0, len(n))
	for t := range n {
		types = append(types, t)
	}
	sort.Strings(types)
	out := make([]string, 0, len(types))
	for _, t := range types {
		out = append(out, fmt.Sprintf("%d × %s", n[t], t))
	}
	return out
}

// Change is a resource whose inputs differ between two states.
type Change struct {
	URN  string
	Keys []string // top-level input keys that changed
}

// Changed compares two states of a stack by URN: the resources added,
// removed, and those whose inputs or id changed. Engine-owned resources are
// compared too (a provider whose config changed is a change).
func Changed(before, after State) (added, removed []string, changed []Change) {
	old := map[string]Resource{}
	for _, r := range before.Resources {
		old[r.URN] = r
	}
	seen := map[string]bool{}
	for _, r := range after.Resources {
		seen[r.URN] = true
		o, ok := old[r.URN]
		if !ok {
			added = append(added, r.URN)
			continue
		}
		keys := changedKeys(o.Inputs, r.Inputs)
		if o.ID != r.ID {
			keys = append(keys, "<id>")
		}
		if len(keys) > 0 {
			changed = append(changed, Change{URN: r.URN, Keys: keys})
		}
	}
	for _, r := range before.Resources {
		if !seen[r.URN] {
			removed = append(removed, r.URN)
		}
	}
	return added, removed, changed
}

func changedKeys(a, b map[string]interface{}) []string {
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || !reflect.DeepEqual(v, w) {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Update is one entry of `pulumi stack history --json`.
type Update struct {
	Kind            string         `json:"kind"`
	Result          string         `json:"result"`
	ResourceChanges map[string]int `json:"resourceChanges"`
}

// LastUpdate returns the newest entry of `pulumi stack history --json`.
func LastUpdate(data []byte) (Update, error) {
	var h []Update
	if err := json.Unmarshal(data, &h); err != nil {
		return Update{}, fmt.Errorf("stack history: %w", err)
	}
	if len(h) == 0 {
		return Update{}, fmt.Errorf("stack history: no update recorded")
	}
	return h[0], nil // the CLI lists the newest first
}

// OnlyOps fails unless every change counted in u is one of ops (e.g. only
// "same" for an update that must change nothing) and u succeeded.
func (u Update) OnlyOps(ops ...string) error {
	if u.Result != "succeeded" {
		return fmt.Errorf("%s %s", u.Kind, u.Result)
	}
	allowed := map[string]bool{}
	for _, op := range ops {
		allowed[op] = true
	}
	for op, n := range u.ResourceChanges {
		if n > 0 && !allowed[op] {
			return fmt.Errorf("%s: %d resources %s, only %s expected", u.Kind, n, op, strings.Join(ops, "/"))
		}
	}
	return nil
}

// String formats the counts as "create 8, same 2" (sorted by operation).
func (u Update) String() string {
	ops := make([]string, 0, len(u.ResourceChanges))
	for op, n := range u.ResourceChanges {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	if len(ops) == 0 {
		return "no resources"
	}
	return strings.Join(ops, ", ")
}

// SynthOutputs reads the stack outputs the offline synth recorded for a
// layer (build/synth/<layer>.json), which the engine's must equal: both come
// from the same program and the same fake.
func SynthOutputs(synthDir, layer string) (map[string]interface{}, error) {
	st, err := synthfile.Read(synthDir, layer)
	if err != nil {
		return nil, err
	}
	return st.Outputs, nil
}

// DiffOutputs lists the keys on which two output maps differ, with both values.
func DiffOutputs(want, got map[string]interface{}) []string {
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing (want %v)", k, w))
		} else if !reflect.DeepEqual(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected (%v)", k, g))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// refRead matches a layer program's read of a StackReference output
// (`layer.String(outputs.Key)`), which BreakStackReference misspells.
var refRead = regexp.MustCompile(`\.String\(outputs\.(\w+)\)`)

// BreakStackReference rewrites the first StackReference output read in the Go
// files of dir to a name no layer exports (<key>Typo) and returns that name.
func BreakStackReference(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.go"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		loc := refRead.FindSubmatchIndex(src)
		if loc == nil {
			continue
		}
		key := string(src[loc[2]:loc[3]])
		out := string(src[:loc[0]]) + fmt.Sprintf(`.String(outputs.%s + "Typo")`, key) + string(src[loc[1]:])
		return key, os.WriteFile(f, []byte(out), 0o644)
	}
	return "", fmt.Errorf("no StackReference output read (.String(outputs.X)) in the Go files under %s", dir)
}

// integerDefault matches an integer config declaration with a default in a
// Pulumi.yaml: the key, the text up to the default, the default.
var integerDefault = regexp.MustCompile(`(?m)^\s+([\w:]+):\n(\s+type: integer\n(?:\s+\w+:.*\n)*?\s+default: )(\d+)[ \t]*$`)

// MistypeConfigDefault rewrites the default of the first integer config key
// of a Pulumi.yaml into a string ("<n> MB"), as a slip of the pen would, and
// returns that key.
func MistypeConfigDefault(pulumiYAML string) (string, error) {
	src, err := os.ReadFile(pulumiYAML)
	if err != nil {
		return "", err
	}
	loc := integerDefault.FindSubmatchIndex(src)
	if loc == nil {
		return "", fmt.Errorf("%s declares no integer config key with a default", pulumiYAML)
	}
	key := string(src[loc[2]:loc[3]])
	out := string(src[:loc[6]]) + fmt.Sprintf("%q", string(src[loc[6]:loc[7]])+" MB") + string(src[loc[7]:])
	return key, os.WriteFile(pulumiYAML, []byte(out), 0o644)
}

// RenameProject gives a copied Pulumi.yaml another project name, so its
// stacks live beside the original's in the same backend.
func RenameProject(pulumiYAML, suffix string) (string, error) {
	src, err := os.ReadFile(pulumiYAML)
	if err != nil {
		return "", err
	}
	re := regexp.MustCompile(`(?m)^name: (\S+)$`)
	m := re.FindSubmatch(src)
	if m == nil {
		return "", fmt.Errorf("%s has no top-level name", pulumiYAML)
	}
	name := string(m[1]) + suffix
	return name, os.WriteFile(pulumiYAML, re.ReplaceAll(src, []byte("name: "+name)), 0o644)
}

// Get returns the resource with a URN.
func (s State) Get(urn string) (Resource, bool) {
	for _, r := range s.Resources {
		if r.URN == urn {
			return r, true
		}
	}
	return Resource{}, false
}

// SynthIDs reads the resources the offline synth recorded for a layer
// (build/synth/<layer>.json): URN → fake id.
func SynthIDs(synthDir, layer string) (map[string]string, error) {
	st, err := synthfile.Read(synthDir, layer)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, r := range st.Resources {
		ids[r.URN] = r.ID
	}
	return ids, nil
}

// CompareIDs lists how a state's managed resources differ from the synth's
// (URN → id): missing, extra, or with another id.
func CompareIDs(synth map[string]string, s State) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, r := range s.Managed() {
		seen[r.URN] = true
		id, ok := synth[r.URN]
		switch {
		case !ok:
			diffs = append(diffs, "not in the synth: "+r.URN)
		case id != r.ID:
			diffs = append(diffs, fmt.Sprintf("%s: id %q, synth %q", r.URN, r.ID, id))
		}
	}
	for urn := range synth {
		if !seen[urn] {
			diffs = append(diffs, "not deployed: "+urn)
		}
	}
	sort.Strings(diffs)
	return diffs
}
