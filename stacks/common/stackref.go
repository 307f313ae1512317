package common

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
)

// Config keys naming the StackReferences of the upper layers, and the layer
// projects they default to.
const (
	ConfigStorageStack   = "storageStack"
	ConfigMessagingStack = "messagingStack"
	ConfigComputeStack   = "computeStack"
)

// stackConfigKeys maps each lower layer's project to the config key that
// names its stack in the layers above.
var stackConfigKeys = map[string]string{
	naming.ProjectStorage:   ConfigStorageStack,
	naming.ProjectMessaging: ConfigMessagingStack,
	naming.ProjectCompute:   ConfigComputeStack,
}

// ReferenceLowerLayers references the stack of each project, in order, by
// the project's config key (see ReferenceLayer), and requires that each was
// deployed with n's suffix (see RequireSuffix): the preamble of every layer
// above storage.
func ReferenceLowerLayers(ctx *pulumi.Context, n naming.Names, projects ...string) ([]*Layer, error) {
	layers := make([]*Layer, len(projects))
	for i, project := range projects {
		key, ok := stackConfigKeys[project]
		if !ok {
			return nil, fmt.Errorf("project %q is not a lower layer", project)
		}
		l, err := ReferenceLayer(ctx, key, project)
		if err != nil {
			return nil, err
		}
		layers[i] = l
	}
	for _, l := range layers {
		if err := l.RequireSuffix(n); err != nil {
			return nil, err
		}
	}
	return layers, nil
}

// Layer is a StackReference to a lower layer's stack.
type Layer struct {
	name string
	ref  *pulumi.StackReference
}

// ReferenceLayer references the stack of project, named by the config key
// (e.g. storageStack) or by default <org>/<project>/<this stack>, so a layer
// deploys against the lower layers of the same stack name.
func ReferenceLayer(ctx *pulumi.Context, configKey, project string) (*Layer, error) {
	name := config.New(ctx, "").Get(configKey)
	if name == "" {
		name = fmt.Sprintf("%s/%s/%s", ctx.Organization(), project, ctx.Stack())
	}
	ref, err := pulumi.NewStackReference(ctx, configKey, &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return nil, fmt.Errorf("stack reference %s: %w", name, err)
	}
	return &Layer{name: name, ref: ref}, nil
}

// Name is the fully qualified stack name referenced.
func (l *Layer) Name() string { return l.name }

// String is a required string output of the referenced stack. A missing or
// empty output fails the deployment with a message naming the stack and key,
// which is what happens when the lower layer was not deployed yet.
func (l *Layer) String(key string) pulumi.StringOutput {
	return l.ref.GetOutput(pulumi.String(key)).ApplyT(func(v interface{}) (string, error) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("stack %s has no output %q: deploy that layer first (or set the stack reference config)", l.name, key)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// RequireSuffix fails unless the referenced stack was deployed with the same
// environment suffix as this one (its output outputs.EnvironmentSuffix). The
// names of this layer's resources are plain strings computed from its own
// suffix (they must be known before anything deploys), so instead of taking
// the suffix from below, the layer checks it here, before registering any
// resource: a team that set another suffix in one layer gets both values, not
// a half-wired pipeline.
func (l *Layer) RequireSuffix(n naming.Names) error {
	d, err := l.ref.GetOutputDetails(outputs.EnvironmentSuffix)
	if err != nil {
		return fmt.Errorf("stack %s: reading output %q: %w", l.name, outputs.EnvironmentSuffix, err)
	}
	theirs, _ := d.Value.(string)
	if theirs == "" {
		return fmt.Errorf("stack %s has no output %q: deploy (or update) that layer first (or set the stack reference config)", l.name, outputs.EnvironmentSuffix)
	}
	if theirs != n.Suffix() {
		return fmt.Errorf("%s %q of this stack differs from %q of stack %s: set the same %s in every layer (or reference that environment's stacks)",
			ConfigEnvironmentSuffix, n.Suffix(), theirs, l.name, ConfigEnvironmentSuffix)
	}
	return nil
}
