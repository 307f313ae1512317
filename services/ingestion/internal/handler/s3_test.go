package handler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

const bucket = "market-data-raw-dev"

// The object of s3-put.json, as stored (the key URL-decoded).
var putObject = report.Object{Bucket: bucket, Key: "incoming/2024-06-01/ticks (1).csv",
	VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko", ETag: "0b2c4f1e5d6a7b8c9d0e1f2a3b4c5d6e"}

const putCSV = "symbol,timestamp,price,volume,bid,ask,exchange\r\n" +
	"AAPL,1717243200000,189.12,300,189.11,189.13,XNAS\r\n" +
	"aapl,1717243200001,189.12,300,,,\r\n" +
	"MSFT,2024-06-01T12:00:00.5Z,415.5,100,,,\"XNAS\"\r\n" +
	"MSFT,1717243200002,-1,100,,,\r\n"

func (e *env) putObject(o report.Object, data []byte) *fakeObject {
	fo := &fakeObject{data: data, versionID: o.VersionID, eTag: o.ETag}
	e.s3.objects[o.Key] = fo
	return fo
}

func invokeS3(t *testing.T, e *env, event string, requestID string) error {
	t.Helper()
	ctx, cancel := lambdaCtx(requestID)
	defer cancel()
	out, err := e.h.Invoke(ctx, fixture(t, event))
	if out != nil {
		t.Fatalf("S3 invocation returned %v", out)
	}
	return err
}

func TestS3Ingest(t *testing.T) {
	e := newEnv()
	e.putObject(putObject, []byte(putCSV))
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	// The key was URL-decoded and the version pinned.
	if len(e.s3.gets) != 1 || aws.ToString(e.s3.gets[0].Key) != putObject.Key || aws.ToString(e.s3.gets[0].VersionId) != putObject.VersionID {
		t.Fatalf("GetObject calls %+v", e.s3.gets)
	}
	byKey, all, origins := e.sqs.queued(t)
	origin := "s3://market-data-raw-dev/incoming/2024-06-01/ticks (1).csv" // the object, not its version
	if len(origins) != 1 || !origins[origin] {
		t.Fatalf("origins %v", origins)
	}
	want := map[int64]marketdata.Point{
		2: {Symbol: "AAPL", Timestamp: 1717243200000, Price: 189.12, Volume: "300", Bid: 189.11, Ask: 189.13, Exchange: "XNAS"},
		4: {Symbol: "MSFT", Timestamp: 1717243200500, Price: 415.5, Volume: "100", Exchange: "XNAS"},
	}
	if len(all) != len(want) {
		t.Fatalf("queued %+v", all)
	}
	for line, p := range want {
		if got, ok := byKey[string(marketdata.AppendSortKey(nil, p, origin, line))]; !ok || got != p {
			t.Fatalf("line %d not queued under its key: %+v", line, all)
		}
	}
	r := e.reports.get(putObject)
	res := r.result
	c := res.Collector
	if r.status != report.Completed || res.Format != "csv" || res.Compressed || c.Accepted != 2 || c.Rejected != 2 ||
		res.Messages != 1 || res.SQSCalls != 1 || res.ObjectBytes != int64(len(putCSV)) || res.DataBytes != int64(len(putCSV)) {
		t.Fatalf("report %+v %+v", r, res)
	}
	if len(c.Rejections) != 2 || c.Rejections[0].Index != 3 || !strings.Contains(c.Rejections[0].Reason, "invalid symbol") ||
		c.Rejections[1].Index != 5 || c.Reasons["invalid price"] != 1 || c.Reasons["invalid symbol"] != 1 {
		t.Fatalf("rejections %+v %v", c.Rejections, c.Reasons)
	}
	if !strings.Contains(e.logs.String(), `"msg":"object ingested"`) {
		t.Fatalf("no summary log line: %s", e.logs)
	}
}

func TestS3Formats(t *testing.T) {
	ndjson := `{"symbol":"BTC-USD","timestamp":1717243200000,"price":67012.5,"volume":2}` + "\n" +
		`{"symbol":"BTC-USD","timestamp":1717243200000,"price":67012.5,"volume":2,"volume":3}` + "\n" +
		`{"symbol":"ETH-USD","timestamp":"2024-06-01T12:00:00Z","price":3800.25,"volume":10}` + "\n"
	gzObject := report.Object{Bucket: bucket, Key: "feeds/crypto/BTC-USD=2024-06-01.ndjson.gz", ETag: "9a0364b9e99bb480dd25e1f0284c8555-2"}
	for _, tc := range []struct {
		name            string
		data            []byte
		contentEncoding string
		wantCompressed  bool
	}{
		{"gzip by name", gen.Gzip([]byte(ndjson)), "", true},
		{"gzip by Content-Encoding", gen.Gzip([]byte(ndjson)), "gzip", true},
		{"named .gz but plain", []byte(ndjson), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			fo := e.putObject(gzObject, tc.data)
			fo.contentEncoding = tc.contentEncoding
			if err := invokeS3(t, e, "s3-put-unversioned-gzip.json", "req-1"); err != nil {
				t.Fatal(err)
			}
			// Unversioned: read pinned to the event's ETag.
			if g := e.s3.gets[0]; g.VersionId != nil || aws.ToString(g.IfMatch) != `"`+gzObject.ETag+`"` {
				t.Fatalf("GetObject %+v", g)
			}
			_, all, origins := e.sqs.queued(t)
			if len(all) != 2 || !origins["s3://"+bucket+"/"+gzObject.Key] {
				t.Fatalf("queued %+v from %v", all, origins)
			}
			res := e.reports.get(gzObject).result
			if res.Status != report.Completed || res.Format != "ndjson" || res.Compressed != tc.wantCompressed ||
				res.Collector.Accepted != 2 || res.Collector.Rejected != 1 || res.Collector.Reasons[parse.CategoryDuplicate] != 1 ||
				res.ObjectBytes != int64(len(tc.data)) || res.DataBytes != int64(len(ndjson)) {
				t.Fatalf("report %+v", res)
			}
		})
	}
}

