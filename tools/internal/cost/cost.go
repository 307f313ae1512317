// Package cost models what the pipeline costs on AWS per million points and
// per month, from what the local pipeline measures (the functions' requests
// and their billed units, per million points: `go run mage.go local`
// writes them to build/local/requests.json), the benchmarks' CPU time per
// point (`go run mage.go bench` writes build/bench.json), the functions'
// configured memory (the synth) and the list prices below.
package cost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// Prices are us-east-1 list prices (first pricing tier, no free tier), as
// of AsOf, from the AWS pricing pages: aws.amazon.com/dynamodb/pricing/on-demand/
// (after the November 2024 on-demand price cut), /lambda/pricing/ (arm64,
// the functions' architecture), /sqs/pricing/ (standard queue),
// /eventbridge/pricing/ (custom events), /s3/pricing/ (S3 Standard),
// /cloudwatch/pricing/ (metrics API requests), /api-gateway/pricing/
// (REST API). Re-check them there before relying on the figures; this is
// the only copy.
var Prices = struct {
	AsOf string
	// USD per unit.
	DynamoDBWrite, DynamoDBRead  float64 // per on-demand write / read request unit
	LambdaGBSecond, LambdaInvoke float64 // arm64, per GB-second / per request
	SQSRequest                   float64 // per request (64 KiB chunk)
	EventBridgeEvent             float64 // per custom event (64 KiB chunk)
	S3Put, S3Get                 float64 // per PUT/COPY/POST/LIST, per GET and others
	CloudWatchAPI                float64 // per PutMetricData request
	APIGatewayRequest            float64 // per REST API request
}{
	AsOf:          "2025-07-01",
	DynamoDBWrite: 0.625e-6, DynamoDBRead: 0.125e-6,
	LambdaGBSecond: 0.0000133334, LambdaInvoke: 0.20e-6,
	SQSRequest:       0.40e-6,
	EventBridgeEvent: 1.00e-6,
	S3Put:            0.005e-3, S3Get: 0.0004e-3,
	CloudWatchAPI:     0.01e-3,
	APIGatewayRequest: 3.50e-6,
}

// Measured is what a local run measured: the requests of the functions and
// the local glue (standing in for Lambda's pollers and EventBridge's
// deliveries, which AWS bills the same way), with their billed units.
type Measured struct {
	Points      int64     `json:"points"`      // points accepted and stored
	Windows     int64     `json:"windows"`     // (symbol, five-minute window) pairs aggregated
	Symbols     int       `json:"symbols"`     // symbols aggregated
	APIRequests int64     `json:"apiRequests"` // POST /ingest calls of the load
	Requests    []Request `json:"requests"`
}

// Request is one counter: a caller's requests of one operation.
type Request struct {
	Caller    string  `json:"caller"`
	Service   string  `json:"service"` // the SigV4 service name
	Operation string  `json:"operation"`
	Requests  int64   `json:"requests"`
	Units     float64 `json:"units"` // billed units (countproxy.Units)
}

// RequestsFile is where `go run mage.go local` writes its Measured, under
// the build directory.
func RequestsFile(buildDir string) string { return filepath.Join(buildDir, "local", "requests.json") }

// Bench is a benchmark's figures by unit (`go test -bench` metrics).
type Bench map[string]float64

// CPUBenchmarks are, per function, the benchmarks whose CPU time per point
// adds up to its work per point (by "service Benchmark" as build/bench.json
// keys them): ingestion parses and validates, then keys and packs;
// the processor decodes and builds items (a warm container); the
// aggregator computes windows.
var CPUBenchmarks = map[string][]string{
	"ingestion":  {"ingestion BenchmarkParseCSV", "ingestion BenchmarkPack"},
	"processor":  {"processor BenchmarkDecodeAndMarshal/warm"},
	"aggregator": {"aggregator BenchmarkAggregate"},
}

