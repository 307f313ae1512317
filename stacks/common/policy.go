package common

import (
	"encoding/json"

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
// build receives the resolved strings in the order given.
func PolicyJSON(build func(v []string) Policy, inputs ...pulumi.StringInput) pulumi.StringOutput {
	args := make([]interface{}, len(inputs))
	for i, in := range inputs {
		args[i] = in
	}
	return pulumi.All(args...).ApplyT(func(vs []interface{}) (string, error) {
		ss := make([]string, len(vs))
		for i, v := range vs {
			ss[i], _ = v.(string)
		}
		return build(ss).JSON()
	}).(pulumi.StringOutput)
}
