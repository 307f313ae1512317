package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/localclient"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
	"github.com/marketanalytics/pipeline/tools/internal/tradegen"
)

// objectRows is the most rows per generated S3 object.
const objectRows = 250_000

// apiBatch is the number of points per POST /ingest.
const apiBatch = 1000

// exactPointsLimit is the largest load whose raw points are counted at the
// end without the fast-query shim (plain moto's Query reads the whole table
// on every call).
const exactPointsLimit = 200_000

// probeSymbol carries the latency probes: one point per POST, each in its
// own window, so "readable" and "aggregated" are unambiguous.
const probeSymbol = "PROBE"

type object struct {
	key  string
	body []byte
}

type loadResult struct {
	start, storedAt, aggregatedAt time.Time
	generated, badRows            int
	objects                       []object
	apiRequests                   int
	apiAccepted                   int64
	rejections                    map[string]int // reason → count (S3 reports and API answers)
	rejectionSamples              []string
	reports                       []marketdata.IngestionReport
	expected                      int64            // accepted points, probes excluded
	stored                        map[string]int64 // symbol → raw points (counted when ≤ exactPointsLimit)
	aggTrades                     map[string]int64 // symbol → Σ trades of its aggregates
	windows                       map[string][]marketdata.Aggregate
	symbols                       []string // of the generated rows; nil for a file
	probes                        []probe
	// incomplete: the run stopped with messages in the DLQ and aggregates
	// short of the accepted points.
	incomplete bool
}

type probe struct {
	readable, aggregated time.Duration
	underLoad            bool
}

