package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/arns"
	"github.com/marketanalytics/pipeline/shared/metrics"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Config keys of the API's alarms, with their defaults. Pulumi.yaml declares
// the same keys and defaults.
const (
	// ConfigAPI5XXAlarmPercent: the share of requests answered 5XX in 5
	// minutes, in percent, that raises the alarm.
	ConfigAPI5XXAlarmPercent  = "api5xxAlarmPercent"
	DefaultAPI5XXAlarmPercent = 1
	// ConfigAPILatencyAlarmMs bounds the API's p99 latency over 5 minutes.
	// POST /ingest bodies go up to 10 MB, which ingestion validates and
	// queues within a few seconds.
	ConfigAPILatencyAlarmMs  = "apiLatencyAlarmMs"
	DefaultAPILatencyAlarmMs = 5000
)

// The API layer holds the API's alarms and the dashboard, which shows every
// layer: it is the top layer, deployed last, when every watched resource
// exists.

// newMonitoring creates the API's alarms (notifying the alarm topic the
// compute layer re-exports from messaging) and the dashboard.
func newMonitoring(ctx *pulumi.Context, n naming.Names, compute *common.Layer) error {
	percent, err := common.IntConfig(ctx, ConfigAPI5XXAlarmPercent, DefaultAPI5XXAlarmPercent, 1)
	if err != nil {
		return err
	}
	latency, err := common.IntConfig(ctx, ConfigAPILatencyAlarmMs, DefaultAPILatencyAlarmMs, 1)
	if err != nil {
		return err
	}
	topic := compute.String(outputs.AlarmTopicArn)
	for _, a := range APIAlarms(n, percent, latency) {
		if _, err := common.NewAlarm(ctx, n, topic, a); err != nil {
			return err
		}
	}
	id, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("looking up the account: %w", err)
	}
	body, err := json.Marshal(DashboardBody(n, id.AccountId))
	if err != nil {
		return fmt.Errorf("dashboard body: %w", err)
	}
	_, err = cloudwatch.NewDashboard(ctx, "dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(n.Dashboard()),
		DashboardBody: pulumi.String(string(body)),
	})
	return err
}

// apiMetric is a metric of the API's stage.
func apiMetric(n naming.Names, name, stat string) common.Metric {
	return common.Metric{
		Namespace:  metrics.NamespaceAPIGateway,
		Name:       name,
		Dimensions: map[string]string{metrics.DimAPIName: n.API(), metrics.DimStage: n.APIStage()},
		Stat:       stat,
	}
}

// APIAlarms are the API's alarms.
func APIAlarms(n naming.Names, percent5xx, latencyMs int) []common.Alarm {
	return []common.Alarm{
		{
			ID: naming.AlarmAPI5XXRate,
			Meaning: fmt.Sprintf("More than %d%% of the requests to %s were answered 5XX: the functions fail or are throttled. "+
				"Check the ingestion and aggregator Errors/Throttles alarms and their logs.", percent5xx, n.API()),
			// 5XXError summed is the count of 5XX answers; with no request
			// both are missing and so is the rate (idle is OK).
			Expression: "100 * m0 / m1",
			Inputs:     []common.Metric{apiMetric(n, metrics.API5XXError, metrics.Sum), apiMetric(n, metrics.APICount, metrics.Sum)},
			Period:     5 * time.Minute,
			Comparison: common.Greater,
			Threshold:  float64(percent5xx),
		},
		{
			ID: naming.AlarmAPILatency,
			Meaning: fmt.Sprintf("The p99 latency of %s exceeds %d ms. Check the functions' durations on the dashboard %s and their throttles.",
				n.API(), latencyMs, n.Dashboard()),
			Metric:     apiMetric(n, metrics.APILatency, metrics.P99),
			Period:     5 * time.Minute,
			Comparison: common.Greater,
			Threshold:  float64(latencyMs),
		},
	}
}

// dashboardPeriod is the graphs' resolution: per minute.
const dashboardPeriod = 60

func graph(title string, lines ...MetricLine) Widget {
	return Widget{Type: "metric", Width: 8, Height: 6, Properties: &MetricWidget{
		Title: title, View: "timeSeries", Region: naming.Region, Period: dashboardPeriod, Metrics: lines,
	}}
}

