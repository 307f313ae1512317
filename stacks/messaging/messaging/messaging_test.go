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

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
)

// Resource types of the layer. The queues are Cloud Control resources.
const (
	typeCloudControl = "aws:cloudcontrol/resource:Resource"
	typeQueuePolicy  = "aws:sqs/queuePolicy:QueuePolicy"
	typeEventBus     = "aws:cloudwatch/eventBus:EventBus"
)

// taggable says for every resource type of the layer whether AWS lets it carry
// tags. Queue policies are an attribute of a queue. Cloud Control resources
// carry their tags inside the desired state (see cloudControlTags).
var taggable = map[string]bool{
	typeCloudControl: true,
	typeEventBus:     true,
	typeQueuePolicy:  false,
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

// queueState returns the desired state of a queue (a Cloud Control
// AWS::SQS::Queue) as JSON data, after checking that the resource has exactly
// the inputs typeName and desiredState: no role, schema or type version.
func queueState(t *testing.T, res *mocks.Result, name string) map[string]interface{} {
	t.Helper()
	r := get(t, res, typeCloudControl, name)
	if got := r.Inputs["typeName"]; got != QueueType || QueueType != "AWS::SQS::Queue" {
		t.Errorf("%s typeName = %v, want AWS::SQS::Queue", name, got)
	}
	if len(r.Inputs) != 2 {
		t.Errorf("%s inputs %v, want typeName and desiredState only", name, r.Inputs)
	}
	state, ok := jsonInput(t, r, "desiredState").(map[string]interface{})
	if !ok {
		t.Fatalf("%s desiredState is not a JSON object: %v", name, r.Inputs["desiredState"])
	}
	return state
}

// reportedProperties returns the properties Cloud Control reported for a
// queue (its outputs in the mocks): the desired state, QueueUrl and Arn.
func reportedProperties(t *testing.T, res *mocks.Result, name string) QueueProperties {
	t.Helper()
	r := get(t, res, typeCloudControl, name)
	doc, _ := r.Outputs["properties"].(string)
	p, err := ParseQueueProperties(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
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
		typeCloudControl + "::dead-letter-queue",
		typeCloudControl + "::processing-queue",
		typeQueuePolicy + "::dead-letter-queue-policy",
		typeQueuePolicy + "::processing-queue-policy",
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resources:\n got %v\nwant %v", got, want)
	}
}

// tagsJSON is naming.Tags() as CloudFormation tags, sorted by key.
const tagsJSON = `[{"Key": "Environment", "Value": "Production"}, {"Key": "Project", "Value": "MarketAnalytics"}]`

func TestProcessingQueue(t *testing.T) {
	res := run(t, "dev", nil)
	state := queueState(t, res, "processing-queue")
	// 4-day retention, 300 s visibility (the processor's timeout x 6 must fit
	// in it), 1 MiB messages, long polling, SQS-managed SSE, a redrive to the
	// DLQ after 3 receives, and both tags, in CloudFormation's property names.
	assertJSON(t, "processing queue desired state", state, `{
		"QueueName": "ProcessingQueue-dev",
		"MessageRetentionPeriod": 345600,
		"VisibilityTimeout": 300,
		"MaximumMessageSize": 1048576,
		"ReceiveMessageWaitTimeSeconds": 20,
		"SqsManagedSseEnabled": true,
		"RedrivePolicy": {"deadLetterTargetArn": "`+dlqArn+`", "maxReceiveCount": 3},
		"Tags": `+tagsJSON+`
	}`)
	// Ingestion packs messages up to the shared limit; the queue must take them.
	if got := state["MaximumMessageSize"]; got != float64(limits.QueueMaxMessageBytes) {
		t.Errorf("MaximumMessageSize = %v, want limits.QueueMaxMessageBytes = %d", got, limits.QueueMaxMessageBytes)
	}
	// The redrive names the DLQ's ARN as Cloud Control reported it.
	if got := reportedProperties(t, res, "dead-letter-queue").Arn; got != dlqArn {
		t.Errorf("DLQ reported ARN = %s, want %s", got, dlqArn)
	}
	q, dlq := get(t, res, typeCloudControl, "processing-queue"), get(t, res, typeCloudControl, "dead-letter-queue")
	if !q.DependsOn(dlq) {
		t.Errorf("processing queue does not depend on the DLQ: %v", q.Dependencies)
	}
}

func TestDeadLetterQueue(t *testing.T) {
	res := run(t, "dev", nil)
	state := queueState(t, res, "dead-letter-queue")
	// 14-day retention, SSE, room for any message the processing queue
	// redrives to it, redrives accepted from the processing queue only, and
	// both tags.
	assertJSON(t, "DLQ desired state", state, `{
		"QueueName": "ProcessingDLQ-dev",
		"MessageRetentionPeriod": 1209600,
		"MaximumMessageSize": 1048576,
		"SqsManagedSseEnabled": true,
		"RedriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": ["`+queueArn+`"]},
		"Tags": `+tagsJSON+`
	}`)
	if got := state["MaximumMessageSize"]; got != float64(limits.QueueMaxMessageBytes) {
		t.Errorf("MaximumMessageSize = %v, want limits.QueueMaxMessageBytes = %d", got, limits.QueueMaxMessageBytes)
	}
	// The DLQ is created first and depends on no other resource of the layer.
	if dlq := get(t, res, typeCloudControl, "dead-letter-queue"); len(dlq.Dependencies) != 0 {
		t.Errorf("DLQ depends on %v, want nothing", dlq.Dependencies)
	}
}

// The DLQ's redrive allow policy is written before the processing queue
// exists, with an ARN computed from the queue's name: it must be the ARN the
// processing queue then gets.
func TestDeadLetterQueueAcceptsRedriveFromTheProcessingQueueOnly(t *testing.T) {
	res := run(t, "dev", nil)
	allow, _ := queueState(t, res, "dead-letter-queue")["RedriveAllowPolicy"].(map[string]interface{})
	reported := reportedProperties(t, res, "processing-queue").Arn
	assertJSON(t, "redrive allow policy", allow, `{"redrivePermission": "byQueue", "sourceQueueArns": ["`+reported+`"]}`)
	if reported != queueArn {
		t.Errorf("processing queue reported ARN %s, want %s", reported, queueArn)
	}
	if got := QueueARN(mocks.Account, "ProcessingQueue-dev"); got != queueArn {
		t.Errorf("QueueARN = %s, want %s", got, queueArn)
	}
}

func TestQueueURLsAndARNsComeFromTheReportedProperties(t *testing.T) {
	res := run(t, "dev", nil)
	for name, want := range map[string]QueueProperties{
		"processing-queue":  {QueueURL: queueURL, Arn: queueArn},
		"dead-letter-queue": {QueueURL: dlqURL, Arn: dlqArn},
	} {
		if got := reportedProperties(t, res, name); got != want {
			t.Errorf("%s reported %+v, want %+v", name, got, want)
		}
		// Cloud Control's identifier of an AWS::SQS::Queue is its URL.
		if got := get(t, res, typeCloudControl, name).ID; got != want.QueueURL {
			t.Errorf("%s id = %s, want %s", name, got, want.QueueURL)
		}
	}
}

func TestParseQueueProperties(t *testing.T) {
	tests := []struct {
		name, doc string
		want      QueueProperties
		errHas    []string
	}{
		{"url and arn", `{"QueueName":"q","QueueUrl":"https://sqs/q","Arn":"arn:aws:sqs:us-east-1:1:q","Tags":[]}`,
			QueueProperties{QueueURL: "https://sqs/q", Arn: "arn:aws:sqs:us-east-1:1:q"}, nil},
		{"no url", `{"Arn":"arn:aws:sqs:us-east-1:1:q"}`, QueueProperties{}, []string{"lack QueueUrl:", QueueType}},
		{"no arn", `{"QueueUrl":"https://sqs/q"}`, QueueProperties{}, []string{"lack Arn:"}},
		{"neither", `{}`, QueueProperties{}, []string{"lack QueueUrl and Arn"}},
		{"empty url", `{"QueueUrl":"","Arn":"arn"}`, QueueProperties{}, []string{"lack QueueUrl"}},
		{"not JSON", `QueueUrl=x`, QueueProperties{}, []string{"reading the " + QueueType + " properties"}},
		{"url not a string", `{"QueueUrl":1,"Arn":"arn"}`, QueueProperties{}, []string{"QueueUrl"}},
		{"empty document", ``, QueueProperties{}, []string{"reading the"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQueueProperties(tt.doc)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if (err != nil) != (len(tt.errHas) > 0) {
				t.Fatalf("err = %v, want an error: %v", err, len(tt.errHas) > 0)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to contain %q", err, s)
				}
			}
		})
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
	if q := get(t, res, typeCloudControl, "processing-queue"); !r.DependsOn(q) {
		t.Errorf("processing queue policy does not depend on the queue: %v", r.Dependencies)
	}
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
	if dlq := get(t, res, typeCloudControl, "dead-letter-queue"); !r.DependsOn(dlq) {
		t.Errorf("DLQ policy does not depend on the DLQ: %v", r.Dependencies)
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
		if r.Type == typeCloudControl {
			if hasTags {
				t.Errorf("%s %s has a tags input %v; Cloud Control takes tags in desiredState", r.Type, r.Name, tags)
			}
			tags, hasTags = cloudControlTags(t, r)
		}
		switch {
		case tagged && !reflect.DeepEqual(tags, want):
			t.Errorf("%s %s tags = %v, want %v", r.Type, r.Name, tags, want)
		case !tagged && hasTags:
			t.Errorf("%s %s is listed as not taggable but has tags %v", r.Type, r.Name, tags)
		}
	}
}

// cloudControlTags reads the Tags ([{Key, Value}]) of a Cloud Control
// resource's desired state as a map; a duplicate or malformed tag fails.
func cloudControlTags(t *testing.T, r mocks.Resource) (interface{}, bool) {
	t.Helper()
	state, _ := jsonInput(t, r, "desiredState").(map[string]interface{})
	list, ok := state["Tags"]
	if !ok {
		return nil, false
	}
	items, ok := list.([]interface{})
	if !ok {
		t.Errorf("%s %s: Tags is %T, want a list of {Key, Value}", r.Type, r.Name, list)
		return list, true
	}
	tags := map[string]interface{}{}
	for _, item := range items {
		kv, _ := item.(map[string]interface{})
		k, kok := kv["Key"].(string)
		v, vok := kv["Value"].(string)
		if !kok || !vok || len(kv) != 2 {
			t.Errorf("%s %s: tag %v is not {Key, Value}", r.Type, r.Name, item)
			continue
		}
		if _, dup := tags[k]; dup {
			t.Errorf("%s %s: tag %s appears twice", r.Type, r.Name, k)
		}
		tags[k] = v
	}
	return tags, true
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
				if got := queueState(t, res, logical)["QueueName"]; got != want {
					t.Errorf("%s name = %v, want %v", logical, got, want)
				}
			}
			if got, want := get(t, res, typeEventBus, "event-bus").Inputs["name"], "MarketDataEvents-"+tt.sfx; got != want {
				t.Errorf("event bus name = %v, want %v", got, want)
			}
			// The DLQ admits redrives from the queue of the same suffix.
			allow, _ := json.Marshal(queueState(t, res, "dead-letter-queue")["RedriveAllowPolicy"])
			if want := `"arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-` + tt.sfx + `"`; !strings.Contains(string(allow), want) {
				t.Errorf("DLQ redrive allow policy %s lacks %s", allow, want)
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

func (m otherRegion) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return m.callIn("eu-west-1", args)
}

// callIn answers the invokes of the program for a provider in region.
func (otherRegion) callIn(region string, args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]interface{}{"name": region, "id": region}), nil
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

