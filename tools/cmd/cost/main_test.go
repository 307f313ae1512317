package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// synthFixture is the checked-in synth of stack dev.
const synthFixture = "../../testdata/synth"

// TestMemoryFromTheSynth: each function's memory is the memorySize of the
// function the synth names for it, read here from the file directly.
func TestMemoryFromTheSynth(t *testing.T) {
	got, err := memory(synthFixture)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(synthFixture, "compute.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Resources []struct {
			Type    string
			Inputs  map[string]any
			Outputs map[string]any
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range file.Resources {
		if r.Type != "aws:lambda/function:Function" {
			continue
		}
		name, _ := r.Outputs["name"].(string)
		for _, svc := range naming.Services {
			if fn, _ := naming.MustNew("dev").FunctionFor(svc); fn == name {
				mb, _ := r.Inputs["memorySize"].(float64)
				want[svc] = int(mb)
			}
		}
	}
	if len(want) != len(naming.Services) {
		t.Fatalf("the fixture names %d of the %d functions", len(want), len(naming.Services))
	}
	for svc, mb := range want {
		if got[svc] != mb || mb <= 0 {
			t.Errorf("%s: memory %d, the synth says %d", svc, got[svc], mb)
		}
	}
	if _, err := memory(t.TempDir()); err == nil || !strings.Contains(err.Error(), "mage.go synth") {
		t.Errorf("no synth: error %v, want the command that writes it", err)
	}
}
