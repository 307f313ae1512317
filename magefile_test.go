//go:build mage

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The repository's workflows pass actionlint, and a broken one fails it: an
// unknown job key, an undefined context property and a step with both uses
// and run.
func TestLintWorkflows(t *testing.T) {
	if err := lintWorkflows(workflowDir); err != nil {
		t.Fatalf("the repository's workflows: %v", err)
	}
	dir := t.TempDir()
	broken := `name: broken
on: [pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    timeout: 10
    steps:
      - uses: actions/checkout@v4
        run: echo ${{ github.no_such_property }}
`
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lintWorkflows(dir); err == nil {
		t.Fatal("actionlint accepted a broken workflow")
	}
	if err := lintWorkflows(t.TempDir()); err == nil {
		t.Fatal("no workflow: no error")
	}
}
