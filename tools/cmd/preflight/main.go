// Command preflight runs the read-only checks of a deployment with the
// caller's AWS credentials and Pulumi CLI, and prints PASS / WARN / FAIL
// with the fix for each; it exits 1 when a check failed. Run it from the
// repository root through `go run mage.go preflight` (STACK, LAYER).
//
// What the stacks would deploy is read from a synth of the user's own
// stack config: the set values of each layer's `pulumi config` are handed
// to tools/synth, whose output the checks read (internal/preflight.Plan).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/deploydiag"
	"github.com/marketanalytics/pipeline/tools/internal/preflight"
)

func main() {
	stack := flag.String("stack", "dev", "Pulumi stack name")
	layer := flag.String("layer", "", "the one layer about to be previewed or deployed alone (storage, messaging, compute, api); empty: all")
	buildDir := flag.String("build-dir", "build", "directory holding the function packages (mage build)")
	out := flag.String("out", filepath.Join("build", "preflight", "synth"), "where the synth of the stack config is written")
	endpoint := flag.String("endpoint", "", "AWS endpoint for every service (moto); empty: AWS")
	flag.Parse()
	if *layer != "" && !slices.Contains(naming.Layers, *layer) {
		fmt.Fprintf(os.Stderr, "preflight: unknown layer %q (want one of %s)\n", *layer, strings.Join(naming.Layers, ", "))
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ok, err := run(ctx, *stack, *layer, *buildDir, *out, *endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "preflight:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Println("\npreflight FAILED: fix the FAIL lines above, then run it again (go run mage.go preflight).")
		os.Exit(1)
	}
	fmt.Println("\npreflight passed.")
}

func run(ctx context.Context, stack, layer, buildDir, out, endpoint string) (bool, error) {
	cli := deploydiag.CLI{Exe: "pulumi", LayerDir: func(l string) string { return filepath.Join("stacks", l) }}
	cfg := stackConfig(ctx, cli, stack)
	if err := synth(ctx, stack, buildDir, out, cfg); err != nil {
		return false, fmt.Errorf("the stacks' programs refuse this stack's config: %w", err)
	}
	plan, err := preflight.LoadPlan(out)
	if err != nil {
		return false, err
	}
	c := preflight.Checker{Stack: stack, Layer: layer, Plan: plan, Pulumi: cli}
	c.AWS, c.Region, err = preflight.NewAWS(ctx, endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "preflight: AWS configuration:", err)
	}
	fmt.Printf("preflight of stack %s (bucket %s, %d functions)\n\n", stack, plan.Bucket, len(plan.Functions))
	rs := c.Run(ctx)
	if err := rs.Print(os.Stdout); err != nil {
		return false, err
	}
	return !rs.Failed(), nil
}

// stackConfig collects the values set in each layer's stack, when the CLI
// and the stack exist (otherwise the defaults apply, as on a first deploy).
// The stack references and buildDir are left out: the synth wires the
// layers itself and finds the packages in buildDir, and neither changes
// what a check reads.
func stackConfig(ctx context.Context, cli deploydiag.CLI, stack string) map[string]string {
	cfg := map[string]string{}
	if _, err := cli.Version(ctx); err != nil {
		return cfg
	}
	for _, l := range naming.Layers {
		info, err := cli.Stack(ctx, l, stack)
		if err != nil || !info.Exists {
			continue
		}
		set, err := cli.Config(ctx, l, stack)
		if err != nil {
			fmt.Fprintf(os.Stderr, "preflight: %s: %v (its defaults are checked)\n", l, err)
			continue
		}
		for k, v := range set {
			if _, key, _ := strings.Cut(k, ":"); key == "buildDir" || strings.HasSuffix(key, "Stack") {
				continue
			}
			cfg[k] = v
		}
	}
	return cfg
}

// synth runs tools/synth for the stack with cfg into out.
func synth(ctx context.Context, stack, buildDir, out string, cfg map[string]string) error {
	args := []string{"run", "./tools/synth", "-stack", stack, "-build-dir", buildDir, "-out", out}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-config", k+"="+cfg[k])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// The synth's own summary is not the preflight's output.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return nil
}
