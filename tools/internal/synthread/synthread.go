// Package plan reads the offline synth (build/synth/<layer>.json, written by
// `go run mage.go synth`) into a queryable model of everything the four stacks
// would create. The local pipeline provisions and wires itself from it, so a
// change in a stack changes the local pipeline too.
//
// The format is the stacks' mock recording: per layer {project, stack,
// resources: [{urn, type, name, parent, dependencies, inputs, outputs, id}],
// outputs}, with Pulumi schema property names. This package depends on
// neither Pulumi nor the AWS SDK.
package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// Stack is one layer's recording.
type Stack struct {
	Project   string         `json:"project"`
	Stack     string         `json:"stack"`
	Resources []*Resource    `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	// Layer is the layer name (storage, messaging, compute, api), from the file name.
	Layer string `json:"-"`
}

// Resource is one recorded resource.
type Resource struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	Parent       string         `json:"parent,omitempty"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`
	Outputs      map[string]any `json:"outputs"`
	ID           string         `json:"id"`
	// Layer is the layer that created the resource.
	Layer string `json:"-"`
}

// Plan is the four layers in deploy order.
type Plan struct {
	Stacks []*Stack
	// Dir is where the files were read from.
	Dir string
}

// Load reads <dir>/<layer>.json for every layer in naming.Layers.
func Load(dir string) (*Plan, error) {
	p := &Plan{Dir: dir}
	for _, layer := range naming.Layers {
		path := filepath.Join(dir, layer+".json")
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("synth output %s is missing: run `go run mage.go synth` first", path)
		}
		if err != nil {
			return nil, err
		}
		s, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s.Layer = layer
		for _, r := range s.Resources {
			r.Layer = layer
		}
		p.Stacks = append(p.Stacks, s)
	}
	return p, nil
}

// Parse decodes one layer's recording.
func Parse(b []byte) (*Stack, error) {
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode synth: %w", err)
	}
	for i, r := range s.Resources {
		if r == nil || r.Type == "" || r.URN == "" {
			return nil, fmt.Errorf("decode synth: resource %d has no type or urn", i)
		}
		if r.Inputs == nil {
			r.Inputs = map[string]any{}
		}
		if r.Outputs == nil {
			r.Outputs = map[string]any{}
		}
	}
	return &s, nil
}

// Resources returns every resource of every layer, in registration order.
func (p *Plan) Resources() []*Resource {
	var out []*Resource
	for _, s := range p.Stacks {
		out = append(out, s.Resources...)
	}
	return out
}

// OfType returns the resources of a type, in registration order.
func (p *Plan) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range p.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// ByURN returns the resource with a URN.
func (p *Plan) ByURN(urn string) (*Resource, bool) {
	for _, r := range p.Resources() {
		if r.URN == urn {
			return r, true
		}
	}
	return nil, false
}

// ByARN returns the resource whose own ARN (an "arn" output the provider
// computed, not an "arn" input naming another resource, as an EventTarget's)
// is arn.
func (p *Plan) ByARN(arn string) (*Resource, bool) {
	for _, r := range p.Resources() {
		if _, isInput := r.Inputs["arn"]; !isInput && r.Str("arn") == arn {
			return r, true
		}
	}
	return nil, false
}

// Find returns the first resource of type typ whose property key equals value.
func (p *Plan) Find(typ, key, value string) (*Resource, bool) {
	for _, r := range p.OfType(typ) {
		if r.Str(key) == value {
			return r, true
		}
	}
	return nil, false
}

// Output returns a stack output of a layer.
func (p *Plan) Output(layer, key string) (string, bool) {
	for _, s := range p.Stacks {
		if s.Layer == layer {
			v, ok := s.Outputs[key].(string)
			return v, ok
		}
	}
	return "", false
}

// Get returns a property: from the outputs (what the provider reports,
// inputs included) or else the inputs.
func (r *Resource) Get(key string) (any, bool) {
	if v, ok := r.Outputs[key]; ok && v != nil {
		return v, true
	}
	v, ok := r.Inputs[key]
	return v, ok && v != nil
}

// Str returns a string property, or "".
func (r *Resource) Str(key string) string {
	v, _ := r.Get(key)
	s, _ := v.(string)
	return s
}

// Int returns an integer property (def when absent).
func (r *Resource) Int(key string, def int) int {
	v, ok := r.Get(key)
	if !ok {
		return def
	}
	n, ok := AsInt(v)
	if !ok {
		return def
	}
	return n
}

// Bool returns a boolean property (false when absent).
func (r *Resource) Bool(key string) bool {
	v, _ := r.Get(key)
	b, _ := v.(bool)
	return b
}

// Map returns an object property, or nil.
func (r *Resource) Map(key string) map[string]any {
	v, _ := r.Get(key)
	m, _ := v.(map[string]any)
	return m
}

// List returns an array property, or nil.
func (r *Resource) List(key string) []any {
	v, _ := r.Get(key)
	l, _ := v.([]any)
	return l
}

// Strings returns an array-of-strings property.
func (r *Resource) Strings(key string) []string { return Strings(r.List(key)) }

// String describes the resource for messages.
func (r *Resource) String() string { return fmt.Sprintf("%s %q (%s layer)", r.Type, r.Name, r.Layer) }

// AsInt converts a JSON number (float64) or numeric string to an int.
func AsInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	case int:
		return x, true
	}
	return 0, false
}

// Strings converts a JSON array to strings, dropping non-strings.
func Strings(l []any) []string {
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Obj returns m[key] as an object, or nil.
func Obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// Str returns m[key] as a string, or "".
func Str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// Int returns m[key] as an int (def when absent or not a number).
func Int(m map[string]any, key string, def int) int {
	n, ok := AsInt(m[key])
	if !ok {
		return def
	}
	return n
}
