package provision

import (
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/synthfile"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

func TestEveryTypeOfTheSynthIsClassified(t *testing.T) {
	p, err := synthread.Load("../../testdata/synth")
	if err != nil {
		t.Fatal(err)
	}
	skipped, err := Check(p)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(skipped, "\n")
	for _, typ := range []string{"aws:iam/role:Role", "aws:cloudwatch/logGroup:LogGroup", "aws:apigateway/deployment:Deployment"} {
		if !strings.Contains(joined, typ+": ") {
			t.Errorf("%s is not listed as skipped with a reason:\n%s", typ, joined)
		}
	}
}

func TestUnknownTypeFailsLoudly(t *testing.T) {
	p := &synthread.Plan{Stacks: []*synthread.Stack{{Layer: "storage", Resources: []*synthread.Resource{
		{Resource: synthfile.Resource{URN: "urn:x", Type: "aws:kinesis/stream:Stream", Name: "s"}, Layer: "storage"},
	}}}}
	_, err := Check(p)
	if err == nil || !strings.Contains(err.Error(), "aws:kinesis/stream:Stream") || !strings.Contains(err.Error(), "kinds.go") {
		t.Fatalf("error %v, want one naming the type and where to classify it", err)
	}
}

func TestUnknownPropertyFailsLoudly(t *testing.T) {
	r := &synthread.Resource{Resource: synthfile.Resource{Type: "aws:sqs/queue:Queue", Name: "q",
		Inputs: map[string]any{"name": "q", "tags": map[string]any{}, "fifoThroughputLimit": "perQueue"}}}
	err := known(r, "name")
	if err == nil || !strings.Contains(err.Error(), "fifoThroughputLimit") {
		t.Fatalf("error %v, want one naming the property", err)
	}
	if err := known(r, "name", "fifoThroughputLimit"); err != nil {
		t.Fatalf("handled properties refused: %v", err)
	}
}
