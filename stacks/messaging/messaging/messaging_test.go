package messaging

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Values of the "dev" stack (account 123456789012 and us-east-1 come from the mocks).
const (
	queueArn  = "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev"
	queueURL  = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingQueue-dev"
	dlqArn    = "arn:aws:sqs:us-east-1:123456789012:ProcessingDLQ-dev"
	dlqURL    = "https://sqs.us-east-1.amazonaws.com/123456789012/ProcessingDLQ-dev"
	scheduleR = "arn:aws:events:us-east-1:123456789012:rule/AggregatorSchedule-dev"
	eventsR   = "arn:aws:events:us-east-1:123456789012:rule/MarketDataEvents-dev/AggregatorOnWindows-dev"
)

// fixture is the messaging layer, which references no other.
var fixture = stacktest.Fixture{Layer: stacktest.Layer{Project: naming.ProjectMessaging, Program: Program}}

// tagsJSON is naming.Tags().
const tagsJSON = `{"Environment": "Production", "Project": "MarketAnalytics"}`

// queueInputs returns a queue's inputs with its JSON policy documents
// decoded, so that they compare as documents rather than as strings.
func queueInputs(t *testing.T, res *synthrec.Result, name string) map[string]interface{} {
	t.Helper()
	r := stacktest.Get(t, res, stacktest.TypeQueue, name)
	in := map[string]interface{}{}
	for k, v := range r.Inputs {
		in[k] = v
	}
	for _, k := range []string{"redrivePolicy", "redriveAllowPolicy"} {
		if _, ok := in[k]; ok {
			in[k] = stacktest.JSONInput(t, r, k)
		}
	}
	return in
}

// The two queues: the processing queue with 4-day retention, 300 s
// visibility (the processor's timeout x 6 must fit in it), 256 KiB messages,
// long polling, SQS-managed SSE and a redrive to the DLQ after 3 receives;
// the DLQ with 14-day retention, SSE, room for any message the processing
// queue redrives to it and redrives accepted from the processing queue only;
// both tagged. The DLQ is created first and depends on no other resource of
// the layer.
func TestQueues(t *testing.T) {
	res := fixture.RunDev(t)
	dlq := stacktest.Get(t, res, stacktest.TypeQueue, "dead-letter-queue")
	for _, tc := range []struct {
		logical, inputs string
		dependsOnDLQ    bool
	}{
		{"processing-queue", `{
			"name": "ProcessingQueue-dev",
			"messageRetentionSeconds": 345600,
			"visibilityTimeoutSeconds": 300,
			"maxMessageSize": 262144,
			"receiveWaitTimeSeconds": 20,
			"sqsManagedSseEnabled": true,
			"redrivePolicy": {"deadLetterTargetArn": "` + dlqArn + `", "maxReceiveCount": 3},
			"tags": ` + tagsJSON + `
		}`, true},
		{"dead-letter-queue", `{
			"name": "ProcessingDLQ-dev",
			"messageRetentionSeconds": 1209600,
			"maxMessageSize": 262144,
			"sqsManagedSseEnabled": true,
			"redriveAllowPolicy": {"redrivePermission": "byQueue", "sourceQueueArns": ["` + queueArn + `"]},
			"tags": ` + tagsJSON + `
		}`, false},
	} {
		t.Run(tc.logical, func(t *testing.T) {
			in := queueInputs(t, res, tc.logical)
			stacktest.AssertJSON(t, tc.logical+" inputs", in, tc.inputs)
			// Ingestion packs messages up to the shared limit; both queues must take them.
			if got := in["maxMessageSize"]; got != float64(limits.QueueMaxMessageBytes) {
				t.Errorf("maxMessageSize = %v, want limits.QueueMaxMessageBytes = %d", got, limits.QueueMaxMessageBytes)
			}
			q := stacktest.Get(t, res, stacktest.TypeQueue, tc.logical)
			switch {
			case tc.dependsOnDLQ && !q.DependsOn(dlq):
				t.Errorf("%s does not depend on the DLQ: %v", tc.logical, q.Dependencies)
			case !tc.dependsOnDLQ && len(q.Dependencies) != 0:
				t.Errorf("%s depends on %v, want nothing", tc.logical, q.Dependencies)
			}
		})
	}
}

