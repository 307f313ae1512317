//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Bad rows mixed into the uploaded objects; each must be reported, not stored.
var (
	badCSV  = []string{"E2ECSV,1700000000000,-5,100,,,XNAS", "e2ecsv,1700000000000,10,100,,,XNAS"}
	badJSON = []string{`{"symbol":"E2ENDJ","timestamp":1700000000000,"price":"NaN","volume":1}`, `{"symbol":"E2ENDJ","timestamp":1700000000000,"price":5,"volume":1,"bid":7,"ask":6}`}
)

// uploadAndVerify uploads a CSV and a gzip NDJSON object and checks the
// whole S3 path: reports with the bad rows rejected, every good point stored,
// and aggregates equal to an independent computation (reached through the
// processor's custom events: the tests run no schedule timer).
func uploadAndVerify(ctx context.Context, p *pipeline.Pipeline, prefix string, start time.Time, timeout time.Duration) error {
	cases := []struct {
		symbol, key string
		pts         []marketdata.Point
		body        []byte
	}{}
	csvPts := dayPoints(prefix+"CSV", start, 240)
	ndjPts := dayPoints(prefix+"NDJ", start, 300)
	cases = append(cases,
		struct {
			symbol, key string
			pts         []marketdata.Point
			body        []byte
		}{prefix + "CSV", "e2e/" + prefix + "/trades.csv", csvPts, csvObject(csvPts, badCSV...)},
		struct {
			symbol, key string
			pts         []marketdata.Point
			body        []byte
		}{prefix + "NDJ", "e2e/" + prefix + "/trades+more.ndjson.gz", ndjPts, ndjsonGz(ndjPts, badJSON...)},
	)
	for _, c := range cases {
		if _, err := upload(ctx, p, c.key, c.body); err != nil {
			return err
		}
	}
	for _, c := range cases {
		rep, err := waitReport(ctx, p, c.key, timeout)
		if err != nil {
			return err
		}
		if rep.Status != marketdata.ReportCompleted {
			return fmt.Errorf("%s: report status %v: %+v", c.key, rep.Status, rep)
		}
		if rep.Accepted != int64(len(c.pts)) || rep.Rejected != 2 {
			return fmt.Errorf("%s: report accepted %d rejected %d, want %d and 2: %+v", c.key, rep.Accepted, rep.Rejected, len(c.pts), rep)
		}
		if len(rep.Rejections) != 2 {
			return fmt.Errorf("%s: %d rejections reported, want 2 with reasons: %v", c.key, len(rep.Rejections), rep.Rejections)
		}
		for _, r := range rep.Rejections {
			if r.Reason == "" || r.Index <= 0 {
				return fmt.Errorf("%s: rejection without line or reason: %+v", c.key, r)
			}
		}
	}
	for _, c := range cases {
		if err := waitAggregated(ctx, p, c.symbol, expectedAggregates(c.pts), timeout); err != nil {
			return fmt.Errorf("%s: %w", c.symbol, err)
		}
		got, err := table(p).Points(ctx, c.symbol, 0, time.Now().Add(48*time.Hour).UnixMilli())
		if err != nil {
			return err
		}
		if err := samePoints(got, c.pts); err != nil {
			return fmt.Errorf("%s raw points: %w", c.symbol, err)
		}
	}
	return nil
}

// samePoints compares two multisets of points.
func samePoints(got, want []marketdata.Point) error {
	count := map[marketdata.Point]int{}
	for _, p := range want {
		count[p]++
	}
	for _, p := range got {
		count[p]--
	}
	for p, n := range count {
		if n != 0 {
			return fmt.Errorf("%d stored, want %d: point %+v differs by %d", len(got), len(want), p, -n)
		}
	}
	return nil
}

