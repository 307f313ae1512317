// Package synthwrite runs the four layers' Pulumi programs offline, in deploy
// order, under the recording mocks: each layer's StackReferences are answered
// with the outputs the layer below produced. The result is the reviewable
// "plan" of the whole pipeline, written as build/synth/<layer>.json in the
// format of shared/synthfile.
package synthwrite

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/synthfile"
	"github.com/marketanalytics/pipeline/stacks/api/api"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
	"github.com/marketanalytics/pipeline/stacks/compute/compute"
	"github.com/marketanalytics/pipeline/stacks/messaging/messaging"
	"github.com/marketanalytics/pipeline/stacks/storage/storage"
)

// Organization is the Pulumi organization the synth pretends to deploy in.
const Organization = "organization"

// Layer is one Pulumi project of the pipeline.
type Layer struct {
	Name    string // directory under stacks/ and file name under build/synth/
	Project string
	Program common.Program
}

// Layers are the four layers in deploy order.
var Layers = []Layer{
	{"storage", naming.ProjectStorage, storage.Program},
	{"messaging", naming.ProjectMessaging, messaging.Program},
	{"compute", naming.ProjectCompute, compute.Program},
	{"api", naming.ProjectAPI, api.Program},
}

// Options configure a synth run.
type Options struct {
	Stack string // Pulumi stack name (the default environment suffix)
	// Config is extra stack config ("<project>:<key>" → value), applied to
	// every layer; compute's buildDir is set from BuildDir unless given.
	Config   map[string]string
	BuildDir string // where `mage build` put the function packages
	// Root, when set, is cut from every absolute path in the plan (the
	// function packages' paths), so the plan reads the same on every machine.
	Root string
}

// Run synthesizes every layer in deploy order.
func Run(opts Options) ([]*synthrec.Result, error) {
	outputs := map[string]map[string]interface{}{}
	var results []*synthrec.Result
	for _, l := range Layers {
		cfg := map[string]string{"aws:region": naming.Region}
		if opts.BuildDir != "" {
			cfg[naming.ProjectCompute+":buildDir"] = opts.BuildDir
		}
		for k, v := range opts.Config {
			cfg[k] = v
		}
		res, err := synthrec.Run(l.Program, synthrec.Options{
			Organization: Organization, Project: l.Project, Stack: opts.Stack,
			Config: cfg, StackOutputs: outputs,
		})
		if err != nil {
			return nil, fmt.Errorf("synth %s: %w", l.Name, err)
		}
		sort.Slice(res.Resources, func(i, j int) bool { return res.Resources[i].URN < res.Resources[j].URN })
		if opts.Root != "" {
			for i := range res.Resources {
				relativize(res.Resources[i].Inputs, opts.Root)
				relativize(res.Resources[i].Outputs, opts.Root)
			}
		}
		outputs[fmt.Sprintf("%s/%s/%s", Organization, l.Project, res.Stack)] = res.Outputs
		results = append(results, res)
	}
	return results, nil
}

// Write writes each result as <dir>/<layer>.json (indented, keys sorted).
func Write(dir string, results []*synthrec.Result) ([]string, error) {
	var files []string
	for i, res := range results {
		f, err := synthfile.Write(dir, Layers[i].Name, File(res))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// File is the recording of one layer in the synth file's format.
func File(res *synthrec.Result) synthfile.Stack {
	// synthrec.Resource is synthfile.Resource: the resources need no copy.
	return synthfile.Stack{Project: res.Project, Stack: res.Stack, Resources: res.Resources, Outputs: res.Outputs}
}

// Summarize prints, per layer, the resource count by type and the outputs.
func Summarize(w io.Writer, results []*synthrec.Result) error {
	for i, res := range results {
		fmt.Fprintf(w, "\n== %s (%s, stack %s): %d resources\n", Layers[i].Name, res.Project, res.Stack, len(res.Resources))
		counts := map[string]int{}
		for _, r := range res.Resources {
			counts[r.Type]++
		}
		types := make([]string, 0, len(counts))
		for t := range counts {
			types = append(types, t)
		}
		sort.Strings(types)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range types {
			fmt.Fprintf(tw, "  %s\t%d\n", t, counts[t])
		}
		keys := make([]string, 0, len(res.Outputs))
		for k := range res.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(tw, "  outputs:\t")
		for _, k := range keys {
			fmt.Fprintf(tw, "    %s\t%v\n", k, res.Outputs[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// relativize rewrites, in place, every string under root into a path
// relative to root.
func relativize(v interface{}, root string) interface{} {
	switch x := v.(type) {
	case string:
		if rel, err := filepath.Rel(root, x); err == nil && filepath.IsAbs(x) && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	case map[string]interface{}:
		for k, e := range x {
			x[k] = relativize(e, root)
		}
	case []interface{}:
		for i, e := range x {
			x[i] = relativize(e, root)
		}
	}
	return v
}