func TestS3TwoObjects(t *testing.T) {
	e := newEnv()
	a := report.Object{Bucket: bucket, Key: "batch/a.json", VersionID: "v-a", ETag: "11111111111111111111111111111111"}
	b := report.Object{Bucket: bucket, Key: "batch/b.csv", VersionID: "v-b", ETag: "22222222222222222222222222222222"}
	e.putObject(a, []byte(`{"points":[{"symbol":"A","timestamp":1717243200000,"price":1,"volume":1},{"symbol":"B"}]}`))
	e.putObject(b, []byte("symbol,timestamp,price,volume\nB,1717243200000,2,2\n"))
	if err := invokeS3(t, e, "s3-two-objects.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	ra, rb := e.reports.get(a).result, e.reports.get(b).result
	if ra.Format != "json" || ra.Collector.Accepted != 1 || ra.Collector.Rejected != 1 || ra.Collector.Rejections[0].Index != 1 ||
		rb.Format != "csv" || rb.Collector.Accepted != 1 {
		t.Fatalf("reports %+v %+v", ra, rb)
	}
	if _, all, origins := e.sqs.queued(t); len(all) != 2 || len(origins) != 2 {
		t.Fatalf("queued %+v from %v", all, origins)
	}
}

// A re-delivered event for a finished object version queues nothing.
func TestS3DuplicateDelivery(t *testing.T) {
	e := newEnv()
	e.putObject(putObject, []byte(putCSV))
	for i, req := range []string{"req-1", "req-2", "req-3"} {
		if err := invokeS3(t, e, "s3-put.json", req); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue
		}
		if e.sqs.calls != 1 || len(e.s3.gets) != 1 {
			t.Fatalf("delivery %d: %d SQS calls and %d reads; want the first delivery's 1 and 1", i+1, e.sqs.calls, len(e.s3.gets))
		}
	}
	if r := e.reports.get(putObject); r.redeliveries != 2 || r.status != report.Completed || r.attempts != 1 {
		t.Fatalf("report %+v", r)
	}
	if !strings.Contains(e.logs.String(), "duplicate delivery") {
		t.Fatal("duplicate not logged")
	}
}

