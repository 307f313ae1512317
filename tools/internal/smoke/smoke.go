// Package smoke proves a running pipeline end to end from the outside, as a
// user would: it uploads a small CSV of known trades to the bucket, POSTs a
// SigV4-signed batch to /ingest, polls GET /aggregates/{symbol} until the
// expected windows are served and compares them exactly with windows computed
// independently from the trades, checks the object's ingestion report and
// that the DLQ did not grow, then deletes its objects. The same code runs
// against a deployed stack (`go run mage.go smoke`) and against the local
// pipeline (`go run mage.go smoke --local`, and the end-to-end tests).
package smoke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// S3API is the part of the S3 client smoke uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// DynamoDBAPI is the part of the DynamoDB client smoke uses.
type DynamoDBAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// SQSAPI is the part of the SQS client smoke uses.
type SQSAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// HTTPDoer sends HTTP requests (*http.Client is one).
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

var (
	_ S3API       = (*s3.Client)(nil)
	_ DynamoDBAPI = (*dynamodb.Client)(nil)
	_ SQSAPI      = (*sqs.Client)(nil)
	_ HTTPDoer    = (*http.Client)(nil)
)

// Target is the pipeline under test: the stack outputs smoke needs.
type Target struct {
	Bucket, Table, DLQURL string
	// IngestURL is POST /ingest's URL; AggregatesURL is GET
	// /aggregates/{symbol}'s without the symbol (the api layer's outputs).
	IngestURL, AggregatesURL string
}

// Clients are the callers' clients and credentials; API requests are signed
// with Credentials for execute-api in Region.
type Clients struct {
	S3          S3API
	DynamoDB    DynamoDBAPI
	SQS         SQSAPI
	HTTP        HTTPDoer
	Credentials aws.CredentialsProvider
	Region      string
}

// Options tune a run; the zero value gets the defaults.
type Options struct {
	// Out receives one line per step (default io.Discard).
	Out io.Writer
	// Timeout bounds each step that waits for the pipeline (default 3 min).
	Timeout time.Duration
	// PollEvery is the pause between polls (default 2 s).
	PollEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RunID names the run (default random).
	RunID string
}

// StepError is a failed step: its name and what was expected and seen.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return "step " + e.Step + " failed: " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Step names, in order.
const (
	StepDLQBefore  = "dlq-before"
	StepUpload     = "upload"
	StepIngest     = "ingest"
	StepAggregates = "aggregates"
	StepReport     = "report"
	StepDLQAfter   = "dlq-after"
	StepCleanup    = "cleanup"
)

type run struct {
	t       Target
	c       Clients
	o       Options
	plan    Plan
	version string // the uploaded object's version id (or ETag), for the output
	dlq     int
	step    int
}

// Run runs every step against t and returns the first failure as a
// *StepError; the objects it uploaded are deleted whatever happens (the
// cleanup's own failure is reported too).
func Run(ctx context.Context, t Target, c Clients, o Options) (err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		if o.RunID, err = NewRunID(); err != nil {
			return err
		}
	}
	r := &run{t: t, c: c, o: o}
	if r.plan, err = NewPlan(o.RunID, o.Now()); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "smoke run %s: s3://%s/%s, symbols %s (S3) and %s (API), windows %s to %s\n",
		r.plan.RunID, t.Bucket, r.plan.Prefix, r.plan.FileSymbol, r.plan.APISymbol,
		time.UnixMilli(r.plan.From).UTC().Format(time.RFC3339), time.UnixMilli(r.plan.To).UTC().Format(time.RFC3339))
	start := o.Now()
	defer func() {
		// Cleanup runs on every path, with its own context: a cancelled
		// run still removes what it uploaded.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if cerr := r.do(StepCleanup, func() (string, error) { return r.cleanup(cctx) }); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(o.Out, "smoke PASSED in %s\n", o.Now().Sub(start).Round(time.Millisecond))
		} else {
			fmt.Fprintf(o.Out, "smoke FAILED after %s\n", o.Now().Sub(start).Round(time.Millisecond))
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) (string, error)
	}{
		{StepDLQBefore, r.dlqBefore},
		{StepUpload, r.upload},
		{StepIngest, r.ingest},
		{StepAggregates, r.aggregates},
		{StepReport, r.report},
		{StepDLQAfter, r.dlqAfter},
	}
	for _, s := range steps {
		if err := r.do(s.name, func() (string, error) { return s.fn(ctx) }); err != nil {
			return err
		}
	}
	return nil
}

