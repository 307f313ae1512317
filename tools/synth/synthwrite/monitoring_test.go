package synthwrite

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/api/api"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// watched is what the synthesized stacks create that a metric can be about.
type watched struct {
	queues, functions map[string]bool
	apiName, stage    string
	// pipeline is the namespace the compute stack gives the aggregator;
	// pipelineMetrics the metrics published into it: the metric filters'
	// and the aggregator's own.
	pipeline        string
	pipelineMetrics map[string]bool
	alarms          map[string]synthrec.Resource // by ARN
	topic           string
}

func inspect(t *testing.T, results []*synthrec.Result) watched {
	t.Helper()
	w := watched{queues: map[string]bool{}, functions: map[string]bool{}, pipelineMetrics: map[string]bool{}, alarms: map[string]synthrec.Resource{}}
	for _, res := range results {
		for _, r := range res.Resources {
			in := r.Inputs
			switch r.Type {
			case "aws:sqs/queue:Queue":
				w.queues[fmt.Sprint(in["name"])] = true
			case "aws:cloudcontrol/resource:Resource":
				var state struct{ QueueName string }
				if err := json.Unmarshal([]byte(fmt.Sprint(in["desiredState"])), &state); err == nil && state.QueueName != "" {
					w.queues[state.QueueName] = true
				}
			case "aws:lambda/function:Function":
				w.functions[fmt.Sprint(in["name"])] = true
				env, _ := in["environment"].(map[string]interface{})
				vars, _ := env["variables"].(map[string]interface{})
				if ns, ok := vars[lambdaenv.MetricNamespace].(string); ok {
					w.pipeline = ns
					// The aggregator publishes these (services/aggregator
					// names them from package naming).
					for _, m := range []string{naming.MetricPointsAggregated, naming.MetricWindowsWritten, naming.MetricAggregationLag} {
						w.pipelineMetrics[m] = true
					}
				}
			case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
				mt, _ := in["metricTransformation"].(map[string]interface{})
				w.pipelineMetrics[fmt.Sprint(mt["namespace"])+" "+fmt.Sprint(mt["name"])] = true
			case "aws:apigateway/restApi:RestApi":
				w.apiName = fmt.Sprint(in["name"])
			case "aws:apigateway/stage:Stage":
				w.stage = fmt.Sprint(in["stageName"])
			case "aws:cloudwatch/metricAlarm:MetricAlarm":
				w.alarms[fmt.Sprint(r.Outputs["arn"])] = r
			}
		}
		if topic, ok := res.Outputs[outputs.AlarmTopicArn].(string); ok && res.Project == naming.ProjectMessaging {
			w.topic = topic
		}
	}
	return w
}

// exists says why a metric would have no data for the stacks' resources, or "".
func (w watched) exists(ns, name string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dimsAre := func(want ...string) bool { return strings.Join(keys, ",") == strings.Join(want, ",") }
	switch ns {
	case metrics.NamespaceSQS:
		if !dimsAre(metrics.DimQueueName) || !w.queues[dims[metrics.DimQueueName]] {
			return fmt.Sprintf("no queue for dimensions %v", dims)
		}
		switch name {
		case metrics.SQSVisible, metrics.SQSNotVisible, metrics.SQSOldestAge, metrics.SQSMessagesSent, metrics.SQSMessagesDeleted:
			return ""
		}
	case metrics.NamespaceLambda:
		if !dimsAre(metrics.DimFunctionName) || !w.functions[dims[metrics.DimFunctionName]] {
			return fmt.Sprintf("no function for dimensions %v", dims)
		}
		switch name {
		case metrics.LambdaInvocations, metrics.LambdaErrors, metrics.LambdaThrottles, metrics.LambdaDuration,
			metrics.LambdaConcurrentExecutions, metrics.LambdaAsyncEventsDropped:
			return ""
		}
	case metrics.NamespaceAPIGateway:
		if !dimsAre(metrics.DimAPIName, metrics.DimStage) || dims[metrics.DimAPIName] != w.apiName || dims[metrics.DimStage] != w.stage {
			return fmt.Sprintf("dimensions %v are not the API %s stage %s", dims, w.apiName, w.stage)
		}
		switch name {
		case metrics.APICount, metrics.API4XXError, metrics.API5XXError, metrics.APILatency:
			return ""
		}
	case w.pipeline:
		if len(dims) != 0 {
			return fmt.Sprintf("the pipeline's metrics have no dimensions, got %v", dims)
		}
		if w.pipelineMetrics[name] || w.pipelineMetrics[ns+" "+name] {
			return ""
		}
	default:
		return "unknown namespace"
	}
	return "no such metric"
}

