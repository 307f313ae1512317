package common

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Config keys naming the StackReferences of the upper layers, and the layer
// projects they default to.
const (
	ConfigStorageStack   = "storageStack"
	ConfigMessagingStack = "messagingStack"
	ConfigComputeStack   = "computeStack"
)

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
