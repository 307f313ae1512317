// Package common is what the four Pulumi programs of the pipeline share: the
// program signature, tags, environment-suffix config, StackReferences to the
// layer below, and IAM policy documents. Names, output keys and limits come
// from the shared module; this package adds only the Pulumi side.
package common

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// Outputs are a program's stack outputs, keyed by the names in shared/outputs.
type Outputs map[string]pulumi.Input

// Program is a layer's Pulumi program. It returns its stack outputs instead of
// exporting them, so tests and the offline synth can read them under mocks
// (the mock monitor does not see exports).
type Program func(ctx *pulumi.Context) (Outputs, error)

// RunFunc adapts a Program to pulumi.Run: it runs the program and exports its
// outputs in a stable order.
func RunFunc(p Program) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		outs, err := p(ctx)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(outs))
		for k := range outs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ctx.Export(k, outs[k])
		}
		return nil
	}
}

// Tags returns the tags every taggable resource carries, set explicitly on
// each resource (provider default tags are not seen by mocks or transforms).
func Tags() pulumi.StringMap {
	return pulumi.ToStringMap(naming.Tags())
}

// ConfigEnvironmentSuffix is the project config key overriding the suffix.
const ConfigEnvironmentSuffix = "environmentSuffix"

// Names returns the resource names for this stack: the environment suffix is
// the config value environmentSuffix, or else the stack name, sanitized.
func Names(ctx *pulumi.Context) (naming.Names, error) {
	raw := config.New(ctx, "").Get(ConfigEnvironmentSuffix)
	if raw == "" {
		raw = ctx.Stack()
	}
	n, err := naming.New(raw)
	if err != nil {
		return naming.Names{}, fmt.Errorf("config %s: %w", ConfigEnvironmentSuffix, err)
	}
	return n, nil
}