func stringMap(v interface{}) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]interface{})
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// Every alarm of every layer watches a metric that exists for the resources
// the stacks create, and notifies the messaging layer's topic.
func TestAlarmsWatchTheStacksResources(t *testing.T) {
	results, _ := synth(t, Options{Stack: "dev", BuildDir: fakeBuild(t)})
	w := inspect(t, results)
	if w.pipeline == "" || w.apiName == "" || w.stage == "" || len(w.queues) != 2 || len(w.functions) != 3 || w.topic == "" {
		t.Fatalf("the synth lacks watched resources: %+v", w)
	}
	perLayer := map[string]int{}
	for _, res := range results {
		perLayer[res.Project] = len(res.OfType("aws:cloudwatch/metricAlarm:MetricAlarm"))
	}
	want := map[string]int{naming.ProjectStorage: 0, naming.ProjectMessaging: 2, naming.ProjectCompute: 11, naming.ProjectAPI: 2}
	if fmt.Sprint(perLayer) != fmt.Sprint(want) {
		t.Errorf("alarms per layer %v, want %v", perLayer, want)
	}
	for arn, a := range w.alarms {
		in := a.Inputs
		for _, k := range []string{"alarmActions", "okActions"} {
			if acts, _ := in[k].([]interface{}); len(acts) != 1 || acts[0] != w.topic {
				t.Errorf("%s %s = %v, want [%s]", arn, k, in[k], w.topic)
			}
		}
		if qs, ok := in["metricQueries"].([]interface{}); ok {
			for _, q := range qs {
				m, _ := q.(map[string]interface{})["metric"].(map[string]interface{})
				if m == nil {
					continue // the expression
				}
				if why := w.exists(fmt.Sprint(m["namespace"]), fmt.Sprint(m["metricName"]), stringMap(m["dimensions"])); why != "" {
					t.Errorf("%s: %s %s: %s", arn, m["namespace"], m["metricName"], why)
				}
			}
			continue
		}
		if why := w.exists(fmt.Sprint(in["namespace"]), fmt.Sprint(in["metricName"]), stringMap(in["dimensions"])); why != "" {
			t.Errorf("%s: %s %s: %s", arn, in["namespace"], in["metricName"], why)
		}
	}
}

// Every metric of the dashboard exists for the resources the stacks create,
// and its alarm widget shows exactly the alarms the stacks create.
func TestDashboardWatchesTheStacksResources(t *testing.T) {
	results, _ := synth(t, Options{Stack: "dev", BuildDir: fakeBuild(t)})
	w := inspect(t, results)
	var body string
	for _, r := range results[3].OfType("aws:cloudwatch/dashboard:Dashboard") {
		body, _ = r.Inputs["dashboardBody"].(string)
	}
	var d api.Dashboard
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	lines, shown := 0, map[string]bool{}
	for _, wd := range d.Widgets {
		switch p := wd.Properties.(type) {
		case *api.MetricWidget:
			for _, l := range p.Metrics {
				lines++
				dims := map[string]string{}
				for _, dim := range l.Dimensions {
					dims[dim.Name] = dim.Value
				}
				if why := w.exists(l.Namespace, l.Name, dims); why != "" {
					t.Errorf("graph %q: %s %s %v: %s", p.Title, l.Namespace, l.Name, dims, why)
				}
			}
		case *api.AlarmWidget:
			for _, arn := range p.Alarms {
				shown[arn] = true
				if _, ok := w.alarms[arn]; !ok {
					t.Errorf("alarm widget shows %s, which no stack creates", arn)
				}
			}
		}
	}
	for arn := range w.alarms {
		if !shown[arn] {
			t.Errorf("alarm %s is not on the dashboard", arn)
		}
	}
	if lines < 20 {
		t.Errorf("%d metric lines checked, want the dashboard's full set", lines)
	}
}
