package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// testNow is the handler's clock in tests (2024-06-01T12:00:00Z).
var testNow = time.UnixMilli(1_717_243_200_000).UTC()

// fakeObject is one stored S3 object version.
type fakeObject struct {
	data            []byte
	body            func() io.Reader // a stream instead of data (large objects)
	versionID, eTag string
	contentEncoding string
	metadata        map[string]string // user metadata (x-amz-meta-*)
	// failAt makes the first body fail after that many bytes.
	failAt int
}

// fakeS3 serves objects by key, honouring VersionId, IfMatch and Range.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]*fakeObject
	// older holds noncurrent versions by key and version id, as a versioned
	// bucket keeps them after an overwrite or a delete marker.
	older map[string]map[string]*fakeObject
	gets  []*s3.GetObjectInput
	err   error // returned by every GetObject when set
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code, Fault: smithy.FaultClient}
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in)
	if f.err != nil {
		return nil, f.err
	}
	o, ok := f.objects[aws.ToString(in.Key)]
	if in.VersionId != nil && (!ok || aws.ToString(in.VersionId) != o.versionID) {
		if o, ok = f.older[aws.ToString(in.Key)][aws.ToString(in.VersionId)]; !ok {
			return nil, apiErr("NoSuchVersion")
		}
	}
	if !ok {
		return nil, apiErr("NoSuchKey")
	}
	if in.IfMatch != nil && aws.ToString(in.IfMatch) != `"`+o.eTag+`"` {
		return nil, apiErr("PreconditionFailed")
	}
	var r io.Reader
	var size *int64 // Content-Length, of what remains after a Range
	if o.body != nil {
		r = o.body()
	} else {
		r = bytes.NewReader(o.data)
		size = aws.Int64(int64(len(o.data)))
	}
	if rng := aws.ToString(in.Range); rng != "" {
		off, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad range %q", rng)
		}
		if _, err := io.CopyN(io.Discard, r, off); err != nil {
			return nil, err
		}
		if size != nil {
			*size -= off
		}
	} else if o.failAt > 0 {
		r = &failAfter{r: r, n: o.failAt}
		o.failAt = 0
	}
	out := &s3.GetObjectOutput{Body: io.NopCloser(r), VersionId: aws.String(o.versionID), ETag: aws.String(`"` + o.eTag + `"`), ContentLength: size}
	if o.contentEncoding != "" {
		out.ContentEncoding = aws.String(o.contentEncoding)
	}
	out.Metadata = o.metadata
	return out, nil
}

// failAfter fails like a dropped connection after n bytes.
type failAfter struct {
	r io.Reader
	n int
}

func (f *failAfter) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("read tcp: connection reset by peer")
	}
	if len(b) > f.n {
		b = b[:f.n]
	}
	n, err := f.r.Read(b)
	f.n -= n
	return n, err
}