func TestS3InProgressElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name     string
		owner    string
		leaseAdd int64 // ms after testNow
		wantSent bool
	}{
		{"live lease of another invocation: skipped", "req-other", 60_000, false},
		{"expired lease of a crashed invocation: taken over", "req-other", -1, true},
		{"own lease (Lambda retry, same request id): taken over", "req-1", 60_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			e.putObject(putObject, []byte(putCSV))
			e.reports.items = map[string]*fakeReport{reportID(putObject): {
				status: report.InProgress, owner: tc.owner, lease: testNow.Add(msDuration(tc.leaseAdd)), attempts: 1}}
			if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
				t.Fatal(err)
			}
			if sent := e.sqs.calls > 0; sent != tc.wantSent {
				t.Fatalf("sent %v, want %v", sent, tc.wantSent)
			}
			r := e.reports.get(putObject)
			if tc.wantSent && (r.status != report.Completed || r.attempts != 2) || !tc.wantSent && r.status != report.InProgress {
				t.Fatalf("report %+v", r)
			}
		})
	}
}

// After a failure worth a retry the report stays IN_PROGRESS; Lambda's
// retry (same request id) sends the whole object again, under the same keys.
func TestS3RetryAfterQueueFailure(t *testing.T) {
	e := newEnv()
	e.putObject(putObject, []byte(putCSV))
	boom := errors.New("SQS unavailable")
	e.sqs.respond = func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) { return nil, boom }
	err := invokeS3(t, e, "s3-put.json", "req-1")
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if r := e.reports.get(putObject); r.status != report.InProgress || e.reports.finishCalls != 0 {
		t.Fatalf("report %+v after a failure", r)
	}
	e.sqs.respond = nil
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	r := e.reports.get(putObject)
	if r.status != report.Completed || r.attempts != 2 || r.result.Collector.Accepted != 2 {
		t.Fatalf("report %+v", r)
	}
	// A duplicate S3 delivery (another request id) now changes nothing.
	calls := e.sqs.calls
	if err := invokeS3(t, e, "s3-put.json", "req-9"); err != nil || e.sqs.calls != calls {
		t.Fatalf("duplicate after recovery: error %v, calls %d -> %d", err, calls, e.sqs.calls)
	}
}

func TestS3EntryFailures(t *testing.T) {
	// 30,000 lines make several full messages, so one can fail alone.
	data := gen.Bytes(gen.CSV, 30_000)
	// The same object with no failure: how many SendMessageBatch calls its
	// messages take (several messages share a call).
	base := newEnv()
	base.putObject(putObject, data)
	base.h.Publisher.Concurrency = 1
	if err := invokeS3(t, base, "s3-put.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	baseCalls := base.reports.get(putObject).result.SQSCalls
	for _, tc := range []struct {
		name         string
		senderFault  bool
		wantStatus   report.Status
		wantRejected bool
	}{
		{"retryable entry failure, then success", false, report.Completed, false},
		{"non-retryable entry failure is reported", true, report.Failed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			e.putObject(putObject, data)
			e.sqs.respond = func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				out := &sqs.SendMessageBatchOutput{}
				for i, en := range in.Entries {
					if call == 2 && i == 0 {
						out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: en.Id, SenderFault: tc.senderFault,
							Code: aws.String("InternalError"), Message: aws.String("try again")})
						continue
					}
					out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: en.Id})
				}
				return out, nil
			}
			e.h.Publisher.Concurrency = 1
			if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
				t.Fatal(err)
			}
			r := e.reports.get(putObject)
			c := r.result.Collector
			_, all, _ := e.sqs.queued(t)
			if r.status != tc.wantStatus || c.Accepted+c.Rejected != 30_000 || c.Accepted != int64(len(all)) {
				t.Fatalf("status %s accepted %d rejected %d, %d queued", r.status, c.Accepted, c.Rejected, len(all))
			}
			if tc.wantRejected {
				if c.Rejected == 0 || c.Reasons[CategoryNotQueued] != c.Rejected || len(c.Rejections) != 1 ||
					!strings.Contains(c.Rejections[0].Reason, "InternalError") || r.result.ErrorCategory != CategoryNotQueued {
					t.Fatalf("rejections %+v %v, error %q", c.Rejections, c.Reasons, r.result.Error)
				}
			} else if c.Rejected != 0 || r.result.SQSCalls != baseCalls+1 {
				// The failed entry alone is re-sent: one call more than without the failure.
				t.Fatalf("rejected %d; %d calls for %d messages, want %d", c.Rejected, r.result.SQSCalls, r.result.Messages, baseCalls+1)
			}
		})
	}
}

