package common

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyVersion is the IAM policy language version.
const PolicyVersion = "2012-10-17"

// Policy is an IAM policy document. Tests unmarshal the rendered JSON back
// into it to assert every statement.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid         string                            `json:"Sid,omitempty"`
	Effect      string                            `json:"Effect"`
	Principal   map[string]interface{}            `json:"Principal,omitempty"`
	Action      []string                          `json:"Action,omitempty"`
	NotAction   []string                          `json:"NotAction,omitempty"`
	Resource    []string                          `json:"Resource,omitempty"`
	NotResource []string                          `json:"NotResource,omitempty"`
	Condition   map[string]map[string]interface{} `json:"Condition,omitempty"`
}

// JSON renders the policy with PolicyVersion.
func (p Policy) JSON() (string, error) {
	p.Version = PolicyVersion
	b, err := json.Marshal(p)
	return string(b), err
}

// PolicyInputs are the resolved inputs of a policy document, by name.
type PolicyInputs struct {
	vals    map[string]string
	unknown []string
}

// Get returns the resolved input called name. A name the document was not
// given is recorded, and fails the document (never a silent "").
func (in *PolicyInputs) Get(name string) string {
	v, ok := in.vals[name]
	if !ok {
		in.unknown = append(in.unknown, name)
	}
	return v
}

// PolicyJSON renders a policy whose statements need resolved outputs (ARNs):
// build reads each of inputs by its name. Names, not positions, so adding an
// input cannot shift the others. An input that resolves to "", or a name
// build reads but inputs lacks, fails the output, and so the registration of
// the resource that takes the document: a policy naming "" would grant on,
// or deny, the wrong resource.
func PolicyJSON(build func(in *PolicyInputs) Policy, inputs pulumi.StringMap) pulumi.StringOutput {
	return inputs.ToStringMapOutput().ApplyT(func(vals map[string]string) (string, error) {
		for _, name := range slices.Sorted(maps.Keys(vals)) {
			if vals[name] == "" {
				return "", fmt.Errorf("policy document: input %q resolved to \"\", want a non-empty string", name)
			}
		}
		in := &PolicyInputs{vals: vals}
		p := build(in)
		if len(in.unknown) > 0 {
			return "", fmt.Errorf("policy document: no input named %s", strings.Join(in.unknown, ", "))
		}
		return p.JSON()
	}).(pulumi.StringOutput)
}