// totalSteps counts the steps Run prints, cleanup included.
const totalSteps = 7

// do runs one step and prints its outcome and duration.
func (r *run) do(name string, fn func() (string, error)) error {
	r.step++
	start := r.o.Now()
	detail, err := fn()
	d := r.o.Now().Sub(start).Seconds()
	if err != nil {
		fmt.Fprintf(r.o.Out, "[%d/%d] %-10s FAIL  %7.3fs  %v\n", r.step, totalSteps, name, d, err)
		return &StepError{Step: name, Err: err}
	}
	fmt.Fprintf(r.o.Out, "[%d/%d] %-10s ok    %7.3fs  %s\n", r.step, totalSteps, name, d, detail)
	return nil
}

func (r *run) dlqDepth(ctx context.Context) (int, error) {
	name := string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)
	out, err := r.c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(r.t.DLQURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeName(name)},
	})
	if err != nil {
		return 0, fmt.Errorf("read the DLQ depth of %s: %w", r.t.DLQURL, err)
	}
	n, err := strconv.Atoi(out.Attributes[name])
	if err != nil {
		return 0, fmt.Errorf("the DLQ %s answered %s %q: %w", r.t.DLQURL, name, out.Attributes[name], err)
	}
	return n, nil
}

func (r *run) dlqBefore(ctx context.Context) (string, error) {
	n, err := r.dlqDepth(ctx)
	r.dlq = n
	return fmt.Sprintf("%d messages in the DLQ", n), err
}

func (r *run) upload(ctx context.Context) (string, error) {
	body := r.plan.CSV()
	out, err := r.c.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(r.t.Bucket), Key: aws.String(r.plan.Key), Body: bytes.NewReader(body),
		ContentType: aws.String("text/csv"),
	})
	if err != nil {
		return "", fmt.Errorf("upload s3://%s/%s: %w", r.t.Bucket, r.plan.Key, err)
	}
	// Printed so that the object version can be found in the logs.
	r.version = aws.ToString(out.VersionId)
	if r.version == "" {
		r.version = strings.Trim(aws.ToString(out.ETag), `"`)
	}
	return fmt.Sprintf("s3://%s/%s (%d bytes, %d trades + %d bad row, version %s)",
		r.t.Bucket, r.plan.Key, len(body), len(r.plan.FileTrades), BadFileRows, r.version), nil
}

// send sends a request signed with the caller's credentials for execute-api.
func (r *run) send(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	return Send(ctx, r.c, r.o.Now(), method, u, body)
}

