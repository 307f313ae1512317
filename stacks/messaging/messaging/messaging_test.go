package messaging

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

// Resource types of the layer.
const (
	typeQueue        = "aws:sqs/queue:Queue"
	typeQueuePolicy  = "aws:sqs/queuePolicy:QueuePolicy"
	typeRedriveAllow = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
	typeEventBus     = "aws:cloudwatch/eventBus:EventBus"
)

// taggable says for every resource type of the layer whether AWS lets it carry
// tags. Queue policies and redrive allow policies are attributes of a queue.
var taggable = map[string]bool{
	typeQueue:        true,
	typeEventBus:     true,
	typeQueuePolicy:  false,
	typeRedriveAllow: false,
}

// Values of the "dev" stack (account 123456789012 and us-east-1 come from the mocks).
const (
	queueArn  = "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"
	queueURL  = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingQueue-dev"
	dlqArn    = "arn:aws:sqs:us-east-1:123456789012:ProcessingDLQ-dev"
	dlqURL    = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingDLQ-dev"
	scheduleR = "arn:aws:events:us-east-1:123456789012:rule/AggregatorSchedule-dev"
	eventsR   = "arn:aws:events:us-east-1:123456789012:rule/MarketDataEvents-dev/AggregatorOnWindows-dev"
)

func run(t *testing.T, stack string, config map[string]string) *mocks.Result {
	t.Helper()
	res, err := mocks.Run(Program, mocks.Options{Project: naming.ProjectMessaging, Stack: stack, Config: config})
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return res
}

func get(t *testing.T, res *mocks.Result, typ, name string) mocks.Resource {
	t.Helper()
	r, err := res.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// assertJSON compares got (decoded JSON data) with want (JSON text) exactly:
// a property that is missing, extra or different fails.
func assertJSON(t *testing.T, what string, got interface{}, want string) {
	t.Helper()
	var w interface{}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		e, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, e)
	}
}

// jsonInput decodes a resource input that holds a JSON document.
func jsonInput(t *testing.T, r mocks.Resource, key string) interface{} {
	t.Helper()
	s, ok := r.Inputs[key].(string)
	if !ok {
		t.Fatalf("%s %s: input %s is %T, want a JSON string", r.Type, r.Name, key, r.Inputs[key])
	}
	var v interface{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s %s: input %s is not JSON: %v\n%s", r.Type, r.Name, key, err, s)
	}
	return v
}

func TestResourcesRegistered(t *testing.T) {
	res := run(t, "dev", nil)
	var got []string
	for _, r := range res.Resources {
		got = append(got, r.Type+"::"+r.Name)
	}
	sort.Strings(got)
	want := []string{
		typeEventBus + "::event-bus",
		typeQueue + "::dead-letter-queue",
		typeQueue + "::processing-queue",
		typeQueuePolicy + "::dead-letter-queue-policy",
		typeQueuePolicy + "::processing-queue-policy",
		typeRedriveAllow + "::dead-letter-queue-redrive-allow",
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resources:\n got %v\nwant %v", got, want)
	}
}

