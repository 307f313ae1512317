package api

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"

	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// alarmTopicArn is the compute layer's (re-exported) output.
const alarmTopicArn = "arn:aws:sns:us-east-1:123456789012:MarketDataAlarms-dev"

func TestAPIAlarms(t *testing.T) {
	stage := map[string]string{"ApiName": "MarketDataAPI-dev", "Stage": "prod"}
	for _, tt := range []struct {
		name               string
		cfg                map[string]string
		percent, latencyMs float64
	}{
		{"defaults", nil, DefaultAPI5XXAlarmPercent, DefaultAPILatencyAlarmMs},
		{"configured", map[string]string{ConfigAPI5XXAlarmPercent: "5", ConfigAPILatencyAlarmMs: "2000"}, 5, 2000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := stacktest.Run(t, Program, options(t, "dev", tt.cfg))
			if got := len(res.OfType(stacktest.TypeMetricAlarm)); got != 2 {
				t.Errorf("%d alarms, want 2", got)
			}
			// 5XX answers as a percentage of requests: with no request,
			// both inputs are missing, and so is the rate.
			stacktest.AssertAlarm(t, res, dev, stacktest.AlarmWant{
				ID:         naming.AlarmAPI5XXRate,
				Expression: "100 * m0 / m1",
				Inputs: []stacktest.AlarmMetric{
					{Namespace: "AWS/ApiGateway", Name: "5XXError", Dimensions: stage, Stat: "Sum"},
					{Namespace: "AWS/ApiGateway", Name: "Count", Dimensions: stage, Stat: "Sum"},
				},
				Period: 300, Comparison: "GreaterThanThreshold", Threshold: tt.percent, Topic: alarmTopicArn,
			})
			stacktest.AssertAlarm(t, res, dev, stacktest.AlarmWant{
				ID:     naming.AlarmAPILatency,
				Metric: stacktest.AlarmMetric{Namespace: "AWS/ApiGateway", Name: "Latency", Dimensions: stage, Stat: "p99"},
				Period: 300, Comparison: "GreaterThanThreshold", Threshold: tt.latencyMs, Topic: alarmTopicArn,
			})
		})
	}
}

func TestAlarmConfigErrors(t *testing.T) {
	fixture(t).AssertConfigRefused(t,
		map[string]string{ConfigAPI5XXAlarmPercent: "0"},
		map[string]string{ConfigAPILatencyAlarmMs: "fast"},
	)
}

// dashboard reads the registered dashboard's body back into the typed form.
func dashboard(t *testing.T, res *synthrec.Result) Dashboard {
	t.Helper()
	r := stacktest.Get(t, res, stacktest.TypeDashboard, "dashboard")
	stacktest.WantInput(t, r, "dashboardName", "MarketData-dev")
	body, _ := r.Inputs["dashboardBody"].(string)
	var d Dashboard
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dashboard body: %v\n%s", err, body)
	}
	return d
}

func TestDashboardLayout(t *testing.T) {
	d := dashboard(t, runDev(t))
	if len(d.Widgets) < 10 {
		t.Fatalf("%d widgets, want the alarm states and at least 9 graphs", len(d.Widgets))
	}
	type cell struct{ x, y int }
	used := map[cell]string{}
	for i, w := range d.Widgets {
		if w.X < 0 || w.Width < 1 || w.X+w.Width > 24 || w.Height < 1 {
			t.Errorf("widget %d outside the 24-column grid: %+v", i, w)
		}
		for x := w.X; x < w.X+w.Width; x++ {
			for y := w.Y; y < w.Y+w.Height; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Errorf("widget %d overlaps %s at %d,%d", i, other, x, y)
				}
				used[cell{x, y}] = w.Type
			}
		}
		if m, ok := w.Properties.(*MetricWidget); ok {
			if m.Title == "" || m.Region != naming.Region || m.Period != 60 || len(m.Metrics) == 0 {
				t.Errorf("graph %d: %+v", i, m)
			}
		}
	}
}

