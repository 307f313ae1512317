package common

import (
	"encoding/json"
	"fmt"

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

// PolicyJSON renders a policy whose statements need resolved outputs (ARNs):
// build receives the resolved strings in the order given. An input that
// resolves to anything but a non-empty string fails the output, and so the
// registration of the resource that takes the document: a policy naming ""
// would grant on, or deny, the wrong resource.
func PolicyJSON(build func(v []string) Policy, inputs ...pulumi.StringInput) pulumi.StringOutput {
	args := make([]interface{}, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	return pulumi.All(args...).ApplyT(func(vs []interface{}) (string, error) {
		ss := make([]string, len(vs))
		for i, v := range vs {
			s, ok := v.(string)
			if !ok || s == "" {
				return "", fmt.Errorf("policy document: input %d of %d resolved to %#v, want a non-empty string", i+1, len(vs), v)
			}
			ss[i] = s
		}
		return build(ss).JSON()
	}).(pulumi.StringOutput)
}
