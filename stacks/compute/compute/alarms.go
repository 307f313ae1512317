package compute

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Config keys of the functions' alarms, with their defaults. Pulumi.yaml
// declares the same keys and defaults.
const (
	// ConfigFunctionErrorsAlarmCount: errors (logged, or failed invocations)
	// of one function in 5 minutes that raise its alarms.
	ConfigFunctionErrorsAlarmCount  = "functionErrorsAlarmCount"
	DefaultFunctionErrorsAlarmCount = 1
	// ConfigThrottlesAlarmCount: throttled invocations of one function in 5
	// minutes that raise its alarm.
	ConfigThrottlesAlarmCount  = "throttlesAlarmCount"
	DefaultThrottlesAlarmCount = 1
	// ConfigProcessorDurationAlarmPercent: the processor's p99 duration, as a
	// percentage of its timeout, that raises the alarm (a batch that nears
	// the timeout is about to fail and be redelivered).
	ConfigProcessorDurationAlarmPercent  = "processorDurationAlarmPercent"
	DefaultProcessorDurationAlarmPercent = 80
	// ConfigAggregationLagAlarmMinutes bounds the aggregator's AggregationLag.
	ConfigAggregationLagAlarmMinutes  = "aggregationLagAlarmMinutes"
	DefaultAggregationLagAlarmMinutes = 15
	// ConfigNoPointsAlarmMinutes, when > 0, alarms when no point was
	// aggregated for that many minutes (rounded up to 5-minute periods).
	// Off by default: markets close, and a closed market is not an incident.
	ConfigNoPointsAlarmMinutes  = "noPointsAlarmMinutes"
	DefaultNoPointsAlarmMinutes = 0
)

// alarmPeriod is the period of the functions' alarms: "in 5 minutes".
const alarmPeriod = 5 * time.Minute

// alarmSettings are the resolved thresholds.
type alarmSettings struct {
	errors, throttles, durationPercent, lagMinutes, noPointsMinutes int
}

func readAlarmSettings(ctx *pulumi.Context) (alarmSettings, error) {
	var s alarmSettings
	for _, c := range []struct {
		key      string
		def, min int
		v        *int
	}{
		{ConfigFunctionErrorsAlarmCount, DefaultFunctionErrorsAlarmCount, 1, &s.errors},
		{ConfigThrottlesAlarmCount, DefaultThrottlesAlarmCount, 1, &s.throttles},
		{ConfigProcessorDurationAlarmPercent, DefaultProcessorDurationAlarmPercent, 1, &s.durationPercent},
		{ConfigAggregationLagAlarmMinutes, DefaultAggregationLagAlarmMinutes, 1, &s.lagMinutes},
		{ConfigNoPointsAlarmMinutes, DefaultNoPointsAlarmMinutes, 0, &s.noPointsMinutes},
	} {
		v, err := common.IntConfig(ctx, c.key, c.def, c.min)
		if err != nil {
			return s, err
		}
		*c.v = v
	}
	if s.durationPercent > 100 {
		return s, fmt.Errorf("config %s: %d%% of the timeout can never be reached", ConfigProcessorDurationAlarmPercent, s.durationPercent)
	}
	return s, nil
}

// newAlarms creates the point-count metric filters and the functions' alarms, notifying the messaging layer's
// topic, and re-exports the topic for the API layer. The aggregation alarms
// live here too: the aggregator and its metric namespace are this layer's.
func newAlarms(ctx *pulumi.Context, n naming.Names, up lowerLayers, fns map[string]*function, outs common.Outputs) error {
	s, err := readAlarmSettings(ctx)
	if err != nil {
		return err
	}
	if err := newPointMetricFilters(ctx, n, fns); err != nil {
		return err
	}
	topic := up.alarmTopic
	for _, a := range FunctionAlarms(n, s) {
		if _, err := common.NewAlarm(ctx, n, topic, a); err != nil {
			return err
		}
	}
	outs[outputs.AlarmTopicArn] = topic
	return nil
}

