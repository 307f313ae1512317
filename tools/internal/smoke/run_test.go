package smoke

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/apigw"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
)

// fakePipeline plays the deployed pipeline behind the four narrow
// interfaces: uploads and POSTs are "ingested" into stored points, GET
// /aggregates serves their windows (through ExpectedWindows: the fake is
// about the plumbing, the windows' arithmetic is tested by hand elsewhere),
// and knobs break one part at a time.
type fakePipeline struct {
	t  *testing.T
	mu sync.Mutex

	versions []fakeVersion
	nextVer  int
	points   map[string][]marketdata.Point
	reports  map[string]map[string]ddbtypes.AttributeValue
	dlq      []int // successive DLQ depths; the last one repeats
	dlqReads int
	requests int // signed API requests seen

	// knobs
	noS3Trigger  bool
	reportStatus string
	reportShort  bool // the report counts one rejection too few
	twoReports   bool // the object has a second report item (another version)
	ingestStatus int
	tamper       func(*marketdata.Aggregate)
}

type fakeVersion struct{ key, id string }

const testBucket = "market-data-test"

func newFake(t *testing.T) *fakePipeline {
	return &fakePipeline{t: t, points: map[string][]marketdata.Point{}, reports: map[string]map[string]ddbtypes.AttributeValue{},
		dlq: []int{2}, reportStatus: marketdata.ReportCompleted, ingestStatus: http.StatusAccepted}
}

func (f *fakePipeline) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.nextVer++
	v := fakeVersion{aws.ToString(in.Key), fmt.Sprintf("ver%d", f.nextVer)}
	f.versions = append(f.versions, v)
	if f.noS3Trigger {
		return &s3.PutObjectOutput{VersionId: aws.String(v.id)}, nil
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		return nil, err
	}
	var acc, rej int
	for _, r := range rows[1:] {
		ts, _ := strconv.ParseInt(r[1], 10, 64)
		price, _ := strconv.ParseFloat(r[2], 64)
		vol, _ := marketdata.ParseDecimal(r[3])
		p := marketdata.Point{Symbol: r[0], Timestamp: ts, Price: price, Volume: vol, Exchange: r[6]}
		if p.Validate(time.Now()) != nil {
			rej++
			continue
		}
		acc++
		f.points[p.Symbol] = append(f.points[p.Symbol], p)
	}
	if f.reportShort {
		rej--
	}
	hash, rng := marketdata.ReportKey(aws.ToString(in.Bucket), v.key, v.id)
	item, err := attributevalue.MarshalMap(marketdata.IngestionReport{Status: f.reportStatus, Records: int64(acc + rej),
		Accepted: int64(acc), Rejected: int64(rej), Error: "header: no price column"})
	if err != nil {
		return nil, err
	}
	f.reports[hash+"|"+rng] = item
	if f.twoReports {
		_, other := marketdata.ReportKey(aws.ToString(in.Bucket), v.key, "another")
		f.reports[hash+"|"+other] = f.reports[hash+"|"+rng]
	}
	return &s3.PutObjectOutput{VersionId: aws.String(v.id)}, nil
}

func (f *fakePipeline) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &s3.ListObjectVersionsOutput{}
	for _, v := range f.versions {
		if strings.HasPrefix(v.key, aws.ToString(in.Prefix)) {
			out.Versions = append(out.Versions, s3types.ObjectVersion{Key: aws.String(v.key), VersionId: aws.String(v.id)})
		}
	}
	return out, nil
}

func (f *fakePipeline) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range in.Delete.Objects {
		kept := f.versions[:0]
		for _, v := range f.versions {
			if v.key != aws.ToString(o.Key) || v.id != aws.ToString(o.VersionId) {
				kept = append(kept, v)
			}
		}
		f.versions = kept
	}
	return &s3.DeleteObjectsOutput{}, nil
}

func (f *fakePipeline) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hash := in.ExpressionAttributeValues[":k"].(*ddbtypes.AttributeValueMemberS).Value
	out := &dynamodb.QueryOutput{}
	for k, it := range f.reports {
		if strings.HasPrefix(k, hash+"|") {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

func (f *fakePipeline) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.dlq[min(f.dlqReads, len(f.dlq)-1)]
	f.dlqReads++
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"ApproximateNumberOfMessages": strconv.Itoa(n)}}, nil
}