// reportingMonitor answers every Cloud Control queue with QueueUrl and an
// Arn made by arn, and every other resource with its inputs.
type reportingMonitor struct{ arn func(queueName string) string }

func (m reportingMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.TypeToken != typeCloudControl {
		return args.Name + "-id", args.Inputs, nil
	}
	var state map[string]interface{}
	if err := json.Unmarshal([]byte(args.Inputs["desiredState"].StringValue()), &state); err != nil {
		return "", nil, err
	}
	name, _ := state["QueueName"].(string)
	state["QueueUrl"] = "https://sqs.us-east-1.amazonaws.com/" + mocks.Account + "/" + name
	state["Arn"] = m.arn(name)
	props, _ := json.Marshal(state)
	outs := args.Inputs.Copy()
	outs["properties"] = resource.NewStringProperty(string(props))
	return state["QueueUrl"].(string), outs, nil
}

func (reportingMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return otherRegion{}.callIn(naming.Region, args)
}

// A processing queue whose ARN is not the one the DLQ's redrive allow policy
// names would leave the redrive refused: the deployment must fail instead.
func TestProcessingQueueArnMismatchFails(t *testing.T) {
	for name, tt := range map[string]struct {
		arn     func(string) string
		wantErr bool
	}{
		"matching ARN":  {func(q string) string { return QueueARN(mocks.Account, q) }, false},
		"other account": {func(q string) string { return QueueARN("999999999999", q) }, true},
	} {
		t.Run(name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := Program(ctx)
				return err
			}, pulumi.WithMocks(naming.ProjectMessaging, "dev", reportingMonitor{tt.arn}))
			switch {
			case !tt.wantErr && err != nil:
				t.Errorf("program failed: %v", err)
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "999999999999:ProcessingQueue-dev") ||
				!strings.Contains(err.Error(), "redrive allow policy")):
				t.Errorf("err = %v, want an error naming the reported ARN and the redrive allow policy", err)
			}
		})
	}
}
