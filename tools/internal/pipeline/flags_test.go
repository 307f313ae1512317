package pipeline

import (
	"flag"
	"path/filepath"
	"testing"
)

func TestDirFlags(t *testing.T) {
	for name, tt := range map[string]struct {
		args              []string
		wantSynth, wantBD string
	}{
		"defaults":  {nil, filepath.Join("build", "synth"), "build"},
		"overrides": {[]string{"-synth-dir", "s", "-build-dir", "b"}, "s", "b"},
	} {
		t.Run(name, func(t *testing.T) {
			var c Config
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			DirFlags(fs, &c.SynthDir, &c.BuildDir)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if c.SynthDir != tt.wantSynth || c.BuildDir != tt.wantBD {
				t.Errorf("SynthDir %q, BuildDir %q; want %q, %q", c.SynthDir, c.BuildDir, tt.wantSynth, tt.wantBD)
			}
		})
	}
}
