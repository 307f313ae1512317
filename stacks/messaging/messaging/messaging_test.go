package messaging

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Resource types of the layer. The queues are Cloud Control resources.
const (
	typeCloudControl = stacktest.TypeCloudControl
	typeQueuePolicy  = "aws:sqs/queuePolicy:QueuePolicy"
	typeEventBus     = "aws:cloudwatch/eventBus:EventBus"
)

// resourceArgs maps every resource type of the layer to its provider args,
// so that the SDK itself says whether AWS tags the type. Cloud Control
// resources carry their tags inside the desired state, which the SDK cannot
// tell; queue policies are an attribute of a queue.
var resourceArgs = map[string]interface{}{
	typeCloudControl: nil,
	typeEventBus:     cloudwatch.EventBusArgs{},
	typeQueuePolicy:  sqs.QueuePolicyArgs{},
}

var nonTaggable = []string{typeQueuePolicy}

// Values of the "dev" stack (account 123456789012 and us-east-1 come from the mocks).
const (
	queueArn  = "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"
	queueURL  = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingQueue-dev"
	dlqArn    = "arn:aws:sqs:us-east-1:123456789012:ProcessingDLQ-dev"
	dlqURL    = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingDLQ-dev"
	scheduleR = "arn:aws:events:us-east-1:123456789012:rule/AggregatorSchedule-dev"
	eventsR   = "arn:aws:events:us-east-1:123456789012:rule/MarketDataEvents-dev/AggregatorOnWindows-dev"
)

// run runs the program for stack; cfg holds config keys without namespace.
func run(t *testing.T, stack string, cfg map[string]string) *synthrec.Result {
	t.Helper()
	return stacktest.Run(t, Program, stacktest.Options(t, naming.ProjectMessaging, stack, cfg))
}

// queueState returns the desired state of a queue (a Cloud Control
// AWS::SQS::Queue) as JSON data, after checking that the resource has exactly
// the inputs typeName and desiredState: no role, schema or type version.
func queueState(t *testing.T, res *synthrec.Result, name string) map[string]interface{} {
	t.Helper()
	r := stacktest.Get(t, res, typeCloudControl, name)
	if got := r.Inputs["typeName"]; got != QueueType || QueueType != "AWS::SQS::Queue" {
		t.Errorf("%s typeName = %v, want AWS::SQS::Queue", name, got)
	}
	if len(r.Inputs) != 2 {
		t.Errorf("%s inputs %v, want typeName and desiredState only", name, r.Inputs)
	}
	state, ok := stacktest.JSONInput(t, r, "desiredState").(map[string]interface{})
	if !ok {
		t.Fatalf("%s desiredState is not a JSON object: %v", name, r.Inputs["desiredState"])
	}
	return state
}