func TestProcessingQueue(t *testing.T) {
	res := run(t, "dev", nil)
	q := get(t, res, typeQueue, "processing-queue")
	inputs := map[string]interface{}{}
	for k, v := range q.Inputs {
		inputs[k] = v
	}
	inputs["redrivePolicy"] = jsonInput(t, q, "redrivePolicy")
	// 4-day retention, 300 s visibility (the processor's timeout x 6 must fit
	// in it), 1 MiB messages, long polling, SQS-managed SSE, and a redrive to
	// the DLQ after 3 receives.
	assertJSON(t, "processing queue inputs", inputs, `{
		"name": "ProcessingQueue-dev",
		"messageRetentionSeconds": 345600,
		"visibilityTimeoutSeconds": 300,
		"maxMessageSize": 1048576,
		"receiveWaitTimeSeconds": 20,
		"sqsManagedSseEnabled": true,
		"redrivePolicy": {"deadLetterTargetArn": "`+dlqArn+`", "maxReceiveCount": 3},
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
	if dlq := get(t, res, typeQueue, "dead-letter-queue"); !q.DependsOn(dlq) {
		t.Errorf("processing queue does not depend on the DLQ: %v", q.Dependencies)
	}
}

func TestDeadLetterQueue(t *testing.T) {
	res := run(t, "dev", nil)
	// 14-day retention, SSE, and room for any message the processing queue
	// redrives to it.
	assertJSON(t, "DLQ inputs", get(t, res, typeQueue, "dead-letter-queue").Inputs, `{
		"name": "ProcessingDLQ-dev",
		"messageRetentionSeconds": 1209600,
		"maxMessageSize": 1048576,
		"sqsManagedSseEnabled": true,
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
}

func TestDeadLetterQueueAcceptsRedriveFromTheProcessingQueueOnly(t *testing.T) {
	res := run(t, "dev", nil)
	r := get(t, res, typeRedriveAllow, "dead-letter-queue-redrive-allow")
	if got := r.Inputs["queueUrl"]; got != dlqURL {
		t.Errorf("redrive allow policy queueUrl = %v, want the DLQ %s", got, dlqURL)
	}
	assertJSON(t, "redrive allow policy", jsonInput(t, r, "redriveAllowPolicy"),
		`{"redrivePermission": "byQueue", "sourceQueueArns": ["`+queueArn+`"]}`)
	if len(r.Inputs) != 2 {
		t.Errorf("redrive allow policy inputs %v, want queueUrl and redriveAllowPolicy only", r.Inputs)
	}
}

// assertPolicy parses doc and compares it, statement by statement, with want.
func assertPolicy(t *testing.T, what, doc string, want common.Policy) {
	t.Helper()
	var got common.Policy
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, doc)
	}
	// Round-trip the expectation so that both sides hold JSON types.
	b, _ := json.Marshal(want)
	want = common.Policy{}
	_ = json.Unmarshal(b, &want)
	if got.Version != common.PolicyVersion {
		t.Errorf("%s Version = %q, want %q", what, got.Version, common.PolicyVersion)
	}
	if len(got.Statement) != len(want.Statement) {
		t.Errorf("%s has %d statements, want %d:\n%s", what, len(got.Statement), len(want.Statement), doc)
	}
	for i := range want.Statement {
		if i >= len(got.Statement) {
			break
		}
		if !reflect.DeepEqual(got.Statement[i], want.Statement[i]) {
			g, _ := json.Marshal(got.Statement[i])
			w, _ := json.Marshal(want.Statement[i])
			t.Errorf("%s statement %d:\n got %s\nwant %s", what, i, g, w)
		}
	}
}

func denyInsecure(arn string) common.Statement {
	return common.Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]interface{}{"AWS": "*"},
		Action:    []string{"sqs:*"},
		Resource:  []string{arn},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}
}

func TestProcessingQueuePolicy(t *testing.T) {
	res := run(t, "dev", nil)
	r := get(t, res, typeQueuePolicy, "processing-queue-policy")
	if got := r.Inputs["queueUrl"]; got != queueURL {
		t.Errorf("queueUrl = %v, want %s", got, queueURL)
	}
	doc, _ := r.Inputs["policy"].(string)
	assertPolicy(t, "processing queue policy", doc, common.Policy{Statement: []common.Statement{denyInsecure(queueArn)}})
}

