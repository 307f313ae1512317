package compute

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// fakeBuild writes a deployment zip (holding a "bootstrap") for every service
// into a temporary build directory and returns it.
func fakeBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, svc := range naming.Services {
		path := naming.ArtifactZip(dir, svc)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, err := zw.Create("bootstrap")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// options runs the compute program for stack with a fake build, the lower
// layers at their default stack names and the given extra config (keys
// without namespace; a buildDir there replaces the fake build).
func options(t *testing.T, stack string, cfg map[string]string) synthrec.Options {
	t.Helper()
	config := map[string]string{ConfigBuildDir: fakeBuild(t)}
	for k, v := range cfg {
		config[k] = v
	}
	return stacktest.Options(t, naming.ProjectCompute, stack, config, naming.ProjectStorage, naming.ProjectMessaging)
}

// runDev runs the program for stack "dev" with default config.
func runDev(t *testing.T) *synthrec.Result {
	t.Helper()
	return stacktest.Run(t, Program, options(t, "dev", nil))
}
