package common

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// Alarm comparison operators and the missing-data treatment every alarm uses.
const (
	GreaterOrEqual = "GreaterThanOrEqualToThreshold"
	Greater        = "GreaterThanThreshold"
	Less           = "LessThanThreshold"
	// NotBreaching: a period without data (an idle pipeline: no messages, no
	// invocations, no requests) counts as good, so idle is OK, never ALARM.
	NotBreaching = "notBreaching"
)

// Metric is one CloudWatch metric with its statistic.
type Metric struct {
	Namespace, Name string
	Dimensions      map[string]string
	// Stat is a statistic (Sum, Maximum, ...) or a percentile (p99).
	Stat string
}

// Alarm is a metric alarm of the pipeline: a single metric, or a math
// Expression over Inputs (ids m0, m1, ... in order).
type Alarm struct {
	// ID names the alarm (naming.Names.Alarm) and its runbook paragraph.
	ID string
	// Meaning says what the alarm means and what to do; the runbook link is
	// appended.
	Meaning string
	Metric  Metric
	// Expression, when set, is alarmed on instead of Metric; it refers to
	// Inputs as m0, m1, ...
	Expression string
	Inputs     []Metric
	Period     time.Duration
	// EvaluationPeriods (default 1) periods are evaluated, of which
	// DatapointsToAlarm (default all) must breach.
	EvaluationPeriods, DatapointsToAlarm int
	Comparison                           string
	Threshold                            float64
}

// Description is the alarm's description: its meaning and the runbook link.
func (a Alarm) Description() string {
	return a.Meaning + " Runbook: " + naming.RunbookLink(a.ID)
}

// NewAlarm creates the alarm, notifying topic on ALARM and on OK, with missing
// data not breaching and the pipeline's tags. Its logical name is
// "alarm-<id>" in lower case.
func NewAlarm(ctx *pulumi.Context, n naming.Names, topic pulumi.StringInput, a Alarm) (*cloudwatch.MetricAlarm, error) {
	if a.Period < time.Minute || a.Period%time.Minute != 0 {
		return nil, fmt.Errorf("alarm %s: period %s is not a whole number of minutes", a.ID, a.Period)
	}
	periods := max(a.EvaluationPeriods, 1)
	datapoints := a.DatapointsToAlarm
	if datapoints == 0 {
		datapoints = periods
	}
	period := int(a.Period / time.Second)
	args := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(n.Alarm(a.ID)),
		AlarmDescription:   pulumi.String(a.Description()),
		ComparisonOperator: pulumi.String(a.Comparison),
		Threshold:          pulumi.Float64(a.Threshold),
		EvaluationPeriods:  pulumi.Int(periods),
		DatapointsToAlarm:  pulumi.Int(datapoints),
		TreatMissingData:   pulumi.String(NotBreaching),
		AlarmActions:       pulumi.Array{topic},
		OkActions:          pulumi.Array{topic},
		Tags:               Tags(),
	}
	if a.Expression == "" {
		args.Namespace = pulumi.String(a.Metric.Namespace)
		args.MetricName = pulumi.String(a.Metric.Name)
		if len(a.Metric.Dimensions) > 0 {
			args.Dimensions = pulumi.ToStringMap(a.Metric.Dimensions)
		}
		args.Period = pulumi.Int(period)
		if isPercentile(a.Metric.Stat) {
			args.ExtendedStatistic = pulumi.String(a.Metric.Stat)
		} else {
			args.Statistic = pulumi.String(a.Metric.Stat)
		}
	} else {
		queries := cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
			Id:         pulumi.String("e0"),
			Expression: pulumi.String(a.Expression),
			Label:      pulumi.String(a.ID),
			ReturnData: pulumi.Bool(true),
		}}
		for i, m := range a.Inputs {
			metric := cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace:  pulumi.String(m.Namespace),
				MetricName: pulumi.String(m.Name),
				Period:     pulumi.Int(period),
				Stat:       pulumi.String(m.Stat),
			}
			if len(m.Dimensions) > 0 {
				metric.Dimensions = pulumi.ToStringMap(m.Dimensions)
			}
			queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.Sprintf("m%d", i),
				Metric:     metric,
				ReturnData: pulumi.Bool(false),
			})
		}
		args.MetricQueries = queries
	}
	return cloudwatch.NewMetricAlarm(ctx, "alarm-"+strings.ToLower(a.ID), args)
}

func isPercentile(stat string) bool { return strings.HasPrefix(stat, "p") }

// IntConfig reads an integer project config key (Pulumi.yaml types
// thresholds as integers: it has no floating-point config type), with def
// when unset, and checks it is at least min.
func IntConfig(ctx *pulumi.Context, key string, def, min int) (int, error) {
	v, err := config.New(ctx, "").TryInt(key)
	switch {
	case errors.Is(err, config.ErrMissingVar):
		v = def
	case err != nil:
		return 0, fmt.Errorf("config %s: %w", key, err)
	}
	if v < min {
		return 0, fmt.Errorf("config %s: %d is below %d", key, v, min)
	}
	return v, nil
}
