package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/lambdarun"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// linearity is what the summary reports of the aggregation's cost (README,
// "Linear aggregation"): the items the aggregator read per point stored
// (its naming.MetricItemsRead, summed since the run started) and the
// partial aggregates the processor wrote.
type linearity struct {
	itemsRead, partials, points int64
}

func (l linearity) amplification() float64 { return float64(l.itemsRead) / float64(max(l.points, 1)) }

func (l linearity) String() string {
	return fmt.Sprintf("read amplification: %.4f items read by the aggregator per point stored (%d for %d points; goal <= 1.1)\n"+
		"partials:         %d written, %.0f per million points stored (%.4f extra writes per point)\n",
		l.amplification(), l.itemsRead, l.points, l.partials, float64(l.partials)*1e6/float64(max(l.points, 1)), float64(l.partials)/float64(max(l.points, 1)))
}

func measureLinearity(ctx context.Context, p *pipeline.Pipeline, since time.Time, symbols []string, points int64) (linearity, error) {
	l := linearity{points: points}
	table := localclient.Table{DB: p.AWS.DynamoDB, Name: p.Table()}
	for _, s := range symbols {
		n, err := table.CountPartials(ctx, s)
		if err != nil {
			return l, err
		}
		l.partials += n
	}
	fns, err := lambdarun.Functions(p.Plan)
	if err != nil {
		return l, err
	}
	var ns string
	for _, f := range fns { // every function has the pipeline's one namespace
		if v := f.Env[lambdaenv.MetricNamespace]; v != "" {
			ns = v
		}
	}
	if ns == "" {
		return l, errors.New("no function has " + lambdaenv.MetricNamespace)
	}
	// The AWS JSON protocol, which moto speaks (the SDK's default, CBOR,
	// it does not), as the aggregator's own client.
	cw := cloudwatch.NewFromConfig(p.AWS.Config, func(o *cloudwatch.Options) {
		o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
	})
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(since.Add(-time.Minute)),
		EndTime:   aws.Time(time.Now().Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("reads"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(naming.MetricItemsRead)},
				Period: aws.Int32(int32(time.Since(since).Round(time.Minute).Seconds() + 180)),
				Stat:   aws.String("Sum"),
			},
		}},
	})
	if err != nil {
		return l, fmt.Errorf("GetMetricData %s/%s: %w", ns, naming.MetricItemsRead, err)
	}
	for _, r := range out.MetricDataResults {
		for _, v := range r.Values {
			l.itemsRead += int64(v)
		}
	}
	return l, nil
}