// CPUSecondsPerPoint is a function's CPU time per point from the
// benchmarks: Σ 1/rate, with the rate per CPU second where the benchmark
// reports it, else per second of one core.
func CPUSecondsPerPoint(benches map[string]Bench, service string) (float64, error) {
	names, ok := CPUBenchmarks[service]
	if !ok {
		return 0, fmt.Errorf("no benchmark names the CPU time of %s", service)
	}
	var s float64
	for _, n := range names {
		b, ok := benches[n]
		if !ok {
			return 0, fmt.Errorf("benchmark %q not in the benchmark results (run `go run mage.go bench`)", n)
		}
		rate := b["points/cpu-s"]
		if rate == 0 {
			rate = b["points/s"]
		}
		if rate <= 0 {
			return 0, fmt.Errorf("benchmark %q reports no points/s", n)
		}
		s += 1 / rate
	}
	return s, nil
}

// Line is one service's billed units and price.
type Line struct {
	Service, Unit string
	Price         float64 // USD per unit
	// PerPoint and PerWindow are the units per point stored and per
	// (symbol, window) pair aggregated: the aggregator's requests scale with
	// windows, not with points.
	PerPoint, PerWindow float64
}

// Model is the cost of a workload.
type Model struct {
	Lines []Line
	// PointsPerDay and WindowsPerDay are the workload.
	PointsPerDay, WindowsPerDay float64
}

// DaysPerMonth is an average month.
const DaysPerMonth = 365.25 / 12

// WindowsPerSymbolDay is the windows of a symbol trading around the clock:
// the most the aggregator writes per symbol and day.
var WindowsPerSymbolDay = float64(24*time.Hour) / float64(limits.AggregationWindow)

// Workload is what to price: points a day, spread over symbols.
type Workload struct {
	PointsPerDay float64
	Symbols      int
}

// Build prices m's measured units for w, with cpu the CPU seconds per point
// of each function and memoryMB its configured memory. Lambda is priced by
// CPU time (a floor: AWS bills the wall-clock duration, waits on DynamoDB
// included); its $0.20 per million invocations is left out (one invocation
// carries thousands of points).
func Build(m Measured, cpu map[string]float64, memoryMB map[string]int, w Workload) (Model, error) {
	if m.Points <= 0 {
		return Model{}, errors.New("the measurements count no points")
	}
	if w.PointsPerDay <= 0 || w.Symbols <= 0 {
		return Model{}, fmt.Errorf("want points per day and symbols > 0, got %v and %d", w.PointsPerDay, w.Symbols)
	}
	lines := map[string]*Line{}
	add := func(name, unit string, price, perPoint, perWindow float64) {
		l, ok := lines[name]
		if !ok {
			l = &Line{Service: name, Unit: unit, Price: price}
			lines[name] = l
		}
		l.PerPoint += perPoint
		l.PerWindow += perWindow
	}
	for _, r := range m.Requests {
		if r.Caller == "client" { // the loader and its polling: not the pipeline's
			continue
		}
		name, unit, price := classify(r.Service, r.Operation)
		if price == 0 {
			continue
		}
		if r.Caller == "aggregator" && m.Windows > 0 {
			add(name, unit, price, 0, r.Units/float64(m.Windows))
		} else {
			add(name, unit, price, r.Units/float64(m.Points), 0)
		}
	}
	if m.APIRequests > 0 {
		add("API Gateway", "requests", Prices.APIGatewayRequest, float64(m.APIRequests)/float64(m.Points), 0)
	}
	for s, c := range cpu {
		mb, ok := memoryMB[s]
		if !ok {
			return Model{}, fmt.Errorf("no configured memory for %s", s)
		}
		add("Lambda "+s, "GB-s", Prices.LambdaGBSecond, c*float64(mb)/1024, 0)
	}
	md := Model{PointsPerDay: w.PointsPerDay, WindowsPerDay: min(w.PointsPerDay, float64(w.Symbols)*WindowsPerSymbolDay)}
	for _, l := range lines {
		md.Lines = append(md.Lines, *l)
	}
	sort.Slice(md.Lines, func(i, j int) bool { return md.Lines[i].Service < md.Lines[j].Service })
	return md, nil
}

// UnitsPerMillion is l's units per million points of the workload.
func (md Model) UnitsPerMillion(l Line) float64 {
	return (l.PerPoint + l.PerWindow*md.WindowsPerDay/md.PointsPerDay) * 1e6
}

