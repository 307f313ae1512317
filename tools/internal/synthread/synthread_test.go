package synthread

import (
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/synthfile"
)

const fixture = "../../testdata/synth"

func TestLoadReadsTheFourLayers(t *testing.T) {
	p, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stacks) != 4 {
		t.Fatalf("%d layers, want 4", len(p.Stacks))
	}
	for i, want := range []string{"storage", "messaging", "compute", "api"} {
		if p.Stacks[i].Layer != want {
			t.Errorf("layer %d is %q, want %q", i, p.Stacks[i].Layer, want)
		}
	}
	fns := p.OfType("aws:lambda/function:Function")
	if len(fns) != 3 {
		t.Fatalf("%d functions, want 3", len(fns))
	}
	for _, f := range fns {
		if f.Layer != "compute" || f.Int("memorySize", 0) <= 0 || f.Str("arn") == "" {
			t.Errorf("function %s: layer %q memory %d arn %q", f.Name, f.Layer, f.Int("memorySize", 0), f.Str("arn"))
		}
	}
	if name, ok := p.Output("storage", "bucketName"); !ok || name == "" {
		t.Errorf("storage output bucketName = %q, %v", name, ok)
	}
	r, ok := p.ByARN(fns[0].Str("arn"))
	if !ok || r.URN != fns[0].URN {
		t.Errorf("ByARN did not find %s", fns[0].Str("arn"))
	}
	if _, ok := p.ByURN(fns[0].URN); !ok {
		t.Error("ByURN did not find a function")
	}
}

func TestLoadMissingLayerSaysHowToMakeIt(t *testing.T) {
	_, err := Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "mage.go synth") {
		t.Fatalf("error %v, want a hint to run the synth", err)
	}
}

func TestGetPrefersOutputsAndConverts(t *testing.T) {
	r := &Resource{Resource: synthfile.Resource{
		Inputs:  map[string]any{"name": "in", "timeout": 30.0, "only": "input"},
		Outputs: map[string]any{"name": "out", "arn": "arn:x", "flag": true, "half": 1.5, "n": "7"},
	}}
	tests := []struct {
		got, want any
	}{
		{r.Str("name"), "out"},
		{r.Str("only"), "input"},
		{r.Int("timeout", 0), 30},
		{r.Int("half", -1), -1}, // not an integer
		{r.Int("n", 0), 7},
		{r.Int("absent", 3), 3},
		{r.Bool("flag"), true},
		{r.Bool("absent"), false},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %v, want %v", i, tt.got, tt.want)
		}
	}
}