func TestS3UploadToAggregates(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	before := p.Glue.Stats().RuleEvents.Load()
	if err := uploadAndVerify(ctx, p, "UP", time.Now().Add(-2*time.Hour), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if p.Glue.Stats().RuleEvents.Load() == before {
		t.Fatal("aggregates appeared without any custom event through the rule: the test would not prove the event path")
	}
}

func TestSignedIngest(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	pts := dayPoints("E2EAPI", time.Now().Add(-3*time.Hour), 60)
	body, _ := json.Marshal(map[string]any{"points": append(append([]any{}, toAny(pts)...), map[string]any{"symbol": "E2EAPI", "timestamp": 1, "price": -1, "volume": 1})})
	resp, err := localclient.PostIngest(ctx, stage, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusAccepted {
		t.Fatalf("signed POST /ingest: %d %s, want 202", resp.Status, resp.Body)
	}
	var ir marketdata.IngestResponse
	if err := json.Unmarshal(resp.Body, &ir); err != nil {
		t.Fatal(err)
	}
	if ir.Accepted != len(pts) || len(ir.Rejected) != 1 || ir.Rejected[0].Index != int64(len(pts)) || ir.Rejected[0].Reason == "" || ir.RequestID == "" {
		t.Fatalf("answer %+v, want %d accepted and the last point rejected with a reason", ir, len(pts))
	}
	if err := eventually(ctx, time.Minute, func() error {
		got, err := table(p).Points(ctx, "E2EAPI", 0, time.Now().Add(48*time.Hour).UnixMilli())
		if err != nil {
			return err
		}
		return samePoints(got, pts)
	}); err != nil {
		t.Fatal(err)
	}
}

// A body starting with a UTF-8 byte order mark (what Windows tools often
// write) goes through the API to the function, which skips the mark as it
// does in S3 objects: every point is stored and aggregated. API Gateway's request validator
// used to refuse it with 400 "Invalid request body" before the function ran.
func TestIngestBodyWithBOM(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	pts := dayPoints("E2EBOM", time.Now().Add(-5*time.Hour), 20)
	body, err := json.Marshal(map[string]any{"points": pts})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := localclient.PostIngest(ctx, stage, append([]byte("\xEF\xBB\xBF"), body...))
	if err != nil {
		t.Fatal(err)
	}
	var ir marketdata.IngestResponse
	if resp.Status != http.StatusAccepted || json.Unmarshal(resp.Body, &ir) != nil || ir.Accepted != len(pts) || len(ir.Rejected) != 0 {
		t.Fatalf("POST /ingest with a BOM: %d %s, want 202 with %d accepted", resp.Status, resp.Body, len(pts))
	}
	checkStored(ctx, t, p, "E2EBOM", pts)
}

func toAny(pts []marketdata.Point) []any {
	out := make([]any, len(pts))
	for i, p := range pts {
		out[i] = p
	}
	return out
}

func TestUnsignedOrBadlySignedIngestIsForbidden(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"points":[{"symbol":"E2ENOAUTH","timestamp":1700000000000,"price":10,"volume":1}]}`)
	resp, err := localclient.Do(ctx, http.MethodPost, stage+"/ingest", body, "application/json", false)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusForbidden {
		t.Fatalf("unsigned POST /ingest: %d %s, want 403", resp.Status, resp.Body)
	}
	// A signature of another body: it no longer matches.
	tampered := strings.Replace(string(body), `"volume":1`, `"volume":9`, 1)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, stage+"/ingest", strings.NewReader(tampered))
	req.Header.Set("Content-Type", "application/json")
	signed, _ := http.NewRequestWithContext(ctx, http.MethodPost, stage+"/ingest", strings.NewReader(string(body)))
	signed.Header.Set("Content-Type", "application/json")
	if err := localclient.Sign(signed, body); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Authorization", "X-Amz-Date"} {
		req.Header.Set(h, signed.Header.Get(h))
	}
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /ingest with a signature of another body: %d, want 403", r2.StatusCode)
	}
	// GET /aggregates is AWS_IAM too.
	resp, err = localclient.Do(ctx, http.MethodGet, stage+"/aggregates/AAPL", nil, "", false)
	if err != nil || resp.Status != http.StatusForbidden {
		t.Fatalf("unsigned GET /aggregates: %d %s %v, want 403", resp.Status, resp.Body, err)
	}
	time.Sleep(2 * time.Second)
	if n, err := table(p).StateCount(ctx, "E2ENOAUTH"); err != nil || n != 0 {
		t.Fatalf("refused requests stored %d points (%v)", n, err)
	}
}

func TestMalformedIngestIsBadRequest(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"truncated JSON": `{"points":[{"symbol":"E2EBAD","timestamp":1700000000000,`,
		"not JSON":       `symbol,timestamp`,
		"empty body":     ``,
	} {
		resp, err := localclient.PostIngest(ctx, stage, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var er marketdata.ErrorResponse
		if resp.Status != http.StatusBadRequest || json.Unmarshal(resp.Body, &er) != nil || er.Message == "" {
			t.Errorf("%s: %d %s, want 400 with a message", name, resp.Status, resp.Body)
		}
	}
	// API Gateway checks no body (no request validator): the function
	// itself refuses a wrong content type, with its own message.
	resp, err := localclient.Do(ctx, http.MethodPost, stage+"/ingest", []byte(`{"points":[]}`), "text/plain", true)
	if err != nil {
		t.Fatal(err)
	}
	var er marketdata.ErrorResponse
	if resp.Status != http.StatusBadRequest || json.Unmarshal(resp.Body, &er) != nil || er.Message == "" || er.Message == "Invalid request body" {
		t.Errorf("text/plain body: %d %s, want the function's 400 with its message", resp.Status, resp.Body)
	}
}

func TestGetAggregates(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	pts := dayPoints("E2EGET", time.Now().Add(-4*time.Hour), 90)
	body, _ := json.Marshal(map[string]any{"points": pts})
	if resp, err := localclient.PostIngest(ctx, stage, body); err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("POST /ingest: %v %d %s", err, resp.Status, resp.Body)
	}
	want := expectedAggregates(pts)
	if err := waitAggregated(ctx, p, "E2EGET", want, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	from, to := pts[0].Timestamp-3_600_000, pts[0].Timestamp+3_600_000
	resp, err := localclient.GetAggregates(ctx, stage, "E2EGET", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /aggregates/E2EGET: %d %s", resp.Status, resp.Body)
	}
	aggs, err := decodeAggregates(resp.Body)
	if err != nil {
		t.Fatalf("GET /aggregates/E2EGET: %v: %s", err, resp.Body)
	}
	if err := checkAggregates(aggs, want); err != nil {
		t.Fatalf("GET /aggregates/E2EGET: %v", err)
	}
	resp, err = localclient.GetAggregates(ctx, stage, "E2ENEVER", 0, 0)
	if err != nil || resp.Status != http.StatusNotFound {
		t.Fatalf("GET /aggregates of an unknown symbol: %d %s %v, want 404", resp.Status, resp.Body, err)
	}
	resp, err = localclient.Do(ctx, http.MethodGet, stage+"/aggregates/E2EGET?from="+url.QueryEscape("not-a-time"), nil, "", true)
	if err != nil || resp.Status != http.StatusBadRequest {
		t.Fatalf("GET /aggregates with a bad from: %d %s %v, want 400", resp.Status, resp.Body, err)
	}
}

// decodeAggregates reads the aggregator's answer: an array of aggregates,
// or an object holding one.
func decodeAggregates(b []byte) ([]marketdata.Aggregate, error) {
	var list []marketdata.Aggregate
	if err := json.Unmarshal(b, &list); err == nil {
		return list, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	for _, v := range obj {
		if err := json.Unmarshal(v, &list); err == nil && len(list) > 0 {
			return list, nil
		}
	}
	return nil, fmt.Errorf("no aggregates in the answer")
}

func TestPoisonMessageGoesToDLQAlone(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	qurl, dlq := queueURL(t, p, outputs.QueueArn), queueURL(t, p, outputs.DLQArn)
	pts := dayPoints("E2EPOISON", time.Now().Add(-5*time.Hour), 40)
	var good []string
	for half := 0; half < 2; half++ {
		m := marketdata.Message{Origin: "e2e-poison-test"}
		for i, pt := range pts[half*20 : half*20+20] {
			m.Points = append(m.Points, marketdata.QueuedPoint{Key: string(marketdata.AppendSortKey(nil, pt, m.Origin, int64(half*20+i))), Point: pt})
		}
		b, err := marketdata.EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, string(b))
	}
	poison := `{"v":1,"origin":"e2e","points":[{"symbol":` // truncated: undecodable
	entries := []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("good0"), MessageBody: aws.String(good[0])},
		{Id: aws.String("poison"), MessageBody: aws.String(poison)},
		{Id: aws.String("good1"), MessageBody: aws.String(good[1])},
	}
	if _, err := p.AWS.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(qurl), Entries: entries}); err != nil {
		t.Fatal(err)
	}
	// Batch-mates are stored.
	if err := eventually(ctx, time.Minute, func() error {
		got, err := table(p).Points(ctx, "E2EPOISON", 0, time.Now().Add(48*time.Hour).UnixMilli())
		if err != nil {
			return err
		}
		return samePoints(got, pts)
	}); err != nil {
		t.Fatal(err)
	}
	// The poison message reaches the DLQ after maxReceiveCount receives,
	// moved there by the queue's redrive policy (moto applies it).
	maxReceive := redriveMaxReceive(t, p, qurl)
	var found *sqstypes.Message
	if err := eventually(ctx, 2*time.Minute, func() error {
		out, err := p.AWS.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlq), MaxNumberOfMessages: 10, VisibilityTimeout: 30,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return err
		}
		for i, m := range out.Messages {
			if aws.ToString(m.Body) == poison {
				found = &out.Messages[i]
				return nil
			}
		}
		return fmt.Errorf("the poison message is not in the DLQ")
	}); err != nil {
		t.Fatal(err)
	}
	if n := found.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; n != fmt.Sprint(maxReceive+1) && n != fmt.Sprint(maxReceive) {
		t.Errorf("poison message was received %s times before the DLQ, want maxReceiveCount %d", n, maxReceive)
	}
	if d, _ := p.QueueDepth(ctx, qurl, true); d != 0 {
		t.Errorf("processing queue still holds %d messages", d)
	}
}

// redriveMaxReceive reads the processing queue's redrive policy as
// provisioned from the synth.
func redriveMaxReceive(t *testing.T, p *pipeline.Pipeline, qurl string) int {
	t.Helper()
	out, err := p.AWS.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(qurl), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	var rp struct {
		MaxReceiveCount json.Number `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(policy), &rp); err != nil {
		t.Fatalf("the processing queue has no redrive policy: %q", policy)
	}
	n, err := rp.MaxReceiveCount.Int64()
	if err != nil || n < 1 {
		t.Fatalf("the processing queue's redrive policy has no maxReceiveCount: %q", policy)
	}
	return int(n)
}

func TestSameS3EventTwiceChangesNothing(t *testing.T) {
	p := shared(t)
	ctx := context.Background()
	pts := dayPoints("E2EDUP", time.Now().Add(-6*time.Hour), 120)
	key := "e2e/dup/trades.csv"
	body := csvObject(pts)
	etag, err := upload(ctx, p, key, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitReport(ctx, p, key, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	want := expectedAggregates(pts)
	if err := waitAggregated(ctx, p, "E2EDUP", want, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	sends := func() int64 {
		var n int64
		for k, v := range p.Proxy.Counts() {
			if k.Caller == "ingestion" && k.Service == "sqs" {
				n += v
			}
		}
		return n
	}
	before := sends()
	// S3 delivers at least once: the same event again, as S3 sent it.
	event := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":%q,
		"eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"dup",
		"bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":%d,"eTag":%q}}}]}`,
		time.Now().UTC().Format(time.RFC3339), p.Bucket(), p.Bucket(), url.QueryEscape(key), len(body), etag)
	if _, err := p.Functions["ingestion"].Invoke(ctx, []byte(event)); err != nil {
		t.Fatalf("the re-delivered event failed: %v", err)
	}
	qurl := queueURL(t, p, outputs.QueueArn)
	if err := p.WaitIdle(ctx, qurl); err != nil {
		t.Fatal(err)
	}
	if after := sends(); after != before {
		t.Fatalf("the re-delivered event queued points again (%d SQS calls by ingestion, before %d)", after, before)
	}
	got, err := table(p).Points(ctx, "E2EDUP", 0, time.Now().Add(48*time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if err := samePoints(got, pts); err != nil {
		t.Fatal(err)
	}
	aggs, err := table(p).Aggregates(ctx, "E2EDUP")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAggregates(aggs, want); err != nil {
		t.Fatal(err)
	}
}

// editedSynth copies the synth to a temporary directory without the
// resources drop (type → logical names) and returns the directory.
func editedSynth(t *testing.T, synthDir string, drop map[string][]string) string {
	t.Helper()
	dropped, want := 0, 0
	for _, ns := range drop {
		want += len(ns)
	}
	dir := editSynth(t, synthDir, func(r map[string]any) bool {
		for _, n := range drop[r["type"].(string)] {
			if n == r["name"] {
				dropped++
				return false
			}
		}
		return true
	})
	if dropped != want {
		t.Fatalf("dropped %d resources from the synth, want %d: %v", dropped, want, drop)
	}
	return dir
}

// resourceNames returns the logical names of the resources of a type.
func resourceNames(t *testing.T, synthDir, typ string) []string {
	t.Helper()
	pl, err := synthread.Load(synthDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range pl.OfType(typ) {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		t.Fatalf("the synth has no %s", typ)
	}
	return names
}

func TestScheduleTickAggregatesWindowWithoutCustomEvent(t *testing.T) {
	synthDir, buildDir := requireBuild(t)
	// The stack without the custom events' target: only the schedule
	// can aggregate now.
	pl, err := synthread.Load(synthDir)
	if err != nil {
		t.Fatal(err)
	}
	var patternTargets []string
	for _, tg := range pl.OfType("aws:cloudwatch/eventTarget:EventTarget") {
		for _, r := range pl.OfType("aws:cloudwatch/eventRule:EventRule") {
			if r.Str("name") == tg.Str("rule") && r.Str("eventPattern") != "" {
				patternTargets = append(patternTargets, tg.Name)
			}
		}
	}
	if len(patternTargets) == 0 {
		t.Fatal("the synth has no target on a pattern rule")
	}
	dir := editedSynth(t, synthDir, map[string][]string{"aws:cloudwatch/eventTarget:EventTarget": patternTargets})
	p := startPipeline(t, dir, buildDir)
	ctx := context.Background()
	stage, err := p.StageURL()
	if err != nil {
		t.Fatal(err)
	}
	// Points in the window that closed last, the one a tick finalises.
	now := time.Now()
	prev := marketdata.WindowStart(now.UnixMilli()) - (marketdata.WindowEnd(0))
	var pts []marketdata.Point
	for _, p := range dayPoints("E2ETICK", time.UnixMilli(prev), 30) {
		if marketdata.WindowStart(p.Timestamp) == prev { // dayPoints spans three windows
			pts = append(pts, p)
		}
	}
	body, _ := json.Marshal(map[string]any{"points": pts})
	if resp, err := localclient.PostIngest(ctx, stage, body); err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("POST /ingest: %v %d %s", err, resp.Status, resp.Body)
	}
	if err := eventually(ctx, time.Minute, func() error {
		n, err := table(p).StateCount(ctx, "E2ETICK")
		if err != nil || n < int64(len(pts)) {
			return fmt.Errorf("%d of %d points written (%v)", n, len(pts), err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	qurl := queueURL(t, p, outputs.QueueArn)
	if err := p.WaitIdle(ctx, qurl); err != nil {
		t.Fatal(err)
	}
	if ok, err := table(p).HasAggregate(ctx, "E2ETICK", prev); err != nil || ok {
		t.Fatalf("the window was aggregated without the events rule (%v): the tick would prove nothing", err)
	}
	schedules := p.Glue.Schedules()
	if len(schedules) == 0 {
		t.Fatal("no schedule rule is wired")
	}
	for _, s := range schedules {
		if err := p.Glue.Tick(ctx, s); err != nil {
			t.Fatalf("tick of %s: %v", s, err)
		}
	}
	want := expectedAggregates(pts)
	if err := waitAggregated(ctx, p, "E2ETICK", want, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestRemovingTheS3TriggerBreaksTheUploadTest(t *testing.T) {
	synthDir, buildDir := requireBuild(t)
	dir := editedSynth(t, synthDir, map[string][]string{
		"aws:s3/bucketNotification:BucketNotification": resourceNames(t, synthDir, "aws:s3/bucketNotification:BucketNotification"),
	})
	p := startPipeline(t, dir, buildDir)
	for _, w := range p.Glue.Wired {
		if strings.HasPrefix(w, "s3://") {
			t.Fatalf("an S3 trigger is still wired: %s", w)
		}
	}
	err := uploadAndVerify(context.Background(), p, "NOTRIG", time.Now().Add(-2*time.Hour), 15*time.Second)
	if err == nil {
		t.Fatal("the upload test passed although the stack has no S3 trigger")
	}
	if !strings.Contains(err.Error(), "no final ingestion report") {
		t.Fatalf("the upload test failed for another reason than the missing trigger: %v", err)
	}
	for k, v := range p.Proxy.Counts() {
		if k.Caller == "ingestion" && v > 0 {
			t.Fatalf("ingestion made %d %s %s calls without a trigger", v, k.Service, k.Operation)
		}
	}
}