func TestS3GetObjectErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(e *env)
		wantErr    bool
		wantStatus report.Status
		wantReason string
	}{
		{"object deleted", func(e *env) {}, false, report.Failed, "no longer exists"},
		{"version deleted", func(e *env) {
			e.putObject(report.Object{Bucket: bucket, Key: putObject.Key, VersionID: "other", ETag: putObject.ETag}, []byte(putCSV))
		}, false, report.Failed, "version no longer exists"},
		{"S3 unavailable", func(e *env) { e.s3.err = errors.New("503 SlowDown") }, true, report.InProgress, ""},
		{"access denied (configuration): retried", func(e *env) { e.s3.err = apiErr("AccessDenied") }, true, report.InProgress, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			tc.setup(e)
			err := invokeS3(t, e, "s3-put.json", "req-1")
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v", err)
			}
			r := e.reports.get(putObject)
			if r.status != tc.wantStatus || !strings.Contains(r.result.Error, tc.wantReason) || e.sqs.calls != 0 {
				t.Fatalf("report %+v %+v", r, r.result)
			}
		})
	}
}

// An object replaced after its event (unversioned bucket) is not read: the
// ETag no longer matches.
func TestS3ObjectReplaced(t *testing.T) {
	e := newEnv()
	gzObject := report.Object{Bucket: bucket, Key: "feeds/crypto/BTC-USD=2024-06-01.ndjson.gz", ETag: "9a0364b9e99bb480dd25e1f0284c8555-2"}
	e.putObject(report.Object{Bucket: bucket, Key: gzObject.Key, ETag: "newer"}, []byte("{}\n"))
	if err := invokeS3(t, e, "s3-put-unversioned-gzip.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	if r := e.reports.get(gzObject); r.status != report.Failed || !strings.Contains(r.result.Error, "ETag changed") || e.sqs.calls != 0 {
		t.Fatalf("report %+v", r.result)
	}
}

// A connection dropped mid-object resumes where it stopped: every point is
// queued exactly once.
func TestS3ResumesRead(t *testing.T) {
	e := newEnv()
	data := gen.Gzip(gen.Bytes(gen.CSV, 20_000))
	fo := e.putObject(putObject, data)
	fo.failAt = len(data) / 3
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
		t.Fatal(err)
	}
	if len(e.s3.gets) != 2 || e.s3.gets[1].Range == nil || aws.ToString(e.s3.gets[1].VersionId) != putObject.VersionID {
		t.Fatalf("GetObject calls %+v", e.s3.gets)
	}
	byKey, all, _ := e.sqs.queued(t)
	r := e.reports.get(putObject)
	if len(all) != 20_000 || len(byKey) != 20_000 || r.result.Collector.Accepted != 20_000 || r.result.ObjectBytes != int64(len(data)) {
		t.Fatalf("%d queued (%d distinct), report %+v", len(all), len(byKey), r.result)
	}
}