func load(ctx context.Context, p *pipeline.Pipeline, o options) (*loadResult, error) {
	res := &loadResult{rejections: map[string]int{}, stored: map[string]int64{}, aggTrades: map[string]int64{}, windows: map[string][]marketdata.Aggregate{}}
	var apiRows []tradegen.Row
	open := tradegen.SessionOpen(time.Now())
	if o.file != "" {
		b, err := os.ReadFile(o.file)
		if err != nil {
			return nil, err
		}
		res.objects = []object{{key: "incoming/" + filepath.Base(o.file), body: b}}
	} else {
		rows := tradegen.Day(o.seed, open, o.points, max(1, o.points/6))
		res.generated = len(rows)
		set := map[string]bool{}
		for _, r := range rows {
			if !r.Bad {
				set[r.Point.Symbol] = true
			}
		}
		res.symbols = slices.Sorted(maps.Keys(set))
		// The API carries the live tail of the day (the last apiShare of
		// it, in time order, as a feed would post it); files carry the rest.
		cut := len(rows) - int(o.apiShare*float64(len(rows)))
		s3Rows := rows[:cut]
		apiRows = rows[cut:]
		for _, r := range rows {
			if r.Bad {
				res.badRows++
			}
		}
		day := open.Format("2006-01-02")
		for i := 0; i*objectRows < len(s3Rows); i++ {
			chunk := s3Rows[i*objectRows : min(len(s3Rows), (i+1)*objectRows)]
			var buf bytes.Buffer
			if i%2 == 0 {
				buf.WriteString(tradegen.CSVHeader + "\n")
				for _, r := range chunk {
					buf.WriteString(r.CSV() + "\n")
				}
				res.objects = append(res.objects, object{fmt.Sprintf("incoming/%s/trades-%03d.csv", day, i), buf.Bytes()})
			} else {
				zw := gzip.NewWriter(&buf)
				for _, r := range chunk {
					io.WriteString(zw, r.JSON()+"\n")
				}
				zw.Close()
				res.objects = append(res.objects, object{fmt.Sprintf("incoming/%s/trades-%03d.ndjson.gz", day, i), buf.Bytes()})
			}
		}
		fmt.Printf("generated %d rows (%d bad) of the %s session: %d through S3 in %d objects, %d through POST /ingest\n",
			len(rows), res.badRows, day, len(s3Rows), len(res.objects), len(apiRows))
	}
	stageURL, apiErr := p.StageURL()
	table := localclient.Table{DB: p.AWS.DynamoDB, Name: p.Table()}
	res.start = time.Now()

	// Progress, until the end of the load.
	var uploaded, posted atomic.Int64
	progressDone := make(chan struct{})
	defer close(progressDone)
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				st := p.Glue.Stats()
				qurl, _ := p.QueueURL(outputs.QueueArn)
				depth, _ := p.QueueDepth(ctx, qurl, true)
				fmt.Printf("  %5.0fs  objects %d/%d  API requests %d/%d  S3 events %d  queue %d  batches %d (%d messages)  rule events %d  probes %d\n",
					time.Since(res.start).Seconds(), uploaded.Load(), len(res.objects), posted.Load(), (len(apiRows)+apiBatch-1)/apiBatch,
					st.S3Events.Load(), depth, st.SQSBatches.Load(), st.SQSMessages.Load(), st.RuleEvents.Load(), len(res.probeSnapshot()))
			}
		}
	}()

	// Latency probes run alongside the load.
	loadDone := make(chan struct{})
	probesDone := make(chan struct{})
	if apiErr == nil {
		go func() { defer close(probesDone); runProbes(ctx, stageURL, table, open, res, loadDone, o.fastQuery) }()
	} else {
		close(probesDone)
	}

	// Uploads and POSTs run side by side, each with bounded concurrency
	// (2 uploads, 4 POSTs); the first error cancels the rest.
	if len(apiRows) > 0 && apiErr != nil {
		close(loadDone)
		return nil, apiErr
	}
	send, sendCtx := errgroup.WithContext(ctx)
	send.Go(func() error {
		var g errgroup.Group
		g.SetLimit(2)
		for _, ob := range res.objects {
			if sendCtx.Err() != nil {
				break
			}
			g.Go(func() error {
				if _, err := p.AWS.S3.PutObject(sendCtx, &s3.PutObjectInput{
					Bucket: aws.String(p.Bucket()), Key: aws.String(ob.key), Body: bytes.NewReader(ob.body),
				}); err != nil {
					return fmt.Errorf("upload %s: %w", ob.key, err)
				}
				uploaded.Add(1)
				return nil
			})
		}
		return g.Wait()
	})
	var mu sync.Mutex
	send.Go(func() error {
		var g errgroup.Group
		g.SetLimit(4)
		for i := 0; i < len(apiRows) && sendCtx.Err() == nil; i += apiBatch {
			b := apiRows[i:min(len(apiRows), i+apiBatch)]
			res.apiRequests++
			g.Go(func() error {
				parts := make([]string, len(b))
				for i, r := range b {
					parts[i] = r.JSON()
				}
				body := []byte(`{"points":[` + strings.Join(parts, ",") + `]}`)
				resp, err := localclient.PostIngest(sendCtx, stageURL, body)
				if err != nil {
					return err
				}
				if resp.Status != http.StatusAccepted {
					return fmt.Errorf("POST /ingest answered %d: %s", resp.Status, resp.Body)
				}
				var ir marketdata.IngestResponse
				if err := json.Unmarshal(resp.Body, &ir); err != nil {
					return fmt.Errorf("POST /ingest: %w", err)
				}
				mu.Lock()
				res.apiAccepted += int64(ir.Accepted)
				for _, r := range ir.Rejected {
					res.rejections[reasonClass(r.Reason)]++
					if len(res.rejectionSamples) < 8 {
						res.rejectionSamples = append(res.rejectionSamples, fmt.Sprintf("POST /ingest #%d: %s", r.Index, r.Reason))
					}
				}
				mu.Unlock()
				posted.Add(1)
				return nil
			})
		}
		return g.Wait()
	})
	if err := send.Wait(); err != nil {
		close(loadDone)
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		close(loadDone)
		return nil, err
	}
	fmt.Printf("  %5.0fs  all data sent; waiting for the pipeline\n", time.Since(res.start).Seconds())

	deadline := time.Now().Add(o.timeout)
	// 1. every object's ingestion report is final
	for _, ob := range res.objects {
		for {
			reps, err := table.Reports(ctx, p.Bucket(), ob.key)
			if err != nil {
				close(loadDone)
				return nil, err
			}
			if rep := finalReport(reps); rep != nil {
				res.reports = append(res.reports, *rep)
				res.expected += rep.Accepted
				collectRejections(res, ob.key, rep)
				break
			}
			if err := waitOrFail(ctx, deadline, "the ingestion report of s3://"+p.Bucket()+"/"+ob.key); err != nil {
				close(loadDone)
				return nil, err
			}
		}
	}
	res.expected += res.apiAccepted
	// 2. every accepted point is written: the processing queue is empty,
	// nothing visible and nothing in flight (the event source mapping deletes
	// a message only once the processor reported it stored), 3. and
	// aggregated: the trades of every symbol's aggregates add up to its
	// accepted points.
	qurl, err := p.QueueURL(outputs.QueueArn)
	if err != nil {
		close(loadDone)
		return nil, err
	}
	dlqURL, err := p.QueueURL(outputs.DLQArn)
	if err != nil {
		close(loadDone)
		return nil, err
	}
	lastTrades, lastChange := int64(-1), time.Now()
	// The generated symbols are known; a file's are listed from the state
	// items once everything is stored (a Scan, slow on a large table).
	syms := res.symbols
	listed := syms != nil
	for {
		depth, err := p.QueueDepth(ctx, qurl, true)
		if err != nil {
			close(loadDone)
			return nil, err
		}
		if res.storedAt.IsZero() && depth == 0 {
			res.storedAt = time.Now()
		}
		var trades int64
		if !res.storedAt.IsZero() {
			// Every point is stored, so every symbol is in the symbols
			// index: list them once.
			if !listed {
				if syms, err = table.Symbols(ctx); err != nil {
					close(loadDone)
					return nil, err
				}
				listed = true
			}
			for _, s := range syms {
				if s == probeSymbol {
					continue
				}
				aggs, err := table.Aggregates(ctx, s)
				if err != nil {
					close(loadDone)
					return nil, err
				}
				res.windows[s] = aggs
				var t int64
				for _, a := range aggs {
					t += a.Trades
				}
				res.aggTrades[s] = t
				trades += t
			}
			if trades == res.expected {
				res.aggregatedAt = time.Now()
				break
			}
			if trades != lastTrades {
				lastTrades, lastChange = trades, time.Now()
			}
		}
		dead, err := p.QueueDepth(ctx, dlqURL, true)
		if err != nil {
			close(loadDone)
			return nil, err
		}
		// Nothing left to process, something dead-lettered, and the
		// aggregates no longer move: the run cannot complete.
		if depth == 0 && dead > 0 && time.Since(lastChange) > 2*time.Minute {
			res.aggregatedAt, res.incomplete = time.Now(), true
			break
		}
		fmt.Printf("  %5.0fs  processing queue %d, DLQ %d; aggregated %d of %d accepted points\n", time.Since(res.start).Seconds(), depth, dead, trades, res.expected)
		if err := waitOrFail(ctx, deadline, "the points to be stored and aggregated"); err != nil {
			close(loadDone)
			return nil, err
		}
	}
	if res.expected <= exactPointsLimit || o.fastQuery {
		for s := range res.aggTrades {
			n, err := table.CountPoints(ctx, s, 0, time.Now().Add(48*time.Hour).UnixMilli())
			if err != nil {
				close(loadDone)
				return nil, err
			}
			res.stored[s] = n
		}
	}
	close(loadDone)
	<-probesDone
	return res, nil
}