func line(m common.Metric, label string) MetricLine {
	l := MetricLine{Namespace: m.Namespace, Name: m.Name, Stat: m.Stat, Label: label}
	for k, v := range m.Dimensions {
		l.Dimensions = append(l.Dimensions, Dimension{k, v})
	}
	// Dimensions in a stable order, so the body (and the diff) is stable.
	for i := 1; i < len(l.Dimensions); i++ {
		for j := i; j > 0 && l.Dimensions[j].Name < l.Dimensions[j-1].Name; j-- {
			l.Dimensions[j], l.Dimensions[j-1] = l.Dimensions[j-1], l.Dimensions[j]
		}
	}
	return l
}

// AlarmARN is the ARN of the alarm named name in account.
func AlarmARN(account, name string) string {
	return arns.Alarm(naming.Region, account, name)
}

// DashboardBody is the dashboard of the pipeline for names n in account:
// throughput, the queues, the functions, the API, aggregation lag and the
// state of every alarm the stacks create by default.
func DashboardBody(n naming.Names, account string) Dashboard {
	pipeline := func(name string) common.Metric {
		return common.Metric{Namespace: n.MetricNamespace(), Name: name, Stat: metrics.Sum}
	}
	queue := func(q, name, stat string) common.Metric {
		return common.Metric{Namespace: metrics.NamespaceSQS, Name: name, Dimensions: map[string]string{metrics.DimQueueName: q}, Stat: stat}
	}
	perFunction := func(name, stat, suffix string) []MetricLine {
		var ls []MetricLine
		for _, fn := range n.Functions() {
			ls = append(ls, line(common.Metric{Namespace: metrics.NamespaceLambda, Name: name,
				Dimensions: map[string]string{metrics.DimFunctionName: fn}, Stat: stat}, fn+suffix))
		}
		return ls
	}
	var logErrors []MetricLine
	for _, fn := range n.Functions() {
		logErrors = append(logErrors, line(pipeline(n.ErrorMetric(fn)), fn+" logged errors"))
	}
	var alarms []string
	for _, id := range naming.AlarmIDs() {
		alarms = append(alarms, AlarmARN(account, n.Alarm(id)))
	}
	lagMetric := pipeline(naming.MetricAggregationLag)
	lagMetric.Stat = metrics.Maximum
	widgets := []Widget{
		{Type: "alarm", Width: 24, Height: 4, Properties: &AlarmWidget{Title: "Alarms", Alarms: alarms}},
		graph("Points per minute",
			line(pipeline(naming.MetricPointsIngested), "ingested"),
			line(pipeline(naming.MetricPointsStored), "stored"),
			line(pipeline(naming.MetricPointsAggregated), "aggregated")),
		graph("Processing queue depth",
			line(queue(n.ProcessingQueue(), metrics.SQSVisible, metrics.Maximum), "visible"),
			line(queue(n.ProcessingQueue(), metrics.SQSNotVisible, metrics.Maximum), "in flight")),
		graph("Oldest message age (s)",
			line(queue(n.ProcessingQueue(), metrics.SQSOldestAge, metrics.Maximum), n.ProcessingQueue()),
			line(queue(n.DeadLetterQueue(), metrics.SQSOldestAge, metrics.Maximum), n.DeadLetterQueue())),
		graph("Dead-letter queue depth",
			line(queue(n.DeadLetterQueue(), metrics.SQSVisible, metrics.Maximum), n.DeadLetterQueue())),
		graph("Errors per function", append(perFunction(metrics.LambdaErrors, metrics.Sum, " failed invocations"), logErrors...)...),
		graph("Throttles per function", perFunction(metrics.LambdaThrottles, metrics.Sum, "")...),
		graph("Duration p50/p99 (ms)", append(perFunction(metrics.LambdaDuration, metrics.P50, " p50"),
			perFunction(metrics.LambdaDuration, metrics.P99, " p99")...)...),
		graph("API requests",
			line(apiMetric(n, metrics.APICount, metrics.Sum), "requests"),
			line(apiMetric(n, metrics.API4XXError, metrics.Sum), "4XX"),
			line(apiMetric(n, metrics.API5XXError, metrics.Sum), "5XX")),
		graph("API latency (ms)",
			line(apiMetric(n, metrics.APILatency, metrics.P50), "p50"),
			line(apiMetric(n, metrics.APILatency, metrics.P99), "p99")),
		graph("Aggregation lag (ms)", line(lagMetric, naming.MetricAggregationLag)),
	}
	return Dashboard{Widgets: layout(widgets)}
}