// Send sends a request to the API signed (SigV4, service execute-api) with
// c's credentials at time now, and returns the status and the whole answer.
func Send(ctx context.Context, c Clients, now time.Time, method, u string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("credentials to sign %s %s: %w", method, u, err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.Region, now); err != nil {
		return 0, nil, fmt.Errorf("sign %s %s: %w", method, u, err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read the answer: %w", method, u, err)
	}
	return resp.StatusCode, b, nil
}

func (r *run) ingest(ctx context.Context) (string, error) {
	status, body, err := r.send(ctx, http.MethodPost, r.t.IngestURL, r.plan.IngestBody())
	if err != nil {
		return "", err
	}
	if status != http.StatusAccepted {
		return "", fmt.Errorf("POST %s: expected 202, saw %d %s", r.t.IngestURL, status, clip(body))
	}
	var ans marketdata.IngestResponse
	if err := json.Unmarshal(body, &ans); err != nil {
		return "", fmt.Errorf("POST %s: expected a JSON answer, saw %s: %w", r.t.IngestURL, clip(body), err)
	}
	if ans.Accepted != len(r.plan.APITrades) || ans.RejectedCount != BadAPIRecords {
		return "", fmt.Errorf("POST %s: expected %d accepted and %d rejected, saw %d accepted and %d rejected: %s",
			r.t.IngestURL, len(r.plan.APITrades), BadAPIRecords, ans.Accepted, ans.RejectedCount, clip(body))
	}
	return fmt.Sprintf("202: %d accepted, %d rejected (request %s)", ans.Accepted, ans.RejectedCount, ans.RequestID), nil
}

// aggregates polls GET /aggregates/{symbol} for both symbols until each
// serves exactly its expected windows, or the timeout passes; the error then
// holds the last difference seen per symbol.
func (r *run) aggregates(ctx context.Context) (string, error) {
	symbols := []struct {
		name, path string
		want       map[int64]marketdata.Aggregate
	}{
		{r.plan.FileSymbol, "uploaded to s3://" + r.t.Bucket + "/" + r.plan.Key, ExpectedWindows(r.plan.FileTrades)},
		{r.plan.APISymbol, "posted to " + r.t.IngestURL, ExpectedWindows(r.plan.APITrades)},
	}
	done := make([]bool, len(symbols))
	last := make([]error, len(symbols))
	deadline := r.o.Now().Add(r.o.Timeout)
	polls := 0
	for {
		polls++
		all := true
		for i, s := range symbols {
			if done[i] {
				continue
			}
			last[i] = r.checkSymbol(ctx, s.name, s.want)
			done[i] = last[i] == nil
			all = all && done[i]
		}
		if all {
			return fmt.Sprintf("%s and %s: %d windows each, equal to the expected (%d polls)",
				r.plan.FileSymbol, r.plan.APISymbol, windows, polls), nil
		}
		if !r.o.Now().Before(deadline) {
			var msgs []string
			for i, s := range symbols {
				if !done[i] {
					msgs = append(msgs, fmt.Sprintf("%s (%s): %v", s.name, s.path, last[i]))
				}
			}
			return "", fmt.Errorf("after %s (%d polls):\n%s", r.o.Timeout, polls, strings.Join(msgs, "\n"))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(r.o.PollEvery):
		}
	}
}

func (r *run) checkSymbol(ctx context.Context, symbol string, want map[int64]marketdata.Aggregate) error {
	q := url.Values{}
	q.Set(marketdata.APIQueryFrom, strconv.FormatInt(r.plan.From, 10))
	q.Set(marketdata.APIQueryTo, strconv.FormatInt(r.plan.To, 10))
	u := strings.TrimSuffix(r.t.AggregatesURL, "/") + "/" + url.PathEscape(symbol) + "?" + q.Encode()
	status, body, err := r.send(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound:
		return fmt.Errorf("expected %d windows, saw none yet (GET %s: 404 %s)", len(want), u, clip(body))
	default:
		return fmt.Errorf("GET %s: expected 200, saw %d %s", u, status, clip(body))
	}
	var got []marketdata.Aggregate
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("GET %s: expected a JSON array of windows, saw %s: %w", u, clip(body), err)
	}
	return CompareWindows(got, want, 0)
}

// reports returns the report items of the uploaded object: all its
// versions' (one hash key; the range key hashes the version id, or the ETag
// when the S3 event carries no version id, as moto's do). The run uploads
// its unique key once, so there is one.
func (r *run) reports(ctx context.Context, hash string) ([]marketdata.IngestionReport, error) {
	var reps []marketdata.IngestionReport
	pages := dynamodb.NewQueryPaginator(r.c.DynamoDB, &dynamodb.QueryInput{
		TableName:                 aws.String(r.t.Table),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": marketdata.AttrSymbol},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":k": &ddbtypes.AttributeValueMemberS{Value: hash}},
		ConsistentRead:            aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the report %s from %s: %w", hash, r.t.Table, err)
		}
		var items []marketdata.IngestionReport
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("report %s: %w", hash, err)
		}
		reps = append(reps, items...)
	}
	return reps, nil
}

