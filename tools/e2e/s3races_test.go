//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// The races of a versioned bucket, which AWS handles because its
// ObjectCreated events name the version they are about: the local events
// must too (motoserver's s3events shim), or the ingestion, reading "the
// object with this ETag", finds another object or none.

// waitReports waits until key has n final ingestion reports (one per
// distinct content) and returns them.
func waitReports(ctx context.Context, p *pipeline.Pipeline, key string, n int, timeout time.Duration) ([]marketdata.IngestionReport, error) {
	var final []marketdata.IngestionReport
	err := eventually(ctx, timeout, func() error {
		reps, err := table(p).Reports(ctx, p.Bucket(), key)
		if err != nil {
			return err
		}
		final = final[:0]
		for _, r := range reps {
			if r.Final() {
				final = append(final, r)
			}
		}
		if len(final) != n || len(reps) != n {
			return fmt.Errorf("%d final of %d ingestion reports for s3://%s/%s, want %d: %+v", len(final), len(reps), p.Bucket(), key, n, reps)
		}
		return nil
	})
	return final, err
}

// checkStored waits for symbol's aggregates to equal those of want, then
// compares the stored raw points with want (as a multiset).
func checkStored(ctx context.Context, t *testing.T, p *pipeline.Pipeline, symbol string, want []marketdata.Point) {
	t.Helper()
	if err := waitAggregated(ctx, p, symbol, expectedAggregates(want), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := table(p).Points(ctx, symbol, 0, time.Now().Add(48*time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if err := samePoints(got, want); err != nil {
		t.Fatal(err)
	}
}

// race is one S3 race test on the shared pipeline: its object's key and
// when it started.
type race struct {
	ctx   context.Context
	p     *pipeline.Pipeline
	key   string
	start time.Time
}

// newRace starts a race test on the object e2e/race/<name>.
func newRace(t *testing.T, name string) race {
	return race{ctx: context.Background(), p: shared(t), key: "e2e/race/" + name, start: time.Now()}
}

// upload uploads body as the race's object.
func (r race) upload(t *testing.T, body []byte) {
	t.Helper()
	if _, err := upload(r.ctx, r.p, r.key, body); err != nil {
		t.Fatal(err)
	}
}

// done checks symbol's stored points against want (checkStored) and logs
// how long what took since the start.
func (r race) done(t *testing.T, symbol string, want []marketdata.Point, what string) {
	t.Helper()
	checkStored(r.ctx, t, r.p, symbol, want)
	t.Logf("%s in %s", what, time.Since(r.start).Round(time.Millisecond))
}

// An object overwritten 0.3 s after its upload: both versions are read by
// their own version id and ingested in full.
func TestS3OverwrittenRightAfterUpload(t *testing.T) {
	r := newRace(t, "overwritten.csv")
	first := dayPoints("E2EOVW", time.Now().Add(-5*time.Hour), 90)
	second := dayPoints("E2EOVW", time.Now().Add(-4*time.Hour), 60) // other windows: no point in common
	r.upload(t, csvObject(first))
	time.Sleep(300 * time.Millisecond)
	r.upload(t, csvObject(second))
	reps, err := waitReports(r.ctx, r.p, r.key, 2, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	accepted := map[int64]bool{}
	for _, rep := range reps {
		if rep.Status != marketdata.ReportCompleted || rep.VersionID == "" {
			t.Fatalf("report %+v: want COMPLETED, read by its version id", rep)
		}
		accepted[rep.Accepted] = true
	}
	if !accepted[int64(len(first))] || !accepted[int64(len(second))] {
		t.Fatalf("reports accepted %v, want %d and %d", accepted, len(first), len(second))
	}
	r.done(t, "E2EOVW", append(append([]marketdata.Point{}, first...), second...), "both versions stored and aggregated")
}

// An object deleted (a delete marker) right after its upload: its version
// is still read and ingested.
func TestS3DeletedRightAfterUpload(t *testing.T) {
	r := newRace(t, "deleted.csv")
	pts := dayPoints("E2EDEL", time.Now().Add(-5*time.Hour), 90)
	r.upload(t, csvObject(pts))
	del, err := r.p.AWS.S3.DeleteObject(r.ctx, &s3.DeleteObjectInput{Bucket: aws.String(r.p.Bucket()), Key: aws.String(r.key)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(del.DeleteMarker) {
		t.Fatal("the delete made no delete marker: the bucket is not versioned, so the test proves nothing")
	}
	reps, err := waitReports(r.ctx, r.p, r.key, 1, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps[0]; rep.Status != marketdata.ReportCompleted || rep.Accepted != int64(len(pts)) || rep.VersionID == "" {
		t.Fatalf("report %+v: want COMPLETED with %d points, read by its version id", rep, len(pts))
	}
	r.done(t, "E2EDEL", pts, "stored and aggregated")
}

// The same bytes uploaded twice under one key: the second upload, a new
// version with its own version id in its event as on AWS, stores nothing
// twice; a changed file then adds only its new records.
func TestS3ReuploadStoresNothingTwice(t *testing.T) {
	r := newRace(t, "reupload.csv")
	ctx, p, key := r.ctx, r.p, r.key
	pts := dayPoints("E2EREUP", time.Now().Add(-5*time.Hour), 90)
	body := csvObject(pts)
	v := map[string]bool{}
	put := func(b []byte) {
		t.Helper()
		out, err := p.AWS.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.Bucket()), Key: aws.String(key), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		v[aws.ToString(out.VersionId)] = true
	}
	put(body)
	reps, err := waitReports(ctx, p, key, 1, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if reps[0].VersionID == "" {
		t.Fatalf("the report names no version: the local event carried no versionId (%+v)", reps[0])
	}
	checkStored(ctx, t, p, "E2EREUP", pts)

	put(body)
	if len(v) != 2 {
		t.Fatalf("versions %v: want two version ids", v)
	}
	// The second event is recognised as the same content: counted on the
	// first report, nothing queued.
	if err := eventually(ctx, 2*time.Minute, func() error {
		reps, err := waitReports(ctx, p, key, 1, time.Second)
		if err != nil {
			return err
		}
		if reps[0].Redeliveries != 1 {
			return fmt.Errorf("report %+v: want the identical upload counted once", reps[0])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkStored(ctx, t, p, "E2EREUP", pts)

	// A changed file: the same records plus more. Only the new ones add.
	more := append(append([]marketdata.Point{}, pts...), dayPoints("E2EREUP", time.Now().Add(-3*time.Hour), 30)...)
	put(csvObject(more))
	if _, err := waitReports(ctx, p, key, 2, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	r.done(t, "E2EREUP", more, "three uploads checked")
}