// Every graph of the issue is there, with metrics of the right resources.
func TestDashboardGraphs(t *testing.T) {
	d := dashboard(t, runDev(t))
	graphs := map[string][]MetricLine{}
	for _, w := range d.Widgets {
		if m, ok := w.Properties.(*MetricWidget); ok {
			graphs[m.Title] = m.Metrics
		}
	}
	key := func(l MetricLine) string {
		s := l.Namespace + " " + l.Name + " " + l.Stat
		for _, dim := range l.Dimensions {
			s += " " + dim.Name + "=" + dim.Value
		}
		return s
	}
	fnLines := func(metric, stat string) []string {
		var out []string
		for _, fn := range []string{"DataIngestion-dev", "DataProcessor-dev", "DataAggregator-dev"} {
			out = append(out, "AWS/Lambda "+metric+" "+stat+" FunctionName="+fn)
		}
		return out
	}
	api := " ApiName=MarketDataAPI-dev Stage=prod"
	pipeline := "MarketAnalytics/Pipeline-dev "
	want := map[string][]string{
		"Points per minute": {pipeline + "PointsIngested Sum", pipeline + "PointsStored Sum", pipeline + "PointsAggregated Sum"},
		"Processing queue depth": {
			"AWS/SQS ApproximateNumberOfMessagesVisible Maximum QueueName=ProcessingQueue-dev",
			"AWS/SQS ApproximateNumberOfMessagesNotVisible Maximum QueueName=ProcessingQueue-dev",
		},
		"Oldest message age (s)": {
			"AWS/SQS ApproximateAgeOfOldestMessage Maximum QueueName=ProcessingQueue-dev",
			"AWS/SQS ApproximateAgeOfOldestMessage Maximum QueueName=ProcessingDLQ-dev",
		},
		"Dead-letter queue depth": {"AWS/SQS ApproximateNumberOfMessagesVisible Maximum QueueName=ProcessingDLQ-dev"},
		"Errors per function": append(fnLines("Errors", "Sum"),
			pipeline+"DataIngestion-dev-Errors Sum", pipeline+"DataProcessor-dev-Errors Sum", pipeline+"DataAggregator-dev-Errors Sum"),
		"Throttles per function": fnLines("Throttles", "Sum"),
		"Duration p50/p99 (ms)":  append(fnLines("Duration", "p50"), fnLines("Duration", "p99")...),
		"API requests":           {"AWS/ApiGateway Count Sum" + api, "AWS/ApiGateway 4XXError Sum" + api, "AWS/ApiGateway 5XXError Sum" + api},
		"API latency (ms)":       {"AWS/ApiGateway Latency p50" + api, "AWS/ApiGateway Latency p99" + api},
		"Aggregation lag (ms)":   {pipeline + "AggregationLag Maximum"},
	}
	if len(graphs) != len(want) {
		t.Errorf("graphs %v, want %d", reflect.ValueOf(graphs).MapKeys(), len(want))
	}
	for title, lines := range want {
		var got []string
		for _, l := range graphs[title] {
			got = append(got, key(l))
		}
		sort.Strings(got)
		sort.Strings(lines)
		if !reflect.DeepEqual(got, lines) {
			t.Errorf("graph %q:\n got %q\nwant %q", title, got, lines)
		}
	}
}

// The alarm widget shows every alarm the stacks create by default, by ARN.
func TestDashboardAlarms(t *testing.T) {
	d := dashboard(t, runDev(t))
	var got []string
	for _, w := range d.Widgets {
		if a, ok := w.Properties.(*AlarmWidget); ok {
			got = append(got, a.Alarms...)
		}
	}
	var want []string
	for _, id := range naming.AlarmIDs() {
		want = append(want, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+dev.Alarm(id))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarm widget:\n got %q\nwant %q", got, want)
	}
	if len(want) != 2+3*3+1+1+2 {
		t.Errorf("%d alarms by default, want 15 (2 queue, 9 function, duration, lag, 2 API)", len(want))
	}
}

// A metric line is written in the dashboard's array form and read back.
func TestMetricLineJSON(t *testing.T) {
	l := MetricLine{Namespace: metrics.NamespaceSQS, Name: metrics.SQSVisible, Stat: "Maximum", Label: "q",
		Dimensions: []Dimension{{"QueueName", "Q"}}}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","Q",{"stat":"Maximum","label":"q"}]` {
		t.Errorf("marshalled %s", b)
	}
	var back MetricLine
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, l) {
		t.Errorf("read back %+v, %v", back, err)
	}
	e := MetricLine{Expression: "m0 / m1", Label: "rate", ID: "e0"}
	if b, err := json.Marshal(e); err != nil || string(b) != `[{"expression":"m0 / m1","label":"rate","id":"e0"}]` {
		t.Errorf("expression marshalled %s, %v", b, err)
	}
	for _, bad := range []MetricLine{{Name: "x", Stat: "Sum"}, {Namespace: "n", Name: "x"}, {Namespace: "n", Name: "x", Stat: "Sum", Expression: "1"}} {
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("%+v marshalled without error", bad)
		}
	}
}