// fakeSQS accepts messages; respond, when set, decides each call (numbered
// from 1).
type fakeSQS struct {
	mu      sync.Mutex
	calls   int
	entries int
	bytes   int64 // of accepted bodies
	bodies  []string
	discard bool // count accepted bodies without keeping them
	respond func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.mu.Unlock()
	var out *sqs.SendMessageBatchOutput
	if f.respond != nil {
		var err error
		if out, err = f.respond(call, in); err != nil {
			return nil, err
		}
	} else {
		out = &sqs.SendMessageBatchOutput{}
		for _, e := range in.Entries {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	ok := map[string]bool{}
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range in.Entries {
		f.entries++
		if ok[aws.ToString(e.Id)] {
			f.bytes += int64(len(aws.ToString(e.MessageBody)))
			if !f.discard {
				f.bodies = append(f.bodies, aws.ToString(e.MessageBody))
			}
		}
	}
	return out, nil
}

// queued decodes every accepted message: the points by key, and the origins.
func (f *fakeSQS) queued(t *testing.T) (map[string]marketdata.Point, []marketdata.QueuedPoint, map[string]bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	byKey := map[string]marketdata.Point{}
	var all []marketdata.QueuedPoint
	origins := map[string]bool{}
	for _, b := range f.bodies {
		m, err := marketdata.DecodeMessage([]byte(b))
		if err != nil {
			t.Fatalf("queued message does not decode: %v", err)
		}
		origins[m.Origin] = true
		for _, qp := range m.Points {
			byKey[qp.Key] = qp.Point
			all = append(all, qp)
		}
	}
	return byKey, all, origins
}

// queuedBars returns the bars queued, and the versions of the messages
// holding them.
func (f *fakeSQS) queuedBars(t *testing.T) ([]marketdata.QueuedBar, map[int]bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []marketdata.QueuedBar
	versions := map[int]bool{}
	for _, b := range f.bodies {
		m, err := marketdata.DecodeMessage([]byte(b))
		if err != nil {
			t.Fatalf("queued message does not decode: %v", err)
		}
		if len(m.Bars) > 0 {
			versions[m.Version] = true
		}
		all = append(all, m.Bars...)
	}
	return all, versions
}

// fakeReports keeps report state in memory with report.Store's semantics.
type fakeReports struct {
	mu          sync.Mutex
	items       map[string]*fakeReport
	claimErr    error
	finishErr   error
	claimCalls  int
	finishCalls int
}

type fakeReport struct {
	versionID    string
	status       report.Status
	owner        string
	lease        time.Time
	attempts     int64
	result       report.Result
	redeliveries int
}

func (f *fakeReports) get(o report.Object) *fakeReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[reportID(o)]
}

// reportID is the fake's item key: one report per key and content, as
// report.Store keys them.
func reportID(o report.Object) string { return o.Origin() + "#" + o.ContentID() }

func (f *fakeReports) Claim(_ context.Context, o report.Object, owner string, now, lease time.Time) (report.Claim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claimCalls++
	if f.claimErr != nil {
		return report.Claim{}, f.claimErr
	}
	if f.items == nil {
		f.items = map[string]*fakeReport{}
	}
	it := f.items[reportID(o)]
	reupload := it != nil && it.status == report.Failed && o.VersionID != "" && it.versionID != o.VersionID
	if it != nil && !reupload && (it.status != report.InProgress || it.owner != owner && !it.lease.Before(now)) {
		return report.Claim{Status: it.status, Owner: it.owner, LeaseUntil: it.lease, Attempts: it.attempts, VersionID: it.versionID}, nil
	}
	if it == nil {
		it = &fakeReport{}
		f.items[reportID(o)] = it
	}
	it.status, it.owner, it.lease, it.versionID = report.InProgress, owner, lease, o.VersionID
	it.attempts++
	return report.Claim{Claimed: true, Attempts: it.attempts}, nil
}

func (f *fakeReports) Finish(_ context.Context, o report.Object, owner string, attempts int64, _, _ time.Time, r report.Result) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finishCalls++
	if f.finishErr != nil {
		return f.finishErr
	}
	it := f.items[reportID(o)]
	if it == nil || it.status != report.InProgress || it.owner != owner {
		return report.ErrLostClaim
	}
	it.status, it.result, it.attempts = r.Status, r, attempts
	return nil
}

func (f *fakeReports) NoteRedelivery(_ context.Context, o report.Object) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[reportID(o)].redeliveries++
	return nil
}

type env struct {
	h       *Handler
	s3      *fakeS3
	sqs     *fakeSQS
	reports *fakeReports
	logs    *bytes.Buffer
}

func newEnv() *env {
	e := &env{s3: &fakeS3{objects: map[string]*fakeObject{}}, sqs: &fakeSQS{}, reports: &fakeReports{}, logs: &bytes.Buffer{}}
	noSleep := func(context.Context, time.Duration) error { return nil }
	e.h = &Handler{
		S3:        e.s3,
		Publisher: &queue.Publisher{Client: e.sqs, QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/processing", Retry: backoff.Policy{Sleep: noSleep}},
		Reports:   e.reports,
		Log:       slog.New(slog.NewJSONHandler(e.logs, nil)),
		Now:       func() time.Time { return testNow },
		Sleep:     noSleep,

		MetricNamespace: "MarketAnalytics/Pipeline-test",
	}
	return e
}

// lambdaCtx is a context with a Lambda request id and a deadline.
func lambdaCtx(requestID string) (context.Context, context.CancelFunc) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
	return context.WithTimeout(ctx, time.Minute)
}

func fixture(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
