//go:build integration

package handler

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/awstest"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// moto holds real SDK clients talking to the moto server at MOTO_ENDPOINT,
// built the way main builds them (awsconfig.Load, endpoints from the
// environment).
type moto struct {
	s3    *s3.Client
	sqs   *sqs.Client
	ddb   *dynamodb.Client
	table string
	queue string
}

func newMoto(t *testing.T) *moto {
	t.Helper()
	cfg := awstest.Config(t)
	m := &moto{
		s3:    s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs:   sqs.NewFromConfig(cfg),
		ddb:   dynamodb.NewFromConfig(cfg),
		table: awstest.CreateTable(t, cfg),
	}
	q, err := m.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName:  aws.String(awstest.Names().ProcessingQueue()),
		Attributes: map[string]string{"MaximumMessageSize": strconv.Itoa(limits.QueueMaxMessageBytes)},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	m.queue = aws.ToString(q.QueueUrl)
	t.Cleanup(func() {
		_, _ = m.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(m.queue)})
	})
	return m
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *moto) bucket(t *testing.T, versioned bool) string {
	t.Helper()
	name := awstest.Names().Bucket()
	ctx := context.Background()
	if _, err := m.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if versioned {
		if _, err := m.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatalf("versioning: %v", err)
		}
	}
	return name
}

// put uploads an object and returns the S3 event notification S3 would send
// for it (the key URL-encoded as S3 does).
func (m *moto) put(t *testing.T, bucket, key string, data []byte, contentEncoding string) events.S3Event {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}
	if contentEncoding != "" {
		in.ContentEncoding = aws.String(contentEncoding)
	}
	out, err := m.s3.PutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("put object: %v", err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(fixture(t, "s3-put.json"), &ev); err != nil {
		t.Fatal(err)
	}
	r := &ev.Records[0]
	r.S3.Bucket.Name = bucket
	r.S3.Bucket.Arn = "arn:aws:s3:::" + bucket
	r.S3.Object.Key = url.QueryEscape(key) // '+' for a space, as S3 writes keys in events
	r.S3.Object.Size = int64(len(data))
	r.S3.Object.ETag = strings.Trim(aws.ToString(out.ETag), `"`)
	r.S3.Object.VersionID = aws.ToString(out.VersionId)
	return ev
}

func (m *moto) handler(logs *bytes.Buffer) *Handler {
	return &Handler{
		S3:        m.s3,
		Publisher: &queue.Publisher{Client: m.sqs, QueueURL: m.queue},
		Reports:   &report.Store{DB: m.ddb, Table: m.table},
		Log:       slog.New(slog.NewJSONHandler(logs, nil)),
	}
}

func (m *moto) invoke(t *testing.T, h *Handler, ev events.S3Event, requestID string) error {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := lambdaCtx(requestID)
	defer cancel()
	_, err = h.Invoke(ctx, raw)
	return err
}

// drain receives and deletes every message of the queue.
func (m *moto) drain(t *testing.T) (msgs []marketdata.Message, bodyBytes []int) {
	t.Helper()
	ctx := context.Background()
	for empty := 0; empty < 2; {
		out, err := m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(m.queue), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, msg := range out.Messages {
			m, err := marketdata.DecodeMessage([]byte(aws.ToString(msg.Body)))
			if err != nil {
				t.Fatalf("queued message does not decode: %v", err)
			}
			msgs = append(msgs, m)
			bodyBytes = append(bodyBytes, len(aws.ToString(msg.Body)))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
		if _, err := m.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.queue), Entries: del}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	return msgs, bodyBytes
}

func (m *moto) reportItem(t *testing.T, o report.Object) marketdata.IngestionReport {
	t.Helper()
	rep, found, err := (&report.Store{DB: m.ddb, Table: m.table}).Read(context.Background(), o)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	if !found {
		t.Fatal("no report item")
	}
	return rep
}

