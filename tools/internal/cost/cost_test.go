package cost

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// measured is a run of 2,000,000 points in 100 windows.
func measured() Measured {
	return Measured{Points: 2_000_000, Windows: 100, Symbols: 4, APIRequests: 20, Requests: []Request{
		{Caller: "processor", Service: "dynamodb", Operation: "BatchWriteItem", Requests: 80_000, Units: 2_000_000},
		{Caller: "processor", Service: "dynamodb", Operation: "UpdateItem", Requests: 1_000, Units: 1_000},
		{Caller: "processor", Service: "dynamodb", Operation: "DescribeTable", Requests: 3, Units: 3}, // not billed
		{Caller: "aggregator", Service: "dynamodb", Operation: "Query", Requests: 100, Units: 50},
		{Caller: "aggregator", Service: "dynamodb", Operation: "PutItem", Requests: 100, Units: 100},
		{Caller: "glue", Service: "sqs", Operation: "ReceiveMessage", Requests: 400, Units: 400},
		{Caller: "ingestion", Service: "s3", Operation: "GetObject", Requests: 2, Units: 2},
		{Caller: "client", Service: "dynamodb", Operation: "Query", Requests: 1e6, Units: 1e9}, // the loader: not counted
	}}
}

func TestBuild(t *testing.T) {
	cpu := map[string]float64{"processor": 1e-6}
	mem := map[string]int{"processor": 2048}
	tests := []struct {
		name                 string
		w                    Workload
		wantWindowsPerDay    float64
		wantDynamoDBWritesPM float64 // WRU per million points
	}{
		// 10 symbols trading all day: 10 × (24 h / window) windows.
		{"windows from the symbols", Workload{PointsPerDay: 1e6, Symbols: 10}, 10 * WindowsPerSymbolDay, 0},
		// Fewer points than windows: a window needs a point.
		{"windows capped by the points", Workload{PointsPerDay: 100, Symbols: 10}, 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := measured()
			md, err := Build(m, cpu, mem, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			approx(t, "windows per day", md.WindowsPerDay, tc.wantWindowsPerDay)
			lines := map[string]Line{}
			for _, l := range md.Lines {
				lines[l.Service] = l
			}
			if _, ok := lines[""]; ok {
				t.Error("an unbilled operation got a line")
			}
			wpp := tc.wantWindowsPerDay / tc.w.PointsPerDay
			// Writes: the processor's per point, the aggregator's per window.
			wr := lines["DynamoDB writes"]
			approx(t, "writes per point", wr.PerPoint, float64(2_000_000+1_000)/float64(m.Points))
			approx(t, "writes per window", wr.PerWindow, 100.0/100)
			approx(t, "write units per million", md.UnitsPerMillion(wr), (wr.PerPoint+wr.PerWindow*wpp)*1e6)
			approx(t, "writes $ per million", md.PerMillion(wr), md.UnitsPerMillion(wr)*Prices.DynamoDBWrite)
			approx(t, "writes $ per month", md.PerMonth(wr), md.PerMillion(wr)*tc.w.PointsPerDay/1e6*DaysPerMonth)
			// Reads: the client's Query is not the pipeline's.
			approx(t, "reads per window", lines["DynamoDB reads"].PerWindow, 0.5)
			approx(t, "reads per point", lines["DynamoDB reads"].PerPoint, 0)
			// Lambda: CPU seconds per point × GB.
			approx(t, "processor GB-s per point", lines["Lambda processor"].PerPoint, 1e-6*2)
			approx(t, "API requests per point", lines["API Gateway"].PerPoint, 20.0/2e6)
			var sum, sumMonth float64
			for _, l := range md.Lines {
				sum += md.PerMillion(l)
				sumMonth += md.PerMonth(l)
			}
			tot, totMonth := md.Total()
			approx(t, "total per million", tot, sum)
			approx(t, "total per month", totMonth, sumMonth)
			floor, floorMonth := md.Floor()
			approx(t, "floor per million", floor, 1e6*Prices.DynamoDBWrite)
			approx(t, "floor per month", floorMonth, tc.w.PointsPerDay*DaysPerMonth*Prices.DynamoDBWrite)
			approx(t, "ratio", md.Ratio(), sum/floor)
			if md.Ratio() <= 1 {
				t.Errorf("ratio %v: the pipeline cannot cost less than its floor", md.Ratio())
			}
		})
	}
}

