package common_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// policyProgram registers a queue policy whose document names the inputs
// "first" and "second" (arn), and reads the input called read too when set.
func policyProgram(arn pulumi.StringInput, read string) common.Program {
	return func(ctx *pulumi.Context) (common.Outputs, error) {
		_, err := sqs.NewQueuePolicy(ctx, "policy", &sqs.QueuePolicyArgs{
			QueueUrl: pulumi.String("https://sqs.us-east-1.amazonaws.com/123456789012/q"),
			Policy: common.PolicyJSON(func(in *common.PolicyInputs) common.Policy {
				resources := []string{in.Get("first"), in.Get("second")}
				if read != "" {
					resources = append(resources, in.Get(read))
				}
				return common.Policy{Statement: []common.Statement{{Effect: "Deny", Action: []string{"sqs:*"}, Resource: resources}}}
			}, pulumi.StringMap{"first": pulumi.String("arn:aws:sqs:us-east-1:123456789012:first"), "second": arn}),
		})
		return common.Outputs{}, err
	}
}

func TestPolicyJSONRendersResolvedInputs(t *testing.T) {
	res, err := synthrec.Run(policyProgram(pulumi.String("arn:aws:sqs:us-east-1:123456789012:second"), ""), synthrec.Options{Project: "p"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := res.Get("aws:sqs/queuePolicy:QueuePolicy", "policy")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sqs:*"],` +
		`"Resource":["arn:aws:sqs:us-east-1:123456789012:first","arn:aws:sqs:us-east-1:123456789012:second"]}]}`
	if got := r.Inputs["policy"]; got != want {
		t.Errorf("policy = %v\nwant %s", got, want)
	}
}

// An input that resolves to "" must fail the program rather than put ""
// into the document.
func TestPolicyJSONFailsOnAnEmptyInput(t *testing.T) {
	empty := pulumi.String("x").ToStringOutput().ApplyT(func(string) string { return "" }).(pulumi.StringOutput)
	for name, in := range map[string]pulumi.StringInput{"literal": pulumi.String(""), "resolved output": empty} {
		t.Run(name, func(t *testing.T) {
			_, err := synthrec.Run(policyProgram(in, ""), synthrec.Options{Project: "p"})
			if err == nil || !strings.Contains(err.Error(), `policy document: input "second"`) {
				t.Errorf("err = %v, want the policy document's input \"second\" named", err)
			}
		})
	}
}

// Reading an input the document was not given fails the program too.
func TestPolicyJSONFailsOnAnUnknownInput(t *testing.T) {
	_, err := synthrec.Run(policyProgram(pulumi.String("arn:aws:sqs:us-east-1:123456789012:second"), "third"), synthrec.Options{Project: "p"})
	if err == nil || !strings.Contains(err.Error(), "no input named third") {
		t.Errorf("err = %v, want the unknown input third named", err)
	}
}