// TestIntegrationS3 streams a gzip NDJSON object and a plain CSV object from
// S3 into a real queue, writes the reports with real conditional writes, and
// recognises a re-delivered event.
func TestIntegrationS3(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket(t, true)
	var logs bytes.Buffer
	h := m.handler(&logs)

	// 60,000 points make more than one full message.
	const n = 60_000
	gzEvent := m.put(t, bucket, "feeds/2024-06-01/ticks=part 1.ndjson.gz", gen.Gzip(gen.Bytes(gen.NDJSON, n)), "gzip")
	// An unknown column (venue) is ignored; the valid point's timestamp is
	// in seconds.
	csvData := "symbol,timestamp,price,volume,bid,ask,exchange,venue\r\nAAPL,1717243200,189.12,300,189.11,189.13,XNAS,7\r\nAAPL,1717243200001,-1,1,,,,\r\n"
	csvEvent := m.put(t, bucket, "incoming/2024-06-01/ticks (1).csv", []byte(csvData), "")

	for _, ev := range []events.S3Event{gzEvent, csvEvent} {
		if err := m.invoke(t, h, ev, "req-"+randomSuffix()); err != nil {
			t.Fatalf("invoke: %v\n%s", err, logs.String())
		}
	}
	msgs, sizes := m.drain(t)
	gzObj := report.Object{Bucket: bucket, Key: "feeds/2024-06-01/ticks=part 1.ndjson.gz",
		VersionID: gzEvent.Records[0].S3.Object.VersionID, ETag: gzEvent.Records[0].S3.Object.ETag}
	csvObj := report.Object{Bucket: bucket, Key: "incoming/2024-06-01/ticks (1).csv",
		VersionID: csvEvent.Records[0].S3.Object.VersionID, ETag: csvEvent.Records[0].S3.Object.ETag}
	perOrigin := map[string]int{}
	keys := map[string]bool{}
	for i, msg := range msgs {
		if sizes[i] > limits.QueueMaxMessageBytes {
			t.Fatalf("message of %d bytes", sizes[i])
		}
		for _, qp := range msg.Points {
			// The key is AppendSortKey of the point, its origin and its line.
			line := int64(2) // the CSV's only valid point
			if msg.Origin == gzObj.Origin() {
				line = (qp.Timestamp-gen.BaseMillis)/7 + 1 // gen's i-th point is on line i+1
			}
			if keys[qp.Key] || qp.Key != string(marketdata.AppendSortKey(nil, qp.Point, msg.Origin, line)) {
				t.Fatalf("point %+v of %s under key %s (twice: %v)", qp.Point, msg.Origin, qp.Key, keys[qp.Key])
			}
			keys[qp.Key] = true
			perOrigin[msg.Origin]++
		}
	}
	if perOrigin[gzObj.Origin()] != n || perOrigin[csvObj.Origin()] != 1 || len(keys) != n+1 {
		t.Fatalf("queued per origin %v (%d keys), want %d and 1", perOrigin, len(keys), n)
	}
	if len(msgs) < 2 {
		t.Fatalf("%d messages for %d points; want full messages", len(msgs), n)
	}

	gzReport := m.reportItem(t, gzObj)
	if gzReport.Status != "COMPLETED" || gzReport.Format != "ndjson" || gzReport.Accepted != n || gzReport.Rejected != 0 ||
		gzReport.Messages != int64(len(msgs)-1) || gzReport.ExpiresAt < time.Now().Unix() {
		t.Fatalf("gzip report %+v", gzReport)
	}
	if !gzReport.Compressed {
		t.Fatalf("gzip report not marked compressed: %+v", gzReport)
	}
	csvReport := m.reportItem(t, csvObj)
	if csvReport.Status != "COMPLETED" || csvReport.Accepted != 1 || csvReport.Rejected != 1 {
		t.Fatalf("csv report %+v", csvReport)
	}
	if csvReport.TimestampUnits["s"] != 1 || len(csvReport.TimestampUnits) != 1 || !slices.Equal(csvReport.IgnoredColumns, []string{"venue"}) {
		t.Fatalf("csv report units %v, ignored columns %v; want {s: 1} and [venue]", csvReport.TimestampUnits, csvReport.IgnoredColumns)
	}
	if list := csvReport.Rejections; len(list) != 1 || list[0].Index != 3 || !strings.Contains(list[0].Reason, "invalid price") {
		t.Fatalf("csv rejections %v", list)
	}

	// S3 delivers the gzip object's event again: recognised, nothing queued.
	if err := m.invoke(t, h, gzEvent, "req-"+randomSuffix()); err != nil {
		t.Fatal(err)
	}
	if again, _ := m.drain(t); len(again) != 0 {
		t.Fatalf("re-delivery queued %d messages", len(again))
	}
	if r := m.reportItem(t, gzObj); r.Redeliveries != 1 || r.Attempts != 1 {
		t.Fatalf("report after re-delivery %+v", r)
	}
}

