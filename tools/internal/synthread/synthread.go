// Package synthread reads the offline synth (build/synth/<layer>.json in the
// format of shared/synthfile, written by `go run mage.go synth`) into a
// queryable model of everything the four stacks would create. The local
// pipeline provisions and wires itself from it, so a change in a stack
// changes the local pipeline too. This package depends on neither Pulumi nor
// the AWS SDK.
package synthread

import (
	"fmt"
	"math"
	"strconv"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/synthfile"
)

// Stack is one layer's recording.
type Stack struct {
	// Layer is the layer name (storage, messaging, compute, api), from the file name.
	Layer string
	// Resources are the layer's resources, in registration order.
	Resources []*Resource
	// Outputs are the layer's stack outputs.
	Outputs map[string]any
}

// Resource is one recorded resource, with the layer that created it.
type Resource struct {
	synthfile.Resource
	Layer string
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
		f, err := synthfile.Read(dir, layer)
		if err != nil {
			return nil, err
		}
		s := &Stack{Layer: layer, Outputs: f.Outputs}
		for _, r := range f.Resources {
			s.Resources = append(s.Resources, &Resource{Resource: r, Layer: layer})
		}
		p.Stacks = append(p.Stacks, s)
	}
	return p, nil
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