// pulumi-aws v6 validates maxMessageSize to 1024-262144 bytes: a larger
// shared limit would fail `pulumi preview`.
func TestMessageSizeWithinTheProvidersRange(t *testing.T) {
	if limits.QueueMaxMessageBytes < 1024 || limits.QueueMaxMessageBytes > 262144 {
		t.Errorf("limits.QueueMaxMessageBytes = %d, outside pulumi-aws v6's 1024-262144", limits.QueueMaxMessageBytes)
	}
}

// The DLQ's redrive allow policy is written before the processing queue
// exists, with an ARN computed from the queue's name: it must be the ARN the
// processing queue then gets.
func TestDeadLetterQueueAcceptsRedriveFromTheProcessingQueueOnly(t *testing.T) {
	res := fixture.RunDev(t)
	allow := queueInputs(t, res, "dead-letter-queue")["redriveAllowPolicy"]
	reported, _ := stacktest.Get(t, res, stacktest.TypeQueue, "processing-queue").Outputs["arn"].(string)
	stacktest.AssertJSON(t, "redrive allow policy", allow, `{"redrivePermission": "byQueue", "sourceQueueArns": ["`+reported+`"]}`)
	if reported != queueArn {
		t.Errorf("processing queue ARN %s, want %s", reported, queueArn)
	}
	if got := QueueARN(synthrec.Account, "ProcessingQueue-dev"); got != queueArn {
		t.Errorf("QueueARN = %s, want %s", got, queueArn)
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

// Each queue's policy: nothing may use the queue without TLS; EventBridge
// may send the DLQ exactly the two aggregator rules' undeliverable events.
// Each policy is attached after its queue exists.
func TestQueuePolicies(t *testing.T) {
	res := fixture.RunDev(t)
	for _, tc := range []struct {
		logical, queue, url string
		want                []common.Statement
	}{
		{"processing-queue-policy", "processing-queue", queueURL, []common.Statement{denyInsecure(queueArn)}},
		{"dead-letter-queue-policy", "dead-letter-queue", dlqURL, []common.Statement{
			{
				Sid:       "AllowEventBridgeRuleDeadLetters",
				Effect:    "Allow",
				Principal: map[string]interface{}{"Service": "events.amazonaws.com"},
				Action:    []string{"sqs:SendMessage"},
				Resource:  []string{dlqArn},
				Condition: map[string]map[string]interface{}{"ArnEquals": {"aws:SourceArn": []string{scheduleR, eventsR}}},
			},
			denyInsecure(dlqArn),
		}},
	} {
		t.Run(tc.logical, func(t *testing.T) {
			r := stacktest.Get(t, res, stacktest.TypeQueuePolicy, tc.logical)
			if got := r.Inputs["queueUrl"]; got != tc.url {
				t.Errorf("queueUrl = %v, want %s", got, tc.url)
			}
			doc, _ := r.Inputs["policy"].(string)
			stacktest.AssertPolicy(t, tc.logical, doc, common.Policy{Statement: tc.want})
			if q := stacktest.Get(t, res, stacktest.TypeQueue, tc.queue); !r.DependsOn(q) {
				t.Errorf("%s does not depend on %s: %v", tc.logical, tc.queue, r.Dependencies)
			}
		})
	}
	// The rule ARNs are the ones the compute layer's rules will have.
	n := naming.MustNew("dev")
	if n.ScheduleRuleARN(synthrec.Account) != scheduleR || n.EventsRuleARN(synthrec.Account) != eventsR {
		t.Errorf("rule ARNs drifted from shared/naming: %s, %s", n.ScheduleRuleARN(synthrec.Account), n.EventsRuleARN(synthrec.Account))
	}
}

func TestEventBus(t *testing.T) {
	res := fixture.RunDev(t)
	stacktest.AssertJSON(t, "event bus inputs", stacktest.Get(t, res, stacktest.TypeEventBus, "event-bus").Inputs, `{
		"name": "MarketDataEvents-dev",
		"description": "Market-data pipeline: events of the processor about changed aggregation windows",
		"tags": {"Environment": "Production", "Project": "MarketAnalytics"}
	}`)
}

// TestConformance runs the checks every layer passes.
func TestConformance(t *testing.T) {
	stacktest.AssertConformance(t, stacktest.Conformance{
		Layer: fixture.Layer,
		ConfigKeys: map[string]stacktest.ConfigKey{
			ConfigAlarmEmail:           {Type: "string", Default: ""},
			ConfigDLQAlarmMessages:     {Type: "integer", Default: strconv.Itoa(DefaultDLQAlarmMessages)},
			ConfigQueueAgeAlarmMinutes: {Type: "integer", Default: strconv.Itoa(DefaultQueueAgeAlarmMinutes)},
		},
		Tagged: 6, // the two queues, the event bus, the alarm topic, two alarms
		Outputs: func(testing.TB, *synthrec.Result) map[string]interface{} {
			return map[string]interface{}{
				outputs.QueueURL:     queueURL,
				outputs.QueueArn:     queueArn,
				outputs.DLQURL:       dlqURL,
				outputs.DLQArn:       dlqArn,
				outputs.EventBusName: "MarketDataEvents-dev",
				outputs.EventBusArn:  "arn:aws:events:us-east-1:123456789012:event-bus/MarketDataEvents-dev",

				outputs.AlarmTopicArn: topicArn,

				outputs.EnvironmentSuffix: "dev",
			}
		},
		InvalidSuffix: "__",
		Registered: []string{
			stacktest.TypeEventBus + "::event-bus",
			stacktest.TypeQueue + "::dead-letter-queue",
			stacktest.TypeQueue + "::processing-queue",
			stacktest.TypeQueuePolicy + "::dead-letter-queue-policy",
			stacktest.TypeQueuePolicy + "::processing-queue-policy",
			stacktest.TypeTopic + "::alarm-topic",
			stacktest.TypeMetricAlarm + "::alarm-" + strings.ToLower(naming.AlarmDLQVisible),
			stacktest.TypeMetricAlarm + "::alarm-" + strings.ToLower(naming.AlarmQueueAge),
		},
	})
}

// Every name the layer derives, and every ARN its policies name, follow the
// stack name or its environmentSuffix override.
func TestEnvironmentSuffix(t *testing.T) {
	fixture.EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		for logical, want := range map[string]string{
			"processing-queue":  "ProcessingQueue-" + sfx,
			"dead-letter-queue": "ProcessingDLQ-" + sfx,
		} {
			if got := queueInputs(t, res, logical)["name"]; got != want {
				t.Errorf("%s name = %v, want %v", logical, got, want)
			}
		}
		if got, want := stacktest.Get(t, res, stacktest.TypeEventBus, "event-bus").Inputs["name"], "MarketDataEvents-"+sfx; got != want {
			t.Errorf("event bus name = %v, want %v", got, want)
		}
		// The DLQ admits redrives from the queue of the same suffix.
		allow, _ := json.Marshal(queueInputs(t, res, "dead-letter-queue")["redriveAllowPolicy"])
		if want := `"arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-` + sfx + `"`; !strings.Contains(string(allow), want) {
			t.Errorf("DLQ redrive allow policy %s lacks %s", allow, want)
		}
		// The DLQ policy names the rules of the same suffix.
		doc, _ := stacktest.Get(t, res, stacktest.TypeQueuePolicy, "dead-letter-queue-policy").Inputs["policy"].(string)
		for _, rule := range []string{"rule/AggregatorSchedule-" + sfx + `"`, "rule/MarketDataEvents-" + sfx + "/AggregatorOnWindows-" + sfx + `"`} {
			if !strings.Contains(doc, rule) {
				t.Errorf("DLQ policy lacks %s:\n%s", rule, doc)
			}
		}
	})
}

// reportingMonitor answers every queue with a URL and an ARN made by arn,
// and every other resource with its inputs.
type reportingMonitor struct{ arn func(queueName string) string }

func (m reportingMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outs := args.Inputs.Copy()
	if args.TypeToken != stacktest.TypeQueue {
		return args.Name + "-id", outs, nil
	}
	name := args.Inputs["name"].StringValue()
	url := "https://sqs.us-east-1.amazonaws.com/" + synthrec.Account + "/" + name
	outs["url"] = resource.NewStringProperty(url)
	outs["arn"] = resource.NewStringProperty(m.arn(name))
	return url, outs, nil
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