// TestIntegrationUnversioned reads an object of an unversioned bucket pinned
// to the event's ETag, and records a FAILED report for an object replaced or
// deleted before it was read.
func TestIntegrationUnversioned(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket(t, false)
	var logs bytes.Buffer
	h := m.handler(&logs)
	ev := m.put(t, bucket, "a.csv", []byte("symbol,timestamp,price,volume\nA,1717243200000,1,1\n"), "")
	if ev.Records[0].S3.Object.VersionID != "" {
		t.Fatalf("unversioned bucket returned a version %q", ev.Records[0].S3.Object.VersionID)
	}
	// Replaced before the event is handled: the ETag no longer matches.
	replaced := m.put(t, bucket, "a.csv", []byte("symbol,timestamp,price,volume\nB,1717243200000,2,2\n"), "")
	if err := m.invoke(t, h, ev, "req-1"); err != nil {
		t.Fatalf("invoke: %v\n%s", err, logs.String())
	}
	old := report.Object{Bucket: bucket, Key: "a.csv", ETag: ev.Records[0].S3.Object.ETag}
	if r := m.reportItem(t, old); r.Status != "FAILED" || !strings.Contains(r.Error, "PreconditionFailed") {
		t.Fatalf("report of the replaced object %+v", r)
	}
	if err := m.invoke(t, h, replaced, "req-2"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := m.drain(t)
	if len(msgs) != 1 || len(msgs[0].Points) != 1 || msgs[0].Points[0].Symbol != "B" {
		t.Fatalf("queued %+v", msgs)
	}
	// Deleted before the event is handled.
	gone := m.put(t, bucket, "gone.csv", []byte("x"), "")
	if _, err := m.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("gone.csv")}); err != nil {
		t.Fatal(err)
	}
	if err := m.invoke(t, h, gone, "req-3"); err != nil {
		t.Fatal(err)
	}
	if r := m.reportItem(t, report.Object{Bucket: bucket, Key: "gone.csv", ETag: gone.Records[0].S3.Object.ETag}); r.Status != "FAILED" {
		t.Fatalf("report of the deleted object %+v", r)
	}
}