// FunctionAlarms are the compute layer's alarms for settings s.
func FunctionAlarms(n naming.Names, s alarmSettings) []common.Alarm {
	var alarms []common.Alarm
	for _, spec := range functionSpecs {
		name, _ := n.FunctionFor(spec.service) // functionSpecs holds the known services
		fnDim := map[string]string{metrics.DimFunctionName: name}
		alarms = append(alarms,
			common.Alarm{
				ID: naming.FunctionAlarm(spec.service, naming.FunctionLogErrors),
				Meaning: fmt.Sprintf("%s logged ERROR or Exception. Read its log group %s around the alarm's time; "+
					"if events were lost, `go run mage.go dlq:list`.", name, n.LogGroup(name)),
				Metric: common.Metric{Namespace: n.MetricNamespace(), Name: n.ErrorMetric(name), Stat: metrics.Sum},
				Period: alarmPeriod, Comparison: common.GreaterOrEqual, Threshold: float64(s.errors),
			},
			common.Alarm{
				ID: naming.FunctionAlarm(spec.service, naming.FunctionErrors),
				Meaning: fmt.Sprintf("Invocations of %s failed. Read its log group %s; failed events are retried and then reach the DLQ: "+
					"`go run mage.go dlq:list`, fix the cause, `go run mage.go dlq:redrive`.", name, n.LogGroup(name)),
				Metric: common.Metric{Namespace: metrics.NamespaceLambda, Name: metrics.LambdaErrors, Dimensions: fnDim, Stat: metrics.Sum},
				Period: alarmPeriod, Comparison: common.GreaterOrEqual, Threshold: float64(s.errors),
			},
			common.Alarm{
				ID: naming.FunctionAlarm(spec.service, naming.FunctionThrottles),
				Meaning: fmt.Sprintf("Invocations of %s were throttled: the account's or the function's concurrency is exhausted. "+
					"Check ConcurrentExecutions and the account quota; throttled events are retried.", name),
				Metric: common.Metric{Namespace: metrics.NamespaceLambda, Name: metrics.LambdaThrottles, Dimensions: fnDim, Stat: metrics.Sum},
				Period: alarmPeriod, Comparison: common.GreaterOrEqual, Threshold: float64(s.throttles),
			},
		)
		if spec.service == "processor" {
			limit := spec.timeout * time.Duration(s.durationPercent) / 100
			alarms = append(alarms, common.Alarm{
				ID: naming.AlarmProcessorDuration,
				Meaning: fmt.Sprintf("The p99 duration of %s exceeds %d%% of its %s timeout: batches are about to time out and be redelivered. "+
					"Check DynamoDB throttling and the batch sizes in its logs.", name, s.durationPercent, spec.timeout),
				Metric: common.Metric{Namespace: metrics.NamespaceLambda, Name: metrics.LambdaDuration, Dimensions: fnDim, Stat: metrics.P99},
				Period: alarmPeriod, Comparison: common.Greater, Threshold: float64(limit.Milliseconds()),
			})
		}
	}
	aggregator := n.Aggregator()
	alarms = append(alarms, common.Alarm{
		ID: naming.AlarmAggregationLag,
		Meaning: fmt.Sprintf("%s aggregated points more than %d minutes after their timestamp: aggregates are stale. "+
			"Check the processing queue's age, the processor's and aggregator's errors, then `go run mage.go status`.", aggregator, s.lagMinutes),
		Metric: common.Metric{Namespace: n.MetricNamespace(), Name: naming.MetricAggregationLag, Stat: metrics.Maximum},
		Period: alarmPeriod, Comparison: common.Greater, Threshold: float64((time.Duration(s.lagMinutes) * time.Minute).Milliseconds()),
	})
	if s.noPointsMinutes > 0 {
		periods := (s.noPointsMinutes + 4) / 5
		alarms = append(alarms, common.Alarm{
			ID: naming.AlarmNoPointsAggregated,
			Meaning: fmt.Sprintf("No point was aggregated for %d minutes although the aggregator ran (it publishes %s = 0 on every tick). "+
				"Check that data arrives (S3 uploads, POST /ingest) and `go run mage.go status`.", periods*5, naming.MetricPointsAggregated),
			Metric:            common.Metric{Namespace: n.MetricNamespace(), Name: naming.MetricPointsAggregated, Stat: metrics.Sum},
			Period:            alarmPeriod,
			EvaluationPeriods: periods,
			Comparison:        common.Less,
			Threshold:         1,
		})
	}
	return alarms
}