func (f *fakePipeline) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	answer := func(status int, v any) (*http.Response, error) {
		b, _ := json.Marshal(v)
		return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(b))}, nil
	}
	// The local API Gateway's check: the request must carry a valid
	// SigV4 signature for execute-api.
	if err := apigw.VerifySigV4(r, body, naming.Region, time.Now()); err != nil {
		return answer(http.StatusForbidden, marketdata.ErrorResponse{Message: err.Error()})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/prod/ingest":
		if f.ingestStatus != http.StatusAccepted {
			return answer(f.ingestStatus, marketdata.ErrorResponse{Message: "Forbidden"})
		}
		var in struct{ Points []marketdata.Point }
		if err := json.Unmarshal(body, &in); err != nil {
			return answer(http.StatusBadRequest, marketdata.ErrorResponse{Message: err.Error()})
		}
		ans := marketdata.IngestResponse{RequestID: "req-1"}
		for i, p := range in.Points {
			if err := p.Validate(time.Now()); err != nil {
				ans.Rejected = append(ans.Rejected, marketdata.Rejection{Index: int64(i), Reason: err.Error()})
				continue
			}
			ans.Accepted++
			f.points[p.Symbol] = append(f.points[p.Symbol], p)
		}
		ans.RejectedCount = len(ans.Rejected)
		return answer(http.StatusAccepted, ans)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/prod/aggregates/"):
		symbol := strings.TrimPrefix(r.URL.Path, "/prod/aggregates/")
		from, _ := strconv.ParseInt(r.URL.Query().Get(marketdata.APIQueryFrom), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get(marketdata.APIQueryTo), 10, 64)
		pts := f.points[symbol]
		if len(pts) == 0 {
			return answer(http.StatusNotFound, marketdata.ErrorResponse{Message: "no data for " + symbol})
		}
		aggs := []marketdata.Aggregate{}
		for _, a := range ExpectedWindows(pts) {
			if a.WindowStart < to && a.WindowEnd > from {
				if f.tamper != nil {
					f.tamper(&a)
				}
				aggs = append(aggs, a)
			}
		}
		return answer(http.StatusOK, aggs)
	}
	return answer(http.StatusNotFound, marketdata.ErrorResponse{Message: "no route " + r.URL.Path})
}

func (f *fakePipeline) run(t *testing.T) (string, error) {
	var out bytes.Buffer
	target := Target{Bucket: testBucket, Table: "MarketDataState-test", DLQURL: "https://sqs/dlq",
		IngestURL: "https://api.test/prod/ingest", AggregatesURL: "https://api.test/prod/aggregates"}
	clients := Clients{S3: f, DynamoDB: f, SQS: f, HTTP: f, Credentials: awsx.Credentials(), Region: naming.Region}
	err := Run(context.Background(), target, clients, Options{Out: &out, Timeout: 100 * time.Millisecond, PollEvery: 5 * time.Millisecond})
	t.Log("\n" + out.String())
	return out.String(), err
}

func TestRunPassesAgainstAWorkingPipeline(t *testing.T) {
	f := newFake(t)
	out, err := f.run(t)
	if err != nil {
		t.Fatalf("smoke failed against a working pipeline: %v", err)
	}
	for _, step := range []string{StepDLQBefore, StepUpload, StepIngest, StepAggregates, StepReport, StepDLQAfter, StepCleanup} {
		if !regexp.MustCompile(`\] ` + step + ` +ok +\d+\.\d{3}s  `).MatchString(out) {
			t.Errorf("no ok line with a duration for step %s", step)
		}
	}
	if !strings.Contains(out, "smoke PASSED") {
		t.Errorf("want PASSED:\n%s", out)
	}
	if f.requests < 3 {
		t.Errorf("%d signed API requests reached the fake, want the POST and a GET per symbol", f.requests)
	}
	if len(f.versions) != 0 {
		t.Errorf("objects left after the run: %v", f.versions)
	}
	if len(f.points) != 2 {
		t.Errorf("trades of %d symbols ingested, want 2 (one per path): %v", len(f.points), f.points)
	}
}

func TestRunFailsNamingExpectedAndSeen(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*fakePipeline)
		step   string
		want   []string
	}{
		{"unsigned requests are refused", func(f *fakePipeline) { f.ingestStatus = http.StatusForbidden }, StepIngest,
			[]string{"expected 202, saw 403"}},
		{"no S3 trigger", func(f *fakePipeline) { f.noS3Trigger = true }, StepAggregates,
			[]string{"uploaded to s3://" + testBucket + "/smoke/", "expected 2 windows, saw none yet"}},
		{"a wrong close", func(f *fakePipeline) { f.tamper = func(a *marketdata.Aggregate) { a.Close += 0.25 } }, StepAggregates,
			[]string{"close: expected 100.5, saw 100.75", "close: expected 250.5, saw 250.75"}},
		{"a missing trade", func(f *fakePipeline) { f.tamper = func(a *marketdata.Aggregate) { a.Trades-- } }, StepAggregates,
			[]string{"trades: expected 5, saw 4"}},
		{"a failed report", func(f *fakePipeline) { f.reportStatus = marketdata.ReportFailed }, StepReport,
			[]string{"expected status COMPLETED, saw FAILED", "header: no price column"}},
		{"report counts", func(f *fakePipeline) { f.reportShort = true }, StepReport,
			[]string{"expected 11 records, 10 accepted, 1 rejected; saw 10 records, 10 accepted, 0 rejected"}},
		{"two report items", func(f *fakePipeline) { f.twoReports = true }, StepReport,
			[]string{"expected one report item (one upload), saw 2"}},
		{"the DLQ grew", func(f *fakePipeline) { f.dlq = []int{2, 3} }, StepDLQAfter,
			[]string{"expected at most 2 messages (its depth before the run), saw 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			tt.break_(f)
			out, err := f.run(t)
			var se *StepError
			if !errors.As(err, &se) || se.Step != tt.step {
				t.Fatalf("error %v, want a failure of step %s", err, tt.step)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
			if !strings.Contains(out, " FAIL ") || !strings.Contains(out, "smoke FAILED") {
				t.Errorf("the output does not show the failure:\n%s", out)
			}
			if len(f.versions) != 0 || !strings.Contains(out, fmt.Sprintf(" %-10s ok ", StepCleanup)) {
				t.Errorf("a failed run must still clean up: left %v", f.versions)
			}
		})
	}
}

