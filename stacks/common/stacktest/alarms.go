package stacktest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// TypeMetricAlarm is the CloudWatch metric alarm type.
const TypeMetricAlarm = "aws:cloudwatch/metricAlarm:MetricAlarm"

// AlarmMetric is a metric an alarm watches.
type AlarmMetric struct {
	Namespace, Name string
	Dimensions      map[string]string
	Stat            string
}

// AlarmWant is what an alarm must be. Expression alarms list their Inputs
// (m0, m1, ...); the others their Metric.
type AlarmWant struct {
	ID         string // the naming alarm id: name, runbook link
	Metric     AlarmMetric
	Expression string
	Inputs     []AlarmMetric
	Period     int // seconds
	// EvaluationPeriods and DatapointsToAlarm; 0 means 1.
	EvaluationPeriods, DatapointsToAlarm int
	Comparison                           string
	Threshold                            float64
	// Topic is the ARN both the ALARM and the OK actions notify.
	Topic string
}

// Alarms are the alarms res registered, by alarm name.
func Alarms(res *synthrec.Result) map[string]synthrec.Resource {
	out := map[string]synthrec.Resource{}
	for _, r := range res.OfType(TypeMetricAlarm) {
		name, _ := r.Inputs["name"].(string)
		out[name] = r
	}
	return out
}

// AssertAlarm asserts that res holds the alarm w for names n, with exactly
// the pipeline's conventions: named n.Alarm(id), both tags, the topic as its
// ALARM and OK actions (and nothing on INSUFFICIENT_DATA), missing data not
// breaching, and a description linking the alarm's runbook paragraph.
func AssertAlarm(t testing.TB, res *synthrec.Result, n naming.Names, w AlarmWant) {
	t.Helper()
	name := n.Alarm(w.ID)
	r, ok := Alarms(res)[name]
	if !ok {
		t.Errorf("no alarm %s", name)
		return
	}
	one := func(v int) float64 { return float64(max(v, 1)) }
	want := map[string]interface{}{
		"name":               name,
		"comparisonOperator": w.Comparison,
		"threshold":          w.Threshold,
		"evaluationPeriods":  one(w.EvaluationPeriods),
		"datapointsToAlarm":  one(max(w.DatapointsToAlarm, w.EvaluationPeriods)),
		"treatMissingData":   "notBreaching",
		"alarmActions":       []interface{}{w.Topic},
		"okActions":          []interface{}{w.Topic},
		"tags":               tagsAsInputs(),
	}
	if w.DatapointsToAlarm > 0 {
		want["datapointsToAlarm"] = float64(w.DatapointsToAlarm)
	}
	if w.Expression == "" {
		want["namespace"] = w.Metric.Namespace
		want["metricName"] = w.Metric.Name
		want["period"] = float64(w.Period)
		if len(w.Metric.Dimensions) > 0 {
			want["dimensions"] = dims(w.Metric.Dimensions)
		}
		if strings.HasPrefix(w.Metric.Stat, "p") {
			want["extendedStatistic"] = w.Metric.Stat
		} else {
			want["statistic"] = w.Metric.Stat
		}
	} else {
		queries := []interface{}{map[string]interface{}{
			"id": "e0", "expression": w.Expression, "label": w.ID, "returnData": true,
		}}
		for i, m := range w.Inputs {
			metric := map[string]interface{}{
				"namespace": m.Namespace, "metricName": m.Name, "period": float64(w.Period), "stat": m.Stat,
			}
			if len(m.Dimensions) > 0 {
				metric["dimensions"] = dims(m.Dimensions)
			}
			queries = append(queries, map[string]interface{}{
				"id": fmt.Sprintf("m%d", i), "returnData": false, "metric": metric,
			})
		}
		want["metricQueries"] = queries
	}
	got := map[string]interface{}{}
	for k, v := range r.Inputs {
		if k != "alarmDescription" {
			got[k] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarm %s inputs:\n got %#v\nwant %#v", name, got, want)
	}
	desc, _ := r.Inputs["alarmDescription"].(string)
	if link := naming.RunbookLink(w.ID); !strings.HasSuffix(desc, "Runbook: "+link) {
		t.Errorf("alarm %s description %q does not end with its runbook link %s", name, desc, link)
	}
	if len(desc) > 1024 {
		t.Errorf("alarm %s description is %d characters, CloudWatch takes 1024", name, len(desc))
	}
}

func dims(m map[string]string) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func tagsAsInputs() map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range naming.Tags() {
		out[k] = v
	}
	return out
}