// report waits for the object's ingestion report to be final and checks it.
func (r *run) report(ctx context.Context) (string, error) {
	hash, _ := marketdata.ReportKey(r.t.Bucket, r.plan.Key, "")
	deadline := r.o.Now().Add(r.o.Timeout)
	for {
		reps, err := r.reports(ctx, hash)
		if err != nil {
			return "", err
		}
		if len(reps) > 1 {
			return "", fmt.Errorf("report %s: expected one report item (one upload), saw %d: %+v", hash, len(reps), reps)
		}
		var rep marketdata.IngestionReport
		if len(reps) == 1 {
			rep = reps[0]
		}
		switch rep.Status {
		case marketdata.ReportCompleted:
			wantAcc, wantRej := int64(len(r.plan.FileTrades)), int64(BadFileRows)
			if rep.Accepted != wantAcc || rep.Rejected != wantRej || rep.Records != wantAcc+wantRej {
				return "", fmt.Errorf("report %s: expected %d records, %d accepted, %d rejected; saw %d records, %d accepted, %d rejected",
					hash, wantAcc+wantRej, wantAcc, wantRej, rep.Records, rep.Accepted, rep.Rejected)
			}
			return fmt.Sprintf("%s: %s, %d records, %d accepted, %d rejected", hash, rep.Status, rep.Records, rep.Accepted, rep.Rejected), nil
		case marketdata.ReportFailed, marketdata.ReportRejected:
			return "", fmt.Errorf("report %s: expected status %s, saw %s (error: %q)", hash, marketdata.ReportCompleted, rep.Status, rep.Error)
		}
		if !r.o.Now().Before(deadline) {
			seen := rep.Status
			if len(reps) == 0 {
				seen = "no report item"
			}
			return "", fmt.Errorf("report %s: expected status %s within %s, saw %s",
				hash, marketdata.ReportCompleted, r.o.Timeout, seen)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(r.o.PollEvery):
		}
	}
}

func (r *run) dlqAfter(ctx context.Context) (string, error) {
	n, err := r.dlqDepth(ctx)
	if err != nil {
		return "", err
	}
	if n > r.dlq {
		return "", fmt.Errorf("DLQ %s: expected at most %d messages (its depth before the run), saw %d", r.t.DLQURL, r.dlq, n)
	}
	return fmt.Sprintf("%d messages in the DLQ (%d before)", n, r.dlq), nil
}

// cleanup deletes every version and delete marker under the run's prefix
// (the bucket is versioned: deleting the key alone would keep its data).
func (r *run) cleanup(ctx context.Context) (string, error) {
	var ids []s3types.ObjectIdentifier
	pages := s3.NewListObjectVersionsPaginator(r.c.S3, &s3.ListObjectVersionsInput{
		Bucket: aws.String(r.t.Bucket), Prefix: aws.String(r.plan.Prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list the versions under s3://%s/%s: %w", r.t.Bucket, r.plan.Prefix, err)
		}
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
	}
	// DeleteObjects takes at most 1000 keys per call.
	const maxKeys = 1000
	var errs []error
	for i := 0; i < len(ids); i += maxKeys {
		out, err := r.c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(r.t.Bucket),
			Delete: &s3types.Delete{Objects: ids[i:min(len(ids), i+maxKeys)], Quiet: aws.Bool(true)},
		})
		if err != nil {
			return "", fmt.Errorf("delete the versions under s3://%s/%s: %w", r.t.Bucket, r.plan.Prefix, err)
		}
		for _, e := range out.Errors {
			errs = append(errs, fmt.Errorf("%s version %s: %s %s", aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("delete the versions under s3://%s/%s: %w", r.t.Bucket, r.plan.Prefix, errors.Join(errs...))
	}
	return fmt.Sprintf("deleted %d object versions under s3://%s/%s", len(ids), r.t.Bucket, r.plan.Prefix), nil
}

// clip shortens an answer body for a message.
func clip(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
