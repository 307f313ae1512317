package compute

import (
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

// alarmTopicArn is the messaging layer's output the alarms notify.
const alarmTopicArn = "arn:aws:sns:us-east-1:123456789012:MarketDataAlarms-dev"

// wantFunctionAlarms are the compute layer's alarms for the thresholds given.
func wantFunctionAlarms(errors, throttles, durationMs, lagMs float64) []stacktest.AlarmWant {
	var want []stacktest.AlarmWant
	for _, svc := range naming.Services {
		name, _ := dev.FunctionFor(svc)
		fn := map[string]string{"FunctionName": name}
		want = append(want,
			stacktest.AlarmWant{
				ID:     svc + "-LogErrors",
				Metric: stacktest.AlarmMetric{Namespace: "MarketAnalytics/Pipeline-dev", Name: name + "-Errors", Stat: "Sum"},
				Period: 300, Comparison: "GreaterThanOrEqualToThreshold", Threshold: errors, Topic: alarmTopicArn,
			},
			stacktest.AlarmWant{
				ID:     svc + "-Errors",
				Metric: stacktest.AlarmMetric{Namespace: "AWS/Lambda", Name: "Errors", Dimensions: fn, Stat: "Sum"},
				Period: 300, Comparison: "GreaterThanOrEqualToThreshold", Threshold: errors, Topic: alarmTopicArn,
			},
			stacktest.AlarmWant{
				ID:     svc + "-Throttles",
				Metric: stacktest.AlarmMetric{Namespace: "AWS/Lambda", Name: "Throttles", Dimensions: fn, Stat: "Sum"},
				Period: 300, Comparison: "GreaterThanOrEqualToThreshold", Threshold: throttles, Topic: alarmTopicArn,
			},
		)
	}
	return append(want,
		stacktest.AlarmWant{
			ID:     "processor-DurationP99",
			Metric: stacktest.AlarmMetric{Namespace: "AWS/Lambda", Name: "Duration", Dimensions: map[string]string{"FunctionName": "DataProcessor-dev"}, Stat: "p99"},
			Period: 300, Comparison: "GreaterThanThreshold", Threshold: durationMs, Topic: alarmTopicArn,
		},
		stacktest.AlarmWant{
			ID:     "AggregationLag",
			Metric: stacktest.AlarmMetric{Namespace: "MarketAnalytics/Pipeline-dev", Name: "AggregationLag", Stat: "Maximum"},
			Period: 300, Comparison: "GreaterThanThreshold", Threshold: lagMs, Topic: alarmTopicArn,
		},
	)
}

func TestFunctionAlarms(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   map[string]string
		wants []stacktest.AlarmWant
	}{
		// The processor's timeout is 45 s: 80 % is 36 s; 15 minutes of lag.
		{"defaults", nil, wantFunctionAlarms(1, 1, 36000, 900000)},
		{"configured", map[string]string{
			ConfigFunctionErrorsAlarmCount: "3", ConfigThrottlesAlarmCount: "10",
			ConfigProcessorDurationAlarmPercent: "50", ConfigAggregationLagAlarmMinutes: "30",
		}, wantFunctionAlarms(3, 10, 22500, 1800000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := fixture(t).Run(t, "dev", tt.cfg)
			for _, w := range tt.wants {
				stacktest.AssertAlarm(t, res, dev, w)
			}
			if got := len(res.OfType(stacktest.TypeMetricAlarm)); got != len(tt.wants) {
				t.Errorf("%d alarms, want %d", got, len(tt.wants))
			}
		})
	}
}

func TestNoPointsAlarmIsOptional(t *testing.T) {
	if _, ok := stacktest.Alarms(fixture(t).RunDev(t))[dev.Alarm(naming.AlarmNoPointsAggregated)]; ok {
		t.Error("the no-points alarm exists by default; markets close, it must be opt-in")
	}
	res := fixture(t).Run(t, "dev", map[string]string{ConfigNoPointsAlarmMinutes: "12"})
	// 12 minutes round up to three 5-minute periods, all of which must be empty.
	stacktest.AssertAlarm(t, res, dev, stacktest.AlarmWant{
		ID:                naming.AlarmNoPointsAggregated,
		Metric:            stacktest.AlarmMetric{Namespace: "MarketAnalytics/Pipeline-dev", Name: "PointsAggregated", Stat: "Sum"},
		Period:            300,
		EvaluationPeriods: 3,
		Comparison:        "LessThanThreshold",
		Threshold:         1,
		Topic:             alarmTopicArn,
	})
}

func TestAlarmConfigErrors(t *testing.T) {
	fixture(t).AssertConfigRefused(t,
		map[string]string{ConfigFunctionErrorsAlarmCount: "0"},
		map[string]string{ConfigThrottlesAlarmCount: "x"},
		map[string]string{ConfigProcessorDurationAlarmPercent: "101"},
		map[string]string{ConfigAggregationLagAlarmMinutes: "0"},
		map[string]string{ConfigNoPointsAlarmMinutes: "-5"},
	)
}

// The point metric filters sum the services' log fields into the pipeline's
// namespace, after the function (and so its log group) exists.
func TestPointMetricFilters(t *testing.T) {
	res := fixture(t).RunDev(t)
	for _, tc := range []struct{ service, function, metric, field string }{
		{"ingestion", "DataIngestion-dev", "PointsIngested", naming.LogFieldAccepted},
		{"processor", "DataProcessor-dev", "PointsStored", naming.LogFieldStored},
	} {
		mf := stacktest.Get(t, res, stacktest.TypeMetricFilter, tc.service+"-"+tc.metric)
		stacktest.WantInput(t, mf, "name", tc.function+"-"+tc.metric)
		stacktest.WantInput(t, mf, "logGroupName", "/aws/lambda/"+tc.function)
		stacktest.WantInput(t, mf, "pattern", "{ $."+tc.field+" >= 0 }")
		stacktest.WantInput(t, mf, "metricTransformation", map[string]string{
			"name": tc.metric, "namespace": "MarketAnalytics/Pipeline-dev", "value": "$." + tc.field, "unit": "Count",
		})
		stacktest.WantDependsOn(t, mf, stacktest.Get(t, res, stacktest.TypeFunction, tc.service))
	}
}