// TestIntegrationClaims checks the report's conditional writes against a
// real table: one owner at a time, a Lambda retry (same owner) or an expired
// lease takes over, a finished report is never claimed again.
func TestIntegrationClaims(t *testing.T) {
	m := newMoto(t)
	s := &report.Store{DB: m.ddb, Table: m.table}
	ctx := context.Background()
	o := report.Object{Bucket: "b", Key: "k.csv", VersionID: "v1", ETag: "e1"}
	now := time.Now()
	lease := now.Add(time.Minute)

	c, err := s.Claim(ctx, o, "A", now, lease)
	if err != nil || !c.Claimed || c.Attempts != 1 {
		t.Fatalf("first claim %+v %v", c, err)
	}
	if c, err = s.Claim(ctx, o, "B", now, lease); err != nil || c.Claimed || c.Status != report.InProgress || c.Owner != "A" {
		t.Fatalf("claim during A's lease %+v %v", c, err)
	}
	if c, err = s.Claim(ctx, o, "A", now, lease); err != nil || !c.Claimed || c.Attempts != 2 {
		t.Fatalf("A's retry %+v %v", c, err)
	}
	later := lease.Add(time.Second)
	if c, err = s.Claim(ctx, o, "B", later, later.Add(time.Minute)); err != nil || !c.Claimed || c.Attempts != 3 {
		t.Fatalf("claim after A's lease %+v %v", c, err)
	}
	res := report.Result{Status: report.Completed, Collector: report.NewCollector(1 << 10)}
	if err := s.Finish(ctx, o, "A", 2, now, later, res); !errors.Is(err, report.ErrLostClaim) {
		t.Fatalf("A finishing B's claim: %v", err)
	}
	if err := s.Finish(ctx, o, "B", 3, now, later, res); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Claim(ctx, o, "B", later.Add(time.Hour), later.Add(2*time.Hour)); err != nil || c.Claimed || c.Status != report.Completed || c.FinishedAt == "" {
		t.Fatalf("claim of a completed report %+v %v", c, err)
	}
	// A second version with the same content (an identical re-upload)
	// finds the completed report and the version that was read.
	same := o
	same.VersionID = "v2"
	if c, err = s.Claim(ctx, same, "C", now, lease); err != nil || c.Claimed || c.Status != report.Completed || c.VersionID != "v1" {
		t.Fatalf("claim of an identical re-upload %+v %v", c, err)
	}
	// A second version with other content has its own report.
	other := report.Object{Bucket: "b", Key: "k.csv", VersionID: "v3", ETag: "e3"}
	if c, err = s.Claim(ctx, other, "C", now, lease); err != nil || !c.Claimed {
		t.Fatalf("claim of another content %+v %v", c, err)
	}
	// A FAILED report is claimed again by an identical re-upload (another
	// version), never by a re-delivery of the failed version.
	failed := report.Result{Status: report.Failed, ErrorCategory: ObjectGone, Collector: report.NewCollector(1 << 10)}
	if err := s.Finish(ctx, other, "C", 1, now, now, failed); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Claim(ctx, other, "D", now, lease); err != nil || c.Claimed || c.Status != report.Failed {
		t.Fatalf("re-delivery of a failed version %+v %v", c, err)
	}
	retry := other
	retry.VersionID = "v4"
	if c, err = s.Claim(ctx, retry, "E", now, lease); err != nil || !c.Claimed || c.Attempts != 2 {
		t.Fatalf("identical re-upload of a failed version %+v %v", c, err)
	}
}

// TestIntegrationReupload uploads the same bytes twice, then changed bytes,
// under one key of a versioned moto bucket, which answers each PutObject
// with its own version id, as S3 does: the identical upload queues nothing,
// the changed one only its new record, and each is read by its version.
func TestIntegrationReupload(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket(t, true)
	var logs bytes.Buffer
	h := m.handler(&logs)
	const key = "daily/ticks.csv"
	keys := map[string]int{}
	for i, step := range []struct {
		data    string
		wantNew int
	}{
		{fileA, 3}, {fileA, 0}, {fileA2, 1},
	} {
		ev := m.put(t, bucket, key, []byte(step.data), "")
		if ev.Records[0].S3.Object.VersionID == "" {
			t.Fatal("versioned bucket returned no version id")
		}
		if err := m.invoke(t, h, ev, "req-"+randomSuffix()); err != nil {
			t.Fatalf("upload %d: %v\n%s", i, err, logs.String())
		}
		msgs, _ := m.drain(t)
		added := 0
		for _, msg := range msgs {
			for _, qp := range msg.Points {
				if keys[qp.Key]++; keys[qp.Key] == 1 {
					added++
				}
			}
		}
		if added != step.wantNew {
			t.Fatalf("upload %d added %d new range keys; want %d\n%s", i, added, step.wantNew, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "identical content re-uploaded") {
		t.Fatalf("identical re-upload not logged:\n%s", logs.String())
	}
}
