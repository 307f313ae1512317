package pipeline

import (
	"flag"
	"path/filepath"
)

// DirFlags registers --synth-dir and --build-dir on fs, into synthDir and
// buildDir (for Config.SynthDir and Config.BuildDir), defaulting to where
// `go run mage.go synth` and `go run mage.go build` write from the repository
// root.
func DirFlags(fs *flag.FlagSet, synthDir, buildDir *string) {
	fs.StringVar(synthDir, "synth-dir", filepath.Join("build", "synth"), "directory of the synth output (go run mage.go synth)")
	fs.StringVar(buildDir, "build-dir", "build", "build directory (local/<service>/bootstrap from go run mage.go build)")
}