func TestS3BadContent(t *testing.T) {
	for _, tc := range []struct {
		name, data   string
		wantCategory string
		wantQueued   int
	}{
		{"wrong header", "sym,ts,px,vol\nAAPL,1717243200000,1,1\n", parse.ObjectBadHeader, 0},
		{"empty object", "", parse.ObjectEmpty, 0},
		{"truncated gzip keeps what was read", "", parse.ObjectBadGzip, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			data := []byte(tc.data)
			if tc.wantCategory == parse.ObjectBadGzip {
				full := gen.Gzip(gen.Bytes(gen.CSV, 50_000))
				data = full[:len(full)/2]
			}
			e.putObject(putObject, data)
			if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
				t.Fatal(err)
			}
			r := e.reports.get(putObject)
			_, all, _ := e.sqs.queued(t)
			if r.status != report.Failed || r.result.ErrorCategory != tc.wantCategory || r.result.Error == "" {
				t.Fatalf("report %+v", r.result)
			}
			if tc.wantQueued >= 0 && len(all) != tc.wantQueued || tc.wantQueued < 0 && (len(all) == 0 || int64(len(all)) != r.result.Collector.Accepted) {
				t.Fatalf("%d queued, report %+v", len(all), r.result.Collector)
			}
		})
	}
}

func TestS3ReportStoreErrors(t *testing.T) {
	e := newEnv()
	e.putObject(putObject, []byte(putCSV))
	e.reports.claimErr = errors.New("DynamoDB throttled")
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err == nil || e.sqs.calls != 0 {
		t.Fatalf("claim failure: error %v, %d SQS calls", err, e.sqs.calls)
	}
	e.reports.claimErr = nil
	e.reports.finishErr = errors.New("DynamoDB throttled")
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err == nil {
		t.Fatal("a report that could not be written did not fail the invocation")
	}
	e.reports.finishErr = report.ErrLostClaim
	if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
		t.Fatalf("lost claim: %v", err)
	}
}

func TestEventShapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		event   string
		wantErr error
	}{
		{"object removed is ignored", "@s3-delete.json", nil},
		{"S3 test event is ignored", "@s3-test-event.json", nil},
		{"SQS event is not ours", "@sqs-event.json", ErrUnknownEvent},
		{"empty object", `{}`, ErrUnknownEvent},
		{"not an object", `[1,2]`, ErrUnknownEvent},
		{"not JSON", `hello`, ErrUnknownEvent},
		{"httpMethod without requestContext", `{"httpMethod":"POST"}`, ErrUnknownEvent},
		{"EventBridge event", `{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{}}`, ErrUnknownEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			ev := []byte(tc.event)
			if strings.HasPrefix(tc.event, "@") {
				ev = fixture(t, tc.event[1:])
			}
			out, err := e.h.Invoke(context.Background(), ev)
			if !errors.Is(err, tc.wantErr) || out != nil {
				t.Fatalf("Invoke = %v, %v; want nil, %v", out, err, tc.wantErr)
			}
			if e.sqs.calls != 0 || len(e.s3.gets) != 0 {
				t.Fatal("an ignored event did work")
			}
			if tc.wantErr != nil && !strings.Contains(e.logs.String(), `"level":"ERROR"`) {
				t.Fatal("unknown event not logged as an error")
			}
		})
	}
}

func TestPanicsBecomeErrors(t *testing.T) {
	e := newEnv()
	e.h.Publisher = nil // IngestObject dereferences it
	e.putObject(putObject, []byte(putCSV))
	err := invokeS3(t, e, "s3-put.json", "req-1")
	if err == nil || !strings.Contains(err.Error(), "panic") || !strings.Contains(e.logs.String(), "stack") {
		t.Fatalf("error %v", err)
	}
}