func TestDeadLetterQueuePolicy(t *testing.T) {
	res := run(t, "dev", nil)
	r := get(t, res, typeQueuePolicy, "dead-letter-queue-policy")
	if got := r.Inputs["queueUrl"]; got != dlqURL {
		t.Errorf("queueUrl = %v, want %s", got, dlqURL)
	}
	doc, _ := r.Inputs["policy"].(string)
	// EventBridge may send exactly the two aggregator rules' undeliverable
	// events; nothing may use the queue without TLS.
	assertPolicy(t, "DLQ policy", doc, common.Policy{Statement: []common.Statement{
		{
			Sid:       "AllowEventBridgeRuleDeadLetters",
			Effect:    "Allow",
			Principal: map[string]interface{}{"Service": "events.amazonaws.com"},
			Action:    []string{"sqs:SendMessage"},
			Resource:  []string{dlqArn},
			Condition: map[string]map[string]interface{}{"ArnEquals": {"aws:SourceArn": []string{scheduleR, eventsR}}},
		},
		denyInsecure(dlqArn),
	}})
	// The rule ARNs are the ones the compute layer's rules will have.
	n := naming.MustNew("dev")
	if n.ScheduleRuleARN(mocks.Account) != scheduleR || n.EventsRuleARN(mocks.Account) != eventsR {
		t.Errorf("rule ARNs drifted from shared/naming: %s, %s", n.ScheduleRuleARN(mocks.Account), n.EventsRuleARN(mocks.Account))
	}
	if redrive := get(t, res, typeRedriveAllow, "dead-letter-queue-redrive-allow"); !r.DependsOn(redrive) {
		t.Errorf("DLQ policy does not wait for the redrive allow policy: %v", r.Dependencies)
	}
}