// PerMillion is l's dollars per million points of the workload.
func (md Model) PerMillion(l Line) float64 { return md.UnitsPerMillion(l) * l.Price }

// PerMonth is l's dollars per month of the workload.
func (md Model) PerMonth(l Line) float64 {
	return md.PerMillion(l) * md.PointsPerDay / 1e6 * DaysPerMonth
}

// Total is the dollars per million points and per month.
func (md Model) Total() (perMillion, perMonth float64) {
	for _, l := range md.Lines {
		perMillion += md.PerMillion(l)
		perMonth += md.PerMonth(l)
	}
	return perMillion, perMonth
}

// Floor is the least any design storing every point pays: one DynamoDB
// write unit per point.
func (md Model) Floor() (perMillion, perMonth float64) {
	perMillion = 1e6 * Prices.DynamoDBWrite
	return perMillion, perMillion * md.PointsPerDay / 1e6 * DaysPerMonth
}

// Ratio is the total over the floor.
func (md Model) Ratio() float64 {
	t, _ := md.Total()
	f, _ := md.Floor()
	return t / f
}

// Goal is the ratio to the floor the pipeline aims to stay under.
const Goal = 1.3

// classify names the billed line of an operation, its unit and its price;
// price 0 for what is not billed per request (control-plane calls, S3
// deletes, Lambda's own plumbing).
func classify(service, op string) (name, unit string, price float64) {
	switch service {
	case "dynamodb":
		switch op {
		case "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
			return "DynamoDB writes", "WRU", Prices.DynamoDBWrite
		case "Query", "Scan", "GetItem", "BatchGetItem":
			return "DynamoDB reads", "RRU", Prices.DynamoDBRead
		}
	case "sqs":
		switch op { // the data plane; queue management is provisioning
		case "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
			"ChangeMessageVisibility", "ChangeMessageVisibilityBatch":
			return "SQS", "requests", Prices.SQSRequest
		}
	case "events":
		if op == "PutEvents" {
			return "EventBridge", "events", Prices.EventBridgeEvent
		}
	case "s3":
		switch op { // object requests (countproxy.Classify's names); bucket setup is provisioning, deletes are free
		case "GetObject", "HeadObject":
			return "S3 GET", "requests", Prices.S3Get
		case "PutObject", "CopyObject", "UploadPart", "CreateMultipartUpload", "CompleteMultipartUpload",
			"ListObjects", "ListObjectVersions":
			return "S3 PUT/LIST", "requests", Prices.S3Put
		}
	case "monitoring":
		if op == "PutMetricData" {
			return "CloudWatch metrics", "requests", Prices.CloudWatchAPI
		}
	}
	return "", "", 0
}

// Print writes the model as a table, with the floor and the ratio to it.
func (md Model) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "service\tunit\tunits per 1M points\tUSD per unit\tUSD per 1M points\tUSD per month\t\n")
	for _, l := range md.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.4g\t%.5f\t%.2f\t\n", l.Service, l.Unit, md.UnitsPerMillion(l), l.Price, md.PerMillion(l), md.PerMonth(l))
	}
	tm, tmo := md.Total()
	fm, fmo := md.Floor()
	fmt.Fprintf(tw, "total\t\t\t\t%.5f\t%.2f\t\n", tm, tmo)
	fmt.Fprintf(tw, "floor (1 DynamoDB WRU per point)\t\t\t\t%.5f\t%.2f\t\n", fm, fmo)
	if err := tw.Flush(); err != nil {
		return err
	}
	met := "met"
	if md.Ratio() > Goal {
		met = "NOT met"
	}
	_, err := fmt.Fprintf(w, "ratio to the floor: %.3f× (goal ≤ %.1f×: %s); %.0f points and %.0f windows a day, prices of %s (us-east-1 list)\n",
		md.Ratio(), Goal, met, md.PointsPerDay, md.WindowsPerDay, Prices.AsOf)
	return err
}

// Load reads the file at path into v, naming the command that writes it
// when it is missing.
func Load(path, writer string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is missing: run `%s` first", path, writer)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Save writes v to path as JSON, creating its directory.
func Save(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