// reportedProperties returns the properties Cloud Control reported for a
// queue (its outputs in the mocks): the desired state, QueueUrl and Arn.
func reportedProperties(t *testing.T, res *synthrec.Result, name string) QueueProperties {
	t.Helper()
	r := stacktest.Get(t, res, typeCloudControl, name)
	doc, _ := r.Outputs["properties"].(string)
	p, err := ParseQueueProperties(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestResourcesRegistered(t *testing.T) {
	stacktest.AssertRegistered(t, run(t, "dev", nil),
		typeEventBus+"::event-bus",
		typeCloudControl+"::dead-letter-queue",
		typeCloudControl+"::processing-queue",
		typeQueuePolicy+"::dead-letter-queue-policy",
		typeQueuePolicy+"::processing-queue-policy",
		typeTopic+"::alarm-topic",
		typeAlarm+"::alarm-"+strings.ToLower(naming.AlarmDLQVisible),
		typeAlarm+"::alarm-"+strings.ToLower(naming.AlarmQueueAge),
	)
}

// tagsJSON is naming.Tags() as CloudFormation tags, sorted by key.
const tagsJSON = `[{"Key": "Environment", "Value": "Production"}, {"Key": "Project", "Value": "MarketAnalytics"}]`

func TestProcessingQueue(t *testing.T) {
	res := run(t, "dev", nil)
	state := queueState(t, res, "processing-queue")
	// 4-day retention, 300 s visibility (the processor's timeout x 6 must fit
	// in it), 1 MiB messages, long polling, SQS-managed SSE, a redrive to the
	// DLQ after 3 receives, and both tags, in CloudFormation's property names.
	stacktest.AssertJSON(t, "processing queue desired state", state, `{
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
	q, dlq := stacktest.Get(t, res, typeCloudControl, "processing-queue"), stacktest.Get(t, res, typeCloudControl, "dead-letter-queue")
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
	stacktest.AssertJSON(t, "DLQ desired state", state, `{
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
	if dlq := stacktest.Get(t, res, typeCloudControl, "dead-letter-queue"); len(dlq.Dependencies) != 0 {
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
	stacktest.AssertJSON(t, "redrive allow policy", allow, `{"redrivePermission": "byQueue", "sourceQueueArns": ["`+reported+`"]}`)
	if reported != queueArn {
		t.Errorf("processing queue reported ARN %s, want %s", reported, queueArn)
	}
	if got := QueueARN(synthrec.Account, "ProcessingQueue-dev"); got != queueArn {
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
		if got := stacktest.Get(t, res, typeCloudControl, name).ID; got != want.QueueURL {
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
	r := stacktest.Get(t, res, typeQueuePolicy, "processing-queue-policy")
	if got := r.Inputs["queueUrl"]; got != queueURL {
		t.Errorf("queueUrl = %v, want %s", got, queueURL)
	}
	doc, _ := r.Inputs["policy"].(string)
	stacktest.AssertPolicy(t, "processing queue policy", doc, common.Policy{Statement: []common.Statement{denyInsecure(queueArn)}})
	if q := stacktest.Get(t, res, typeCloudControl, "processing-queue"); !r.DependsOn(q) {
		t.Errorf("processing queue policy does not depend on the queue: %v", r.Dependencies)
	}
}

func TestDeadLetterQueuePolicy(t *testing.T) {
	res := run(t, "dev", nil)
	r := stacktest.Get(t, res, typeQueuePolicy, "dead-letter-queue-policy")
	if got := r.Inputs["queueUrl"]; got != dlqURL {
		t.Errorf("queueUrl = %v, want %s", got, dlqURL)
	}
	doc, _ := r.Inputs["policy"].(string)
	// EventBridge may send exactly the two aggregator rules' undeliverable
	// events; nothing may use the queue without TLS.
	stacktest.AssertPolicy(t, "DLQ policy", doc, common.Policy{Statement: []common.Statement{
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
	if n.ScheduleRuleARN(synthrec.Account) != scheduleR || n.EventsRuleARN(synthrec.Account) != eventsR {
		t.Errorf("rule ARNs drifted from shared/naming: %s, %s", n.ScheduleRuleARN(synthrec.Account), n.EventsRuleARN(synthrec.Account))
	}
	if dlq := stacktest.Get(t, res, typeCloudControl, "dead-letter-queue"); !r.DependsOn(dlq) {
		t.Errorf("DLQ policy does not depend on the DLQ: %v", r.Dependencies)
	}
}

func TestEventBus(t *testing.T) {
	res := run(t, "dev", nil)
	stacktest.AssertJSON(t, "event bus inputs", stacktest.Get(t, res, typeEventBus, "event-bus").Inputs, `{
		"name": "MarketDataEvents-dev",
		"description": "Market-data pipeline: events of the processor about changed aggregation windows",
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
}

// TestConformance runs the checks every layer passes.
func TestConformance(t *testing.T) {
	stacktest.AssertConformance(t, stacktest.Conformance{
		Layer:       stacktest.Layer{Project: naming.ProjectMessaging, Program: Program},
		ProjectFile: filepath.Join("..", "Pulumi.yaml"),
		// The empty default of environmentSuffix means "use the stack name".
		ConfigKeys: map[string]stacktest.ConfigKey{
			common.ConfigEnvironmentSuffix: {Type: "string", Default: ""},
			ConfigAlarmEmail:               {Type: "string", Default: ""},
			ConfigDLQAlarmMessages:         {Type: "integer", Default: strconv.Itoa(DefaultDLQAlarmMessages)},
			ConfigQueueAgeAlarmMinutes:     {Type: "integer", Default: strconv.Itoa(DefaultQueueAgeAlarmMinutes)},
		},
		Types:       resourceArgs,
		NonTaggable: nonTaggable,
		Tagged:      6, // the two queues, the event bus, the alarm topic, two alarms
		Outputs: func(testing.TB, *synthrec.Result) map[string]interface{} {
			return map[string]interface{}{
				outputs.QueueURL:     queueURL,
				outputs.QueueArn:     queueArn,
				outputs.DLQURL:       dlqURL,
				outputs.DLQArn:       dlqArn,
				outputs.EventBusName: "MarketDataEvents-dev",
				outputs.EventBusArn:  "arn:aws:events:us-east-1:123456789012:event-bus/MarketDataEvents-dev",

				outputs.AlarmTopicArn: topicArn,
			}
		},
		InvalidSuffix: "__",
	})
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
			var cfg map[string]string
			if tt.override != "" {
				cfg = map[string]string{common.ConfigEnvironmentSuffix: tt.override}
			}
			res := run(t, tt.stack, cfg)
			for logical, want := range map[string]string{
				"processing-queue":  "ProcessingQueue-" + tt.sfx,
				"dead-letter-queue": "ProcessingDLQ-" + tt.sfx,
			} {
				if got := queueState(t, res, logical)["QueueName"]; got != want {
					t.Errorf("%s name = %v, want %v", logical, got, want)
				}
			}
			if got, want := stacktest.Get(t, res, typeEventBus, "event-bus").Inputs["name"], "MarketDataEvents-"+tt.sfx; got != want {
				t.Errorf("event bus name = %v, want %v", got, want)
			}
			// The DLQ admits redrives from the queue of the same suffix.
			allow, _ := json.Marshal(queueState(t, res, "dead-letter-queue")["RedriveAllowPolicy"])
			if want := `"arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-` + tt.sfx + `"`; !strings.Contains(string(allow), want) {
				t.Errorf("DLQ redrive allow policy %s lacks %s", allow, want)
			}
			// The DLQ policy names the rules of the same suffix.
			doc, _ := stacktest.Get(t, res, typeQueuePolicy, "dead-letter-queue-policy").Inputs["policy"].(string)
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
	state["QueueUrl"] = "https://sqs.us-east-1.amazonaws.com/" + synthrec.Account + "/" + name
	state["Arn"] = m.arn(name)
	props, _ := json.Marshal(state)
	outs := args.Inputs.Copy()
	outs["properties"] = resource.NewStringProperty(string(props))
	return state["QueueUrl"].(string), outs, nil
}

func (reportingMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return stacktest.RegionMonitor{Region: naming.Region}.Call(args)
}

// A processing queue whose ARN is not the one the DLQ's redrive allow policy
// names would leave the redrive refused: the deployment must fail instead.
func TestProcessingQueueArnMismatchFails(t *testing.T) {
	for name, tt := range map[string]struct {
		arn     func(string) string
		wantErr bool
	}{
		"matching ARN":  {func(q string) string { return QueueARN(synthrec.Account, q) }, false},
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