func TestEventBus(t *testing.T) {
	res := run(t, "dev", nil)
	assertJSON(t, "event bus inputs", get(t, res, typeEventBus, "event-bus").Inputs, `{
		"name": "MarketDataEvents-dev",
		"description": "Market-data pipeline: events of the processor about changed aggregation windows",
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
}

func TestEveryTaggableResourceHasBothTags(t *testing.T) {
	res := run(t, "dev", nil)
	want := map[string]interface{}{"Environment": "Production", "Project": "MarketAnalytics"}
	for _, r := range res.Resources {
		tagged, known := taggable[r.Type]
		if !known {
			t.Errorf("%s %s: resource type not classified as taggable or not", r.Type, r.Name)
			continue
		}
		tags, hasTags := r.Inputs["tags"]
		switch {
		case tagged && !reflect.DeepEqual(tags, want):
			t.Errorf("%s %s tags = %v, want %v", r.Type, r.Name, tags, want)
		case !tagged && hasTags:
			t.Errorf("%s %s is listed as not taggable but has tags %v", r.Type, r.Name, tags)
		}
	}
}

func TestNothingIsProtectedOrRetained(t *testing.T) {
	res := run(t, "dev", nil)
	for _, r := range res.Resources {
		if r.Protect || r.RetainOnDelete {
			t.Errorf("%s %s: protect=%v retainOnDelete=%v; every resource must destroy with the stack",
				r.Type, r.Name, r.Protect, r.RetainOnDelete)
		}
	}
}

func TestOutputs(t *testing.T) {
	res := run(t, "dev", nil)
	want := map[string]interface{}{
		outputs.QueueURL:     queueURL,
		outputs.QueueArn:     queueArn,
		outputs.DLQURL:       dlqURL,
		outputs.DLQArn:       dlqArn,
		outputs.EventBusName: "MarketDataEvents-dev",
		outputs.EventBusArn:  "arn:aws:events:us-east-1:123456789012:event-bus/MarketDataEvents-dev",
	}
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Errorf("outputs:\n got %v\nwant %v", res.Outputs, want)
	}
}

func TestEnvironmentSuffix(t *testing.T) {
	long := "Feature-Branch-With-A-Really-Long-Name-2026"
	longSfx := naming.MustNew(long).Suffix()
	tests := []struct {
		name, stack, override string
		sfx                   string
	}{
		{"the stack name by default", "dev", "", "dev"},
		{"environmentSuffix overrides the stack name", "dev", "pr-42", "pr-42"},
		{"upper case is kept", "Prod", "", "Prod"},
		{"symbols become dashes", "team_a.staging", "", "team-a-staging"},
		{"long names are shortened with a hash", long, "", longSfx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var config map[string]string
			if tt.override != "" {
				config = map[string]string{naming.ProjectMessaging + ":" + common.ConfigEnvironmentSuffix: tt.override}
			}
			res := run(t, tt.stack, config)
			for logical, want := range map[string]string{
				"processing-queue":  "ProcessingQueue-" + tt.sfx,
				"dead-letter-queue": "ProcessingDLQ-" + tt.sfx,
			} {
				if got := get(t, res, typeQueue, logical).Inputs["name"]; got != want {
					t.Errorf("%s name = %v, want %v", logical, got, want)
				}
			}
			if got, want := get(t, res, typeEventBus, "event-bus").Inputs["name"], "MarketDataEvents-"+tt.sfx; got != want {
				t.Errorf("event bus name = %v, want %v", got, want)
			}
			// The DLQ policy names the rules of the same suffix.
			doc, _ := get(t, res, typeQueuePolicy, "dead-letter-queue-policy").Inputs["policy"].(string)
			for _, rule := range []string{"rule/AggregatorSchedule-" + tt.sfx + `"`, "rule/MarketDataEvents-" + tt.sfx + "/AggregatorOnWindows-" + tt.sfx + `"`} {
				if !strings.Contains(doc, rule) {
					t.Errorf("DLQ policy lacks %s:\n%s", rule, doc)
				}
			}
		})
	}
	if len(longSfx) > naming.MaxSuffixLen {
		t.Errorf("long suffix %q was not shortened", longSfx)
	}
}

func TestInvalidEnvironmentSuffixFails(t *testing.T) {
	_, err := mocks.Run(Program, mocks.Options{Project: naming.ProjectMessaging, Stack: "dev",
		Config: map[string]string{naming.ProjectMessaging + ":" + common.ConfigEnvironmentSuffix: "__"}})
	if err == nil || !strings.Contains(err.Error(), common.ConfigEnvironmentSuffix) {
		t.Errorf("err = %v, want an error naming %s", err, common.ConfigEnvironmentSuffix)
	}
}

// TestProjectFile checks Pulumi.yaml against Pulumi's own project schema and
// validation, and that it declares the config the program reads.
func TestProjectFile(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if proj.Name.String() != naming.ProjectMessaging {
		t.Errorf("project name = %q, want %q", proj.Name, naming.ProjectMessaging)
	}
	if proj.Runtime.Name() != "go" {
		t.Errorf("runtime = %q, want go", proj.Runtime.Name())
	}
	if proj.Description == nil || *proj.Description == "" {
		t.Error("project has no description")
	}
	sfx, ok := proj.Config[common.ConfigEnvironmentSuffix]
	if !ok {
		t.Fatalf("config %s is not declared", common.ConfigEnvironmentSuffix)
	}
	// A typed key without a default is required by the CLI; the empty default
	// means "use the stack name".
	typ := "<none>"
	if sfx.Type != nil {
		typ = *sfx.Type
	}
	if typ != "string" || sfx.Default != "" || sfx.Description == "" {
		t.Errorf("config %s: type %s, default %#v, description %q; want a described string with default \"\"",
			common.ConfigEnvironmentSuffix, typ, sfx.Default, sfx.Description)
	}
	if region := proj.Config["aws:region"]; region.Value != naming.Region {
		t.Errorf("aws:region = %v, want %s", region.Value, naming.Region)
	}
	if len(proj.Config) != 2 {
		t.Errorf("config declares %d keys, want environmentSuffix and aws:region only", len(proj.Config))
	}
}

// otherRegion is a mock monitor whose provider targets eu-west-1.
type otherRegion struct{}

func (otherRegion) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

func (otherRegion) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]interface{}{"name": "eu-west-1", "id": "eu-west-1"}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]interface{}{"accountId": mocks.Account}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

func TestOtherRegionFails(t *testing.T) {
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := Program(ctx)
		return err
	}, pulumi.WithMocks(naming.ProjectMessaging, "dev", otherRegion{}))
	if err == nil || !strings.Contains(err.Error(), "eu-west-1") || !strings.Contains(err.Error(), naming.Region) {
		t.Errorf("err = %v, want an error naming eu-west-1 and %s", err, naming.Region)
	}
}
