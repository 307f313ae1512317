//go:build e2e

// Package e2e runs the end-to-end tests of the local pipeline: the real
// Lambda bootstraps under the Runtime Interface Emulator against moto, wired
// from the synth in build/synth. `go run mage.go test` builds, synthesizes
// and then runs `go test -tags e2e ./...` in tools.
package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/smoke"
	"github.com/marketanalytics/pipeline/tools/internal/triggers"
	"github.com/marketanalytics/pipeline/tools/motoserver"
)

// editSynth copies the synth (one <layer>.json per layer) to a temporary
// directory, passing every resource to edit, which may change it and returns
// false to leave it out, and returns the directory.
func editSynth(t *testing.T, synthDir string, edit func(r map[string]any) (keep bool)) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range naming.Layers {
		b, err := os.ReadFile(filepath.Join(synthDir, f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		kept := []any{}
		for _, x := range doc["resources"].([]any) {
			if edit(x.(map[string]any)) {
				kept = append(kept, x)
			}
		}
		doc["resources"] = kept
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f+".json"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// repoRoot is the repository root (two levels above this file).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// requireBuild fails the test with instructions when the synth or the local
// bootstraps are missing.
func requireBuild(t *testing.T) (synthDir, buildDir string) {
	t.Helper()
	root := repoRoot()
	synthDir, buildDir = filepath.Join(root, "build", "synth"), filepath.Join(root, "build")
	for _, layer := range naming.Layers {
		if _, err := os.Stat(filepath.Join(synthDir, layer+".json")); err != nil {
			t.Fatalf("the end-to-end tests run on the real synth: %v; run `go run mage.go synth` (or `go run mage.go test`) first", err)
		}
	}
	for _, svc := range naming.Services {
		if _, err := os.Stat(naming.LocalBinary(buildDir, svc)); err != nil {
			t.Fatalf("the end-to-end tests run the real bootstraps: %v; run `go run mage.go build` first", err)
		}
	}
	return synthDir, buildDir
}

// testTriggers compresses the clock: no schedule timers (tests fire ticks
// themselves), failed SQS messages visible again after 1 s instead of the
// queue's 300 s, and 1 s between asynchronous retries.
var testTriggers = triggers.Options{ScheduleEvery: -1, RetryVisibility: time.Second, AsyncRetryDelay: time.Second}

// isolatedMoto is the moto of the tests that need a pipeline of their own:
// started once, and emptied by each such pipeline as it starts (moto's own
// reset), rather than a new server per test. TestMain stops it.
var (
	isolatedOnce sync.Once
	isolatedMoto *motoserver.Server
	isolatedErr  error
)

func startPipeline(t *testing.T, synthDir, buildDir string) *pipeline.Pipeline {
	t.Helper()
	isolatedOnce.Do(func() {
		// S3Events: the events the pipeline would get from its own moto.
		isolatedMoto, isolatedErr = motoserver.Start(motoserver.Options{RepoDir: repoRoot(), Fresh: true, S3Events: true})
	})
	if isolatedErr != nil {
		t.Fatalf("start moto: %v", isolatedErr)
	}
	return startOwn(t, pipeline.Config{SynthDir: synthDir, BuildDir: buildDir, Instances: 2, MotoEndpoint: isolatedMoto.Endpoint()})
}

// startOwn starts a pipeline of the test's own from cfg, with the tests'
// triggers and the repository root, logging under build/e2e-logs/<test>, and
// stops it when the test ends.
func startOwn(t *testing.T, cfg pipeline.Config) *pipeline.Pipeline {
	t.Helper()
	cfg.RepoDir, cfg.Triggers = repoRoot(), testTriggers
	cfg.LogDir = filepath.Join(cfg.BuildDir, "e2e-logs", strings.ReplaceAll(t.Name(), "/", "_"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := pipeline.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the local pipeline: %v", err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("logs of the functions, the glue and moto: %s", cfg.LogDir)
		}
	})
	return p
}

// queueURL is the URL of the local queue whose ARN the messaging layer
// exports as arnKey (outputs.QueueArn, outputs.DLQArn).
func queueURL(t *testing.T, p *pipeline.Pipeline, arnKey string) string {
	t.Helper()
	u, err := p.QueueURL(arnKey)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var (
	sharedOnce sync.Once
	sharedP    *pipeline.Pipeline
	sharedErr  error
	sharedLogs string
)

// shared returns the pipeline most tests share (each test uses its own
// symbols), started on first use from the real synth; TestMain stops it.
func shared(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	synthDir, buildDir := requireBuild(t)
	sharedOnce.Do(func() {
		sharedLogs = filepath.Join(buildDir, "e2e-logs", "shared")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		sharedP, sharedErr = pipeline.Start(ctx, pipeline.Config{
			SynthDir: synthDir, BuildDir: buildDir, RepoDir: repoRoot(), Instances: 2,
			Triggers: testTriggers, FreshMoto: true, LogDir: sharedLogs,
		})
	})
	if sharedErr != nil {
		t.Fatalf("start the local pipeline: %v", sharedErr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of the functions, the glue and moto: %s", sharedLogs)
		}
	})
	return sharedP
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedP != nil {
		sharedP.Stop()
	}
	isolatedMoto.Stop()
	os.Exit(code)
}

func table(p *pipeline.Pipeline) localclient.Table {
	return localclient.Table{DB: p.AWS.DynamoDB, Name: p.Table()}
}

// eventually polls cond every 200 ms until it returns nil or timeout passes,
// and returns its last error.
func eventually(ctx context.Context, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dayPoints returns n points of symbol spread over three windows starting at
// the window that holds start, with bursts of trades in one millisecond in
// the middle of each window; every window's first and last millisecond hold
// exactly one point, so open and close are unambiguous.
func dayPoints(symbol string, start time.Time, n int) []marketdata.Point {
	w0 := marketdata.WindowStart(start.UnixMilli())
	win := marketdata.WindowEnd(w0) - w0
	pts := make([]marketdata.Point, 0, n)
	price := 100.0 + float64(len(symbol))
	for i := 0; i < n; i++ {
		w := int64(i % 3)
		k := int64(i / 3)
		var ts int64
		switch {
		case k == 0:
			ts = w0 + w*win + 1 // first of the window
		case i >= n-3:
			ts = w0 + w*win + win - 2 // last of the window
		default:
			ts = w0 + w*win + 1000 + (k/4)*7 // bursts of 4 in one millisecond
		}
		price += math.Sin(float64(i)) * 0.37
		p := marketdata.Point{Symbol: symbol, Timestamp: ts, Price: math.Round(price*100) / 100,
			Volume: marketdata.Units(uint64(100 + (i*37)%900)), Exchange: "XNAS"}
		if i%2 == 0 {
			p.Bid, p.Ask = p.Price-0.01, p.Price+0.01
		}
		pts = append(pts, p)
	}
	return pts
}

// expectedAggregates computes OHLCV/VWAP per window independently of the
// services: the smoke test's computation, shared.
func expectedAggregates(pts []marketdata.Point) map[int64]marketdata.Aggregate {
	return smoke.ExpectedWindows(pts)
}

// aggregateTolerance is how far prices and VWAP may differ relatively:
// dayPoints' cents are not exact in float64, so the VWAP's sums depend on
// their order (the smoke test's own trades are exact and compared with 0).
const aggregateTolerance = 1e-9

// checkAggregates compares the stored aggregates of a symbol with want.
func checkAggregates(got []marketdata.Aggregate, want map[int64]marketdata.Aggregate) error {
	return smoke.CompareWindows(got, want, aggregateTolerance)
}

func csvObject(pts []marketdata.Point, bad ...string) []byte {
	var b bytes.Buffer
	b.WriteString("symbol,timestamp,price,volume,bid,ask,exchange\n")
	for i, p := range pts {
		if i == len(pts)/2 {
			for _, l := range bad {
				b.WriteString(l + "\n")
			}
		}
		bid, ask := "", ""
		if p.Bid > 0 {
			bid, ask = fmt.Sprint(p.Bid), fmt.Sprint(p.Ask)
		}
		fmt.Fprintf(&b, "%s,%d,%v,%s,%s,%s,%s\n", p.Symbol, p.Timestamp, p.Price, p.Volume, bid, ask, p.Exchange)
	}
	return b.Bytes()
}

func ndjsonGz(pts []marketdata.Point, bad ...string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	enc := json.NewEncoder(zw)
	for i, p := range pts {
		if i == len(pts)/2 {
			for _, l := range bad {
				zw.Write([]byte(l + "\n"))
			}
		}
		enc.Encode(p)
	}
	zw.Close()
	return b.Bytes()
}

// upload puts an object into the raw-data bucket and returns its ETag.
func upload(ctx context.Context, p *pipeline.Pipeline, key string, body []byte) (string, error) {
	out, err := p.AWS.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.Bucket()), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return "", err
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), nil
}

// uploadAll uploads n objects (object(i) gives the key and body of the
// i-th), then waits for each one's final report: the objects are ingested
// together, and their reports come back in order.
func uploadAll(ctx context.Context, t *testing.T, p *pipeline.Pipeline, n int, object func(i int) (key string, body []byte)) []marketdata.IngestionReport {
	t.Helper()
	for i := range n {
		key, body := object(i)
		if _, err := upload(ctx, p, key, body); err != nil {
			t.Fatal(err)
		}
	}
	reps := make([]marketdata.IngestionReport, n)
	for i := range n {
		key, _ := object(i)
		rep, err := waitReport(ctx, p, key, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		reps[i] = rep
	}
	return reps
}

// waitReport waits for the object's ingestion report to be final.
func waitReport(ctx context.Context, p *pipeline.Pipeline, key string, timeout time.Duration) (marketdata.IngestionReport, error) {
	var rep marketdata.IngestionReport
	err := eventually(ctx, timeout, func() error {
		reps, err := table(p).Reports(ctx, p.Bucket(), key)
		if err != nil {
			return err
		}
		for _, r := range reps {
			if r.Final() {
				rep = r
				return nil
			}
		}
		return fmt.Errorf("no final ingestion report for s3://%s/%s (reports: %v)", p.Bucket(), key, reps)
	})
	return rep, err
}

// waitAggregated waits until the symbol's aggregates match want.
func waitAggregated(ctx context.Context, p *pipeline.Pipeline, symbol string, want map[int64]marketdata.Aggregate, timeout time.Duration) error {
	return eventually(ctx, timeout, func() error {
		got, err := table(p).Aggregates(ctx, symbol)
		if err != nil {
			return err
		}
		return checkAggregates(got, want)
	})
}
