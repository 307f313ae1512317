//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/ops"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// ingestionTestTimeout replaces the ingestion function's 300 s timeout in
// the DLQ tests' synth: a failed ingestion holds its object's report claim
// until its deadline plus 10 s, and the redrive waits for that.
const ingestionTestTimeout = 15

// shortIngestionTimeout copies the synth with the ingestion function's
// timeout set to ingestionTestTimeout seconds.
func shortIngestionTimeout(t *testing.T, synthDir string) string {
	t.Helper()
	changed := 0
	dir := editSynth(t, synthDir, func(r map[string]any) bool {
		if r["type"] == "aws:lambda/function:Function" && r["name"] == "ingestion" {
			for _, k := range []string{"inputs", "outputs"} {
				if m, ok := r[k].(map[string]any); ok {
					m["timeout"] = ingestionTestTimeout
				}
			}
			changed++
		}
		return true
	})
	if changed != 1 {
		t.Fatalf("found %d ingestion functions in the synth, want 1", changed)
	}
	return dir
}

// sendQueueMessage sends pts to the processing queue as one message from
// origin, keyed as ingestion keys them, and returns the message body.
func sendQueueMessage(ctx context.Context, t *testing.T, p *pipeline.Pipeline, origin string, pts []marketdata.Point) string {
	t.Helper()
	m := marketdata.Message{Origin: origin}
	for i, pt := range pts {
		m.Points = append(m.Points, marketdata.QueuedPoint{Key: string(marketdata.AppendSortKey(nil, pt, m.Origin, int64(i))), Point: pt})
	}
	body, err := marketdata.EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	qurl := queueURL(t, p, outputs.QueueArn)
	if _, err := p.AWS.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// opsTarget is what `go run mage.go dlq:...` resolves for the local
// pipeline: the synth's outputs, moto, and the local Lambda Invoke API.
func opsTarget(t *testing.T, p *pipeline.Pipeline) *ops.Target {
	t.Helper()
	lcfg := p.AWS.Config.Copy()
	lcfg.BaseEndpoint = aws.String(p.LambdaEndpoint)
	tg, err := ops.NewTarget(context.Background(), ops.Clients{SQS: p.AWS.SQS, S3: p.AWS.S3, DynamoDB: p.AWS.DynamoDB,
		Lambda: lambda.NewFromConfig(lcfg)}, ops.SynthOutputs(p.Plan))
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// waitGroup waits until `dlq list` shows exactly n messages of origin and
// returns them with the listing's text.
func waitGroup(ctx context.Context, t *testing.T, tg *ops.Target, origin ops.Origin, n int) ([]*ops.Message, string) {
	t.Helper()
	var msgs []*ops.Message
	var text bytes.Buffer
	if err := eventually(ctx, 3*time.Minute, func() error {
		gs, err := tg.List(ctx)
		if err != nil {
			return err
		}
		text.Reset()
		ops.PrintList(&text, gs, time.Now())
		for _, g := range gs {
			if g.Origin == origin && len(g.Messages) == n {
				msgs = g.Messages
				return nil
			}
		}
		return fmt.Errorf("no %d %s message(s) in the DLQ:\n%s", n, origin, text.String())
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), fmt.Sprintf("%-11s %d message(s), oldest", origin, n)) {
		t.Errorf("dlq list does not show the %s group:\n%s", origin, text.String())
	}
	return msgs, text.String()
}

// redrive redrives origin until it re-sent want messages (an ingestion
// failure stays while its report claim is held) and returns the output.
func redrive(ctx context.Context, t *testing.T, tg *ops.Target, origin ops.Origin, want int) string {
	t.Helper()
	var out bytes.Buffer
	if err := eventually(ctx, 2*time.Minute, func() error {
		res, err := tg.Redrive(ctx, &out, origin, false)
		if err != nil {
			return err
		}
		if res.Redriven[origin] != want {
			return fmt.Errorf("redrive: %+v\n%s", res, out.String())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func assertNoDLQ(ctx context.Context, t *testing.T, tg *ops.Target, origin ops.Origin) {
	t.Helper()
	gs, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Origin == origin {
			t.Errorf("the DLQ still holds %d %s message(s)", len(g.Messages), origin)
		}
	}
}

// The dead-letter queue end to end: for each origin, a failure reaches the
// DLQ, `dlq list` shows it with its origin and error, the cause is removed,
// `dlq redrive` sends it back where it came from, and its points are stored
// and aggregated; a message of unknown origin survives a redrive untouched.
func TestDLQTriageAndRedrive(t *testing.T) {
	synthDir, buildDir := requireBuild(t)
	p := startPipeline(t, shortIngestionTimeout(t, synthDir), buildDir)
	ctx := context.Background()
	tg := opsTarget(t, p)

	t.Run("poison queue message", func(t *testing.T) {
		// Points a little further ahead than the processor accepts: the
		// message fails until the clock catches up (the cause removed).
		const margin = 75 * time.Second
		ts := time.Now().Add(limits.MaxFutureSkew + margin)
		pts := []marketdata.Point{
			{Symbol: "E2EDLQQ", Timestamp: ts.UnixMilli(), Price: 10.5, Volume: "100"},
			{Symbol: "E2EDLQQ", Timestamp: ts.UnixMilli() + 1, Price: 10.7, Volume: "50"},
		}
		body := sendQueueMessage(ctx, t, p, "e2e-dlq-queue", pts)
		msgs, _ := waitGroup(ctx, t, tg, ops.OriginQueue, 1)
		if msgs[0].Body != body || !strings.Contains(msgs[0].Error, "failed") {
			t.Errorf("queue message in the DLQ: body intact %v, error %q", msgs[0].Body == body, msgs[0].Error)
		}
		if d := time.Until(ts.Add(-limits.MaxFutureSkew)) + 2*time.Second; d > 0 {
			time.Sleep(d) // the points are now within the accepted skew
		} else {
			t.Logf("the points were already valid %s before the redrive", -d)
		}
		redrive(ctx, t, tg, ops.OriginQueue, 1)
		if err := waitAggregated(ctx, p, "E2EDLQQ", expectedAggregates(pts), 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := table(p).Points(ctx, "E2EDLQQ", 0, ts.Add(time.Hour).UnixMilli())
		if err != nil || samePoints(got, pts) != nil {
			t.Errorf("stored points after the redrive: %v, %v", samePoints(got, pts), err)
		}
		assertNoDLQ(ctx, t, tg, ops.OriginQueue)
	})

	t.Run("ingestion failure", func(t *testing.T) {
		// The object is unreadable at first (a bucket policy denies reading
		// it), readable later (the policy removed).
		const key = "e2e-dlq/unreadable.csv"
		bucket := p.Bucket()
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"E2EDenyRead","Effect":"Deny","Principal":"*",`+
			`"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::%s/e2e-dlq/*"}]}`, bucket)
		if _, err := p.AWS.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		pts := dayPoints("E2EDLQI", time.Now().Add(-3*time.Hour), 30)
		if _, err := upload(ctx, p, key, csvObject(pts)); err != nil {
			t.Fatal(err)
		}
		msgs, _ := waitGroup(ctx, t, tg, ops.OriginIngestion, 1)
		// moto answers the denied read 403 Forbidden (AWS: 403 AccessDenied).
		if m := msgs[0]; m.Attributes[ops.AttrRequestID] == "" || m.Attributes[ops.AttrErrorCode] == "" ||
			!strings.Contains(m.Attributes[ops.AttrErrorMessage], "GetObject") || !strings.Contains(m.Attributes[ops.AttrErrorMessage], "403") {
			t.Errorf("the ingestion failure lacks Lambda's attributes: %v", m.Attributes)
		}
		if _, err := p.AWS.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		out := redrive(ctx, t, tg, ops.OriginIngestion, 1)
		t.Logf("redrive:\n%s", out)
		if err := waitAggregated(ctx, p, "E2EDLQI", expectedAggregates(pts), 3*time.Minute); err != nil {
			t.Fatal(err)
		}
		if rep, err := waitReport(ctx, p, key, time.Minute); err != nil || rep.Status != marketdata.ReportCompleted {
			t.Errorf("report after the redrive: %v, %v", rep, err)
		}
		assertNoDLQ(ctx, t, tg, ops.OriginIngestion)
	})

	t.Run("aggregator failure", func(t *testing.T) {
		restore, err := p.Glue.Break(tg.AggregatorFunction, "e2e: the aggregator's deploy is broken")
		if err != nil {
			t.Fatal(err)
		}
		defer restore()
		pts := dayPoints("E2EDLQA", time.Now().Add(-2*time.Hour), 12)
		sendQueueMessage(ctx, t, p, "e2e-dlq-aggregator", pts)
		msgs, _ := waitGroup(ctx, t, tg, ops.OriginAggregator, 1)
		if !strings.Contains(msgs[0].Error, "deploy is broken") || msgs[0].Attributes[ops.AttrRequestID] == "" {
			t.Errorf("aggregator failure: error %q, attributes %v", msgs[0].Error, msgs[0].Attributes)
		}
		if aggs, _ := table(p).Aggregates(ctx, "E2EDLQA"); len(aggs) != 0 {
			t.Errorf("aggregates exist while the aggregator is broken: %v", aggs)
		}
		restore()
		redrive(ctx, t, tg, ops.OriginAggregator, 1)
		if err := waitAggregated(ctx, p, "E2EDLQA", expectedAggregates(pts), 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		assertNoDLQ(ctx, t, tg, ops.OriginAggregator)
	})

	t.Run("unknown origin stays", func(t *testing.T) {
		gs, err := tg.List(ctx)
		if err != nil || len(gs) != 0 {
			t.Fatalf("the DLQ is not empty after the redrives: %v, %v", gs, err)
		}
		const body = "not a pipeline message"
		if _, err := p.AWS.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(tg.DLQURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
		waitGroup(ctx, t, tg, ops.OriginUnknown, 1)
		var out bytes.Buffer
		res, err := tg.Redrive(ctx, &out, "", false)
		if err != nil || res.Kept[ops.OriginUnknown] != 1 || len(res.Redriven) != 0 || !strings.Contains(out.String(), "origin unknown") {
			t.Fatalf("redrive of an unknown message: %+v, %v\n%s", res, err, out.String())
		}
		msgs, _ := waitGroup(ctx, t, tg, ops.OriginUnknown, 1)
		if msgs[0].Body != body {
			t.Errorf("the unknown message changed: %q", msgs[0].Body)
		}
		var shown bytes.Buffer
		if err := tg.Show(ctx, &shown); err != nil || !strings.Contains(shown.String(), body) {
			t.Errorf("dlq show: %v\n%s", err, shown.String())
		}
		var status bytes.Buffer
		if err := tg.Status(ctx, &status); err != nil {
			t.Fatal(err)
		}
		// Every symbol of the test, its points hours old or not, is listed
		// (status reads the symbols index, not the active-window index).
		for _, want := range []string{"processing", "unknown", "e2e-dlq/unreadable.csv", "E2EDLQQ", "E2EDLQI", "E2EDLQA"} {
			if !strings.Contains(status.String(), want) {
				t.Errorf("status lacks %q:\n%s", want, status.String())
			}
		}
		t.Logf("status:\n%s", status.String())
	})
}

// replay re-ingests existing objects: completed versions are skipped, unless
// forced, and a forced replay stores nothing twice.
func TestReplay(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	tg := opsTarget(t, p)
	pts := dayPoints("E2EREPLAY", time.Now().Add(-4*time.Hour), 24)
	if _, err := upload(ctx, p, "e2e-replay/a.csv", csvObject(pts)); err != nil {
		t.Fatal(err)
	}
	if _, err := waitReport(ctx, p, "e2e-replay/a.csv", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sent, skipped, err := tg.Replay(ctx, &out, "e2e-replay/", false)
	if err != nil || sent != 0 || skipped != 1 {
		t.Fatalf("replay without --force: sent %d skipped %d, %v\n%s", sent, skipped, err, out.String())
	}
	sent, skipped, err = tg.Replay(ctx, &out, "e2e-replay/", true)
	if err != nil || sent != 1 || skipped != 0 {
		t.Fatalf("replay --force: sent %d skipped %d, %v\n%s", sent, skipped, err, out.String())
	}
	// The forced replay is a redelivery of a completed version: counted,
	// nothing queued, nothing stored twice.
	if err := eventually(ctx, time.Minute, func() error {
		reps, err := table(p).Reports(ctx, p.Bucket(), "e2e-replay/a.csv")
		if err != nil || len(reps) != 1 || reps[0].Redeliveries == 0 {
			return fmt.Errorf("report after the forced replay: %v, %v", reps, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, time.Minute, func() error {
		got, err := table(p).Points(ctx, "E2EREPLAY", 0, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		return samePoints(got, pts)
	}); err != nil {
		t.Errorf("points after the replays: %v", err)
	}
}