func waitOrFail(ctx context.Context, deadline time.Time, what string) error {
	if time.Now().After(deadline) {
		return fmt.Errorf("gave up waiting for %s (see the logs)", what)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Second):
		return nil
	}
}

// finalReport returns the report of the object's latest version once its
// ingestion has finished (COMPLETED, REJECTED or FAILED).
func finalReport(reps []marketdata.IngestionReport) *marketdata.IngestionReport {
	for i := range reps {
		if reps[i].Final() {
			return &reps[i]
		}
	}
	return nil
}

func collectRejections(res *loadResult, key string, rep *marketdata.IngestionReport) {
	for _, r := range rep.Rejections {
		if len(res.rejectionSamples) < 8 {
			res.rejectionSamples = append(res.rejectionSamples, fmt.Sprintf("s3://…/%s line %d: %s", key, r.Index, r.Reason))
		}
	}
	if rep.RejectionCounts != nil {
		for reason, n := range rep.RejectionCounts {
			res.rejections[reason] += int(n)
		}
	} else {
		for _, r := range rep.Rejections {
			res.rejections[reasonClass(r.Reason)]++
		}
	}
}

// reasonClass shortens a rejection reason to its kind, the words before
// the first value ("invalid price -5: ..." → "invalid price"), for counting.
func reasonClass(reason string) string {
	var kept []string
	for _, w := range strings.Fields(reason) {
		if strings.ContainsAny(w, "0123456789\"':") {
			if strings.HasSuffix(w, ":") && !strings.ContainsAny(w, "0123456789\"'") {
				kept = append(kept, strings.TrimSuffix(w, ":"))
			}
			break
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		return reason
	}
	return strings.Join(kept, " ")
}

var probeMu sync.Mutex

func (r *loadResult) probeSnapshot() []probe {
	probeMu.Lock()
	defer probeMu.Unlock()
	return append([]probe(nil), r.probes...)
}

// probeEvery is the interval between latency probes during the load.
const probeEvery = 15 * time.Second

// runProbes measures latency with single-point POSTs of the probe symbol,
// each in its own window (so "readable" and "aggregated" are unambiguous):
// one every probeEvery while the load runs (latency under load, queueing
// behind the backlog included), then a few one at a time once the pipeline
// is idle.
func runProbes(ctx context.Context, stageURL string, table localclient.Table, open time.Time, res *loadResult, done <-chan struct{}, fastQuery bool) {
	const windows = 78 // 6.5 hours of 5-minute windows
	var wg sync.WaitGroup
	i := 0
	probe := func(k int, loaded bool) {
		if k >= windows {
			return
		}
		pr, err := oneProbe(ctx, stageURL, table, open, k, fastQuery)
		if err != nil {
			fmt.Printf("  probe %d: %v\n", k, err)
			return
		}
		pr.underLoad = loaded
		probeMu.Lock()
		res.probes = append(res.probes, pr)
		probeMu.Unlock()
	}
	t := time.NewTicker(probeEvery)
loop:
	for {
		k := i
		wg.Go(func() { probe(k, true) })
		i++
		select {
		case <-done:
			break loop
		case <-ctx.Done():
			break loop
		case <-t.C:
		}
	}
	t.Stop()
	wg.Wait()
	for n := 0; n < 5 && ctx.Err() == nil; n++ {
		probe(i, false)
		i++
	}
}

// oneProbe posts probe k and waits until its point is readable and its
// window aggregated, polling less often as the wait grows (5% resolution).
func oneProbe(ctx context.Context, stageURL string, table localclient.Table, open time.Time, k int, fastQuery bool) (probe, error) {
	ts := open.Add(time.Duration(k)*5*time.Minute + 1234*time.Millisecond).UnixMilli()
	body := fmt.Sprintf(`{"points":[{"symbol":%q,"timestamp":%d,"price":100.25,"volume":10}]}`, probeSymbol, ts)
	t0 := time.Now()
	resp, err := localclient.PostIngest(ctx, stageURL, []byte(body))
	if err != nil {
		return probe{}, err
	}
	if resp.Status != http.StatusAccepted {
		return probe{}, fmt.Errorf("POST /ingest answered %d: %s", resp.Status, resp.Body)
	}
	var pr probe
	for ctx.Err() == nil && time.Since(t0) < 40*time.Minute {
		if pr.readable == 0 {
			// The point itself (a Query of its millisecond) with the
			// fast-query shim; else the processor's per-symbol count
			// (one GetItem; plain moto's Query reads the whole table).
			var n int64
			if fastQuery {
				n, err = table.CountPoints(ctx, probeSymbol, ts, ts+1)
			} else {
				n, err = table.StateCount(ctx, probeSymbol)
				n -= int64(k)
			}
			if err == nil && n > 0 {
				pr.readable = time.Since(t0)
			}
		}
		if pr.readable != 0 {
			if ok, err := table.HasAggregate(ctx, probeSymbol, marketdata.WindowStart(ts)); err == nil && ok {
				pr.aggregated = time.Since(t0)
				return pr, nil
			}
		}
		time.Sleep(max(20*time.Millisecond, time.Since(t0)/20))
	}
	return probe{}, fmt.Errorf("not aggregated within 40 minutes")
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
