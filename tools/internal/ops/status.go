package ops

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
)

// statusReports is how many of the latest objects' reports status shows.
const statusReports = 10

// Status prints, on one screen: queue depths, the DLQ by origin, alarm
// states, the latest ingestion reports (failed first) and the last
// aggregated window per symbol.
func (t *Target) Status(ctx context.Context, w io.Writer) error {
	now := t.now()
	fmt.Fprintf(w, "market-data pipeline %s — %s\n\nQueues\n", t.Names.Suffix(), now.UTC().Format(time.RFC3339))
	for _, q := range []struct{ name, url string }{{"processing", t.QueueURL}, {"dead-letter", t.DLQURL}} {
		out, err := t.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.url, err)
		}
		a := out.Attributes
		fmt.Fprintf(w, "  %-12s visible %s, in flight %s, delayed %s\n", q.name,
			a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)],
			a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)],
			a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)])
	}

	fmt.Fprintln(w, "\nDead-letter queue by origin")
	groups, err := t.List(ctx)
	if err != nil {
		return err
	}
	PrintList(indent{w}, groups, now)

	fmt.Fprintln(w, "\nAlarms")
	if err := t.printAlarms(ctx, w); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nLatest ingestion reports (failed first)")
	if err := t.printReports(ctx, w); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nLast aggregated window per symbol")
	return t.printWindows(ctx, w, now)
}

// indent prefixes every write with two spaces (PrintList writes whole lines).
type indent struct{ w io.Writer }

func (i indent) Write(b []byte) (int, error) {
	if _, err := i.w.Write([]byte("  ")); err != nil {
		return 0, err
	}
	return i.w.Write(b)
}

func (t *Target) printAlarms(ctx context.Context, w io.Writer) error {
	if t.CloudWatch == nil {
		fmt.Fprintln(w, "  (not shown: no CloudWatch client)")
		return nil
	}
	var names []string
	for _, id := range append(naming.AlarmIDs(), naming.AlarmNoPointsAggregated) {
		names = append(names, t.Names.Alarm(id))
	}
	out, err := t.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		return fmt.Errorf("describing the alarms: %w", err)
	}
	if len(out.MetricAlarms) == 0 {
		fmt.Fprintln(w, "  none found (the local pipeline does not create alarms)")
	}
	sort.Slice(out.MetricAlarms, func(i, j int) bool {
		// ALARM first, then by name.
		a, b := out.MetricAlarms[i], out.MetricAlarms[j]
		if (a.StateValue == "ALARM") != (b.StateValue == "ALARM") {
			return a.StateValue == "ALARM"
		}
		return aws.ToString(a.AlarmName) < aws.ToString(b.AlarmName)
	})
	for _, a := range out.MetricAlarms {
		fmt.Fprintf(w, "  %-17s %s", a.StateValue, aws.ToString(a.AlarmName))
		if a.StateValue == "ALARM" {
			fmt.Fprintf(w, " — %s", aws.ToString(a.StateReason))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// printReports shows the reports of the most recently written object
// versions (listed from the bucket: reports have no index by time, and the
// table is never scanned).
func (t *Target) printReports(ctx context.Context, w io.Writer) error {
	type version struct {
		key, id string
		at      time.Time
	}
	var vs []version
	p := s3.NewListObjectVersionsPaginator(t.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(t.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the bucket: %w", err)
		}
		for _, v := range page.Versions {
			vs = append(vs, version{aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToTime(v.LastModified)})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].at.After(vs[j].at) })
	seen := map[string]bool{}
	type row struct {
		failed bool
		line   string
	}
	var rows []row
	table := localclient.Table{DB: t.DynamoDB, Name: t.Table}
	for _, v := range vs {
		if len(seen) == statusReports {
			break
		}
		if seen[v.key] {
			continue
		}
		seen[v.key] = true
		reps, err := table.Reports(ctx, t.Bucket, v.key)
		if err != nil {
			return err
		}
		if len(reps) == 0 {
			rows = append(rows, row{true, fmt.Sprintf("  %-10s s3://%s/%s (uploaded %s): no report — `replay --prefix %s`",
				"NONE", t.Bucket, v.key, v.at.UTC().Format(time.RFC3339), v.key)})
			continue
		}
		for _, r := range reps {
			st := r.Status
			line := fmt.Sprintf("  %-11s s3://%s/%s accepted %d rejected %d", st, t.Bucket, v.key, r.Accepted, r.Rejected)
			if r.Error != "" {
				line += " — " + r.Error
			}
			rows = append(rows, row{st != marketdata.ReportCompleted, line})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].failed && !rows[j].failed })
	if len(rows) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, r := range rows {
		fmt.Fprintln(w, r.line)
	}
	return nil
}

// statusSymbols bounds the symbols status shows a window for (one Query
// each): enough for a glance, and a busy table's thousands stay behind
// GET /symbols.
const statusSymbols = 40

func (t *Target) printWindows(ctx context.Context, w io.Writer, now time.Time) error {
	table := localclient.Table{DB: t.DynamoDB, Name: t.Table}
	syms, err := table.Symbols(ctx)
	if err != nil {
		return err
	}
	if len(syms) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for i, s := range syms {
		if i == statusSymbols {
			fmt.Fprintf(w, "  … and %d more symbols\n", len(syms)-i)
			break
		}
		a, ok, err := table.LastAggregate(ctx, s)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(w, "  %-10s no window aggregated yet\n", s)
			continue
		}
		start := time.UnixMilli(a.WindowStart).UTC()
		fmt.Fprintf(w, "  %-10s %s (%s ago) close %v volume %v trades %v\n", s, start.Format(time.RFC3339),
			now.Sub(start).Truncate(time.Second), a.Close, a.Volume, a.Trades)
	}
	return nil
}