func TestBuildRefuses(t *testing.T) {
	cpu, mem := map[string]float64{"processor": 1e-6}, map[string]int{"processor": 2048}
	if _, err := Build(Measured{}, cpu, mem, Workload{PointsPerDay: 1, Symbols: 1}); err == nil {
		t.Error("no points measured: no error")
	}
	if _, err := Build(measured(), cpu, mem, Workload{PointsPerDay: 1, Symbols: 0}); err == nil {
		t.Error("no symbols: no error")
	}
	if _, err := Build(measured(), cpu, map[string]int{}, Workload{PointsPerDay: 1, Symbols: 1}); err == nil || !strings.Contains(err.Error(), "processor") {
		t.Errorf("no memory for the processor: error %v", err)
	}
}

func TestCPUSecondsPerPoint(t *testing.T) {
	benches := map[string]Bench{
		"ingestion BenchmarkParseCSV":              {"points/s": 2e6},
		"ingestion BenchmarkPack":                  {"points/s": 4e6},
		"processor BenchmarkDecodeAndMarshal/warm": {"points/s": 9e6, "points/cpu-s": 1e6}, // CPU time wins
	}
	got, err := CPUSecondsPerPoint(benches, "ingestion")
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "ingestion", got, 1/2e6+1/4e6)
	if got, err = CPUSecondsPerPoint(benches, "processor"); err != nil {
		t.Fatal(err)
	}
	approx(t, "processor", got, 1/1e6)
	if _, err := CPUSecondsPerPoint(benches, "aggregator"); err == nil || !strings.Contains(err.Error(), "mage.go bench") {
		t.Errorf("missing benchmark: error %v, want the command that runs it", err)
	}
}

func TestPrint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   float64 // write units per point beyond the floor
		wantMet string
	}{{"under the goal", 0, "goal ≤ 1.3×: met"}, {"over the goal", 1, "NOT met"}} {
		t.Run(tc.name, func(t *testing.T) {
			m := measured()
			m.Requests = append(m.Requests, Request{Caller: "processor", Service: "dynamodb", Operation: "PutItem", Units: tc.extra * float64(m.Points)})
			md, err := Build(m, map[string]float64{}, nil, Workload{PointsPerDay: 1e7, Symbols: 100})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := md.Print(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, l := range md.Lines {
				if !strings.Contains(out, l.Service) {
					t.Errorf("no line for %s:\n%s", l.Service, out)
				}
			}
			if !strings.Contains(out, "floor (1 DynamoDB WRU per point)") || !strings.Contains(out, tc.wantMet) {
				t.Errorf("want the floor and %q:\n%s", tc.wantMet, out)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	path := RequestsFile(t.TempDir())
	var m Measured
	if err := Load(path, "go run mage.go local", &m); err == nil || !strings.Contains(err.Error(), "go run mage.go local") {
		t.Errorf("missing file: error %v, want the command that writes it", err)
	}
	if err := Save(path, measured()); err != nil {
		t.Fatal(err)
	}
	if err := Load(path, "x", &m); err != nil {
		t.Fatal(err)
	}
	if m.Points != measured().Points || len(m.Requests) != len(measured().Requests) || m.Requests[3] != measured().Requests[3] {
		t.Errorf("read back %+v", m)
	}
	if filepath.Base(filepath.Dir(path)) != "local" {
		t.Errorf("requests file %s is not under local/", path)
	}
}

// TestProvisioningIsNotPerPoint: the local run's one-off setup calls
// (tables, queues, buses, bucket settings) get no line.
func TestProvisioningIsNotPerPoint(t *testing.T) {
	m := Measured{Points: 100, Windows: 1, Requests: []Request{
		{Caller: "glue", Service: "dynamodb", Operation: "CreateTable", Requests: 1, Units: 1},
		{Caller: "glue", Service: "sqs", Operation: "CreateQueue", Requests: 1, Units: 1},
		{Caller: "glue", Service: "sqs", Operation: "SetQueueAttributes", Requests: 1, Units: 1},
		{Caller: "glue", Service: "events", Operation: "PutRule", Requests: 1, Units: 1},
		{Caller: "glue", Service: "s3", Operation: "PUT bucket", Requests: 1, Units: 1},
		{Caller: "glue", Service: "s3", Operation: "DeleteObject", Requests: 1, Units: 1},
	}}
	md, err := Build(m, nil, nil, Workload{PointsPerDay: 1, Symbols: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Lines) != 0 {
		t.Errorf("lines for provisioning calls: %+v", md.Lines)
	}
}
