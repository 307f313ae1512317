package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// pointMetric is a metric filter summing a numeric field of a function's JSON
// log records (the dashboard's points ingested and stored per minute).
type pointMetric struct {
	service, metric, field string
}

var pointMetrics = []pointMetric{
	{"ingestion", naming.MetricPointsIngested, naming.LogFieldAccepted},
	{"processor", naming.MetricPointsStored, naming.LogFieldStored},
}

// PointFilterPattern selects the JSON log records carrying a numeric field.
func PointFilterPattern(field string) string { return fmt.Sprintf("{ $.%s >= 0 }", field) }

// newPointMetricFilters creates the point-count metric filters on the log
// groups of fns (by service), after the functions (hence their log groups).
func newPointMetricFilters(ctx *pulumi.Context, n naming.Names, fns map[string]*function) error {
	for _, pm := range pointMetrics {
		fn, ok := fns[pm.service]
		if !ok {
			return fmt.Errorf("metric %s: no function %s", pm.metric, pm.service)
		}
		if _, err := cloudwatch.NewLogMetricFilter(ctx, pm.service+"-"+pm.metric, &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(fn.name + "-" + pm.metric),
			LogGroupName: pulumi.String(n.LogGroup(fn.name)),
			Pattern:      pulumi.String(PointFilterPattern(pm.field)),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name:      pulumi.String(pm.metric),
				Namespace: pulumi.String(n.MetricNamespace()),
				Value:     pulumi.String("$." + pm.field),
				Unit:      pulumi.String("Count"),
			},
		}, pulumi.DependsOn([]pulumi.Resource{fn.fn})); err != nil {
			return err
		}
	}
	return nil
}
