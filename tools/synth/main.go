// Command synth writes the offline plan of the whole pipeline: it runs the
// storage, messaging, compute and api programs in deploy order under Pulumi
// mocks and writes build/synth/<layer>.json. No cloud credentials or Pulumi
// CLI are needed. Run it through `go run mage.go synth`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/marketanalytics/pipeline/tools/synth/synthwrite"
)

func main() {
	stack := flag.String("stack", "dev", "Pulumi stack name (the default environment suffix)")
	buildDir := flag.String("build-dir", "build", "directory holding the function packages (mage build)")
	out := flag.String("out", filepath.Join("build", "synth"), "directory for the <layer>.json files")
	suffix := flag.String("environment-suffix", "", "environmentSuffix config override for every layer")
	// -config lets the preflight synthesize a user's own stack config.
	extra := map[string]string{}
	flag.Func("config", "stack config `<project>:<key>=<value>` (repeatable), as `pulumi config` holds it", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.Contains(k, ":") {
			return fmt.Errorf("want <project>:<key>=<value>, got %q", kv)
		}
		extra[k] = v
		return nil
	})
	flag.Parse()
	if err := run(*stack, *buildDir, *out, *suffix, extra); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(stack, buildDir, out, suffix string, extra map[string]string) error {
	abs, err := filepath.Abs(buildDir)
	if err != nil {
		return err
	}
	cfg := map[string]string{}
	for k, v := range extra {
		cfg[k] = v
	}
	if suffix != "" {
		for _, l := range synthwrite.Layers {
			cfg[l.Project+":environmentSuffix"] = suffix
		}
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	results, err := synthwrite.Run(synthwrite.Options{Stack: stack, BuildDir: abs, Config: cfg, Root: root})
	if err != nil {
		return err
	}
	files, err := synthwrite.Write(out, results)
	if err != nil {
		return err
	}
	if err := synthwrite.Summarize(os.Stdout, results); err != nil {
		return err
	}
	fmt.Println()
	for _, f := range files {
		fmt.Println("wrote", f)
	}
	return nil
}
