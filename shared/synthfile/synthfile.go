// Package synthfile is the format of the offline synth: one file per layer,
// build/synth/<layer>.json, holding what the layer's Pulumi program
// registered under the recording mocks and what it exported, with Pulumi
// schema property names. tools/synth writes it (Write); the local pipeline
// reads it (Read). It depends on neither Pulumi nor the AWS SDK, so that the
// reader does not either.
package synthfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Stack is one layer's recording.
type Stack struct {
	Project   string         `json:"project"`
	Stack     string         `json:"stack"`
	Resources []Resource     `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
}

// Resource is one recorded resource. Outputs are what the provider would
// report (the inputs included).
type Resource struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	Parent       string         `json:"parent,omitempty"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`
	Outputs      map[string]any `json:"outputs"`
	ID           string         `json:"id"`
	// Protect and RetainOnDelete are the resource options of those names.
	Protect        bool `json:"protect,omitempty"`
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
}

// DependsOn reports whether a lists b among its dependencies.
func (a Resource) DependsOn(b Resource) bool {
	for _, d := range a.Dependencies {
		if d == b.URN {
			return true
		}
	}
	return false
}

// Path is the file of a layer under dir.
func Path(dir, layer string) string { return filepath.Join(dir, layer+".json") }

// Write writes s as the layer's file under dir (indented, map keys sorted, so
// that the same synth gives the same bytes) and returns its path.
func Write(dir, layer string, s Stack) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode synth of %s: %w", layer, err)
	}
	path := Path(dir, layer)
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read reads the layer's file under dir.
func Read(dir, layer string) (*Stack, error) {
	path := Path(dir, layer)
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
	return s, nil
}

// Parse decodes one layer's recording. Every resource has a type and a URN,
// and non-nil inputs and outputs.
func Parse(b []byte) (*Stack, error) {
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode synth: %w", err)
	}
	for i := range s.Resources {
		r := &s.Resources[i]
		if r.Type == "" || r.URN == "" {
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