func TestRunCleansUpEveryVersion(t *testing.T) {
	f := newFake(t)
	// Versions of the run's key from earlier puts, another run's object,
	// and a delete marker-like extra version: only the run's prefix goes.
	other := fakeVersion{"smoke/OTHERRUN/trades.csv", "other"}
	f.versions = append(f.versions, other)
	id := "CLEAN123"
	f.versions = append(f.versions, fakeVersion{KeyPrefix + id + "/trades.csv", "old1"}, fakeVersion{KeyPrefix + id + "/trades.csv", "old2"})
	var out bytes.Buffer
	target := Target{Bucket: testBucket, Table: "t", DLQURL: "q", IngestURL: "https://api.test/prod/ingest", AggregatesURL: "https://api.test/prod/aggregates"}
	clients := Clients{S3: f, DynamoDB: f, SQS: f, HTTP: f, Credentials: awsx.Credentials(), Region: naming.Region}
	if err := Run(context.Background(), target, clients, Options{Out: &out, RunID: id, Timeout: 100 * time.Millisecond, PollEvery: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if len(f.versions) != 1 || f.versions[0] != other {
		t.Errorf("left %v, want only %v", f.versions, other)
	}
	if !strings.Contains(out.String(), "deleted 3 object versions") {
		t.Errorf("cleanup line: %s", out.String())
	}
}

func TestStackTargetReadsEachLayersOutputs(t *testing.T) {
	outs := map[string]string{
		"storage":   `{"bucketName":"market-data-dev","tableName":"MarketDataState-dev","bucketArn":"arn:aws:s3:::market-data-dev"}`,
		"messaging": `{"dlqUrl":"https://sqs.us-east-1.amazonaws.com/1/ProcessingDLQ-dev"}`,
		"api":       `{"ingestUrl":"https://x.execute-api.us-east-1.amazonaws.com/prod/ingest","aggregatesUrl":"https://x.execute-api.us-east-1.amazonaws.com/prod/aggregates"}`,
	}
	var calls []string
	runner := func(_ context.Context, dir, name string, args ...string) ([]byte, error) {
		calls = append(calls, dir+": "+name+" "+strings.Join(args, " "))
		layer := dir[strings.LastIndex(dir, "/")+1:]
		if o, ok := outs[layer]; ok {
			return []byte(o), nil
		}
		return nil, fmt.Errorf("no stack in %s", dir)
	}
	got, err := StackTarget(context.Background(), runner, "stacks", "dev")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Bucket: "market-data-dev", Table: "MarketDataState-dev", DLQURL: "https://sqs.us-east-1.amazonaws.com/1/ProcessingDLQ-dev",
		IngestURL: "https://x.execute-api.us-east-1.amazonaws.com/prod/ingest", AggregatesURL: "https://x.execute-api.us-east-1.amazonaws.com/prod/aggregates"}
	if got != want {
		t.Errorf("target %+v, want %+v", got, want)
	}
	if len(calls) != 3 || calls[0] != "stacks/storage: pulumi stack output --json --stack dev" {
		t.Errorf("calls %v", calls)
	}

	outs["api"] = `{"ingestUrl":"https://x/prod/ingest"}`
	if _, err := StackTarget(context.Background(), runner, "stacks", "dev"); err == nil || !strings.Contains(err.Error(), `the api layer has no output "aggregatesUrl"`) {
		t.Errorf("a missing output: %v", err)
	}
	delete(outs, "messaging")
	if _, err := StackTarget(context.Background(), runner, "stacks", "dev"); err == nil || !strings.Contains(err.Error(), "messaging layer of stack dev") {
		t.Errorf("a layer not deployed: %v", err)
	}
}
