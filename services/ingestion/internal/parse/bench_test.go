package parse

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/cputime"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/gen"
)

func benchParse(b *testing.B, f gen.Format, name string) {
	const n = 100_000
	data := gen.Bytes(f, n)
	p := &Parser{Now: time.Now()}
	var accepted int64
	sink := func(r *Record) error {
		if r.Err == nil {
			accepted++
		}
		return nil
	}
	b.SetBytes(int64(len(data)))
	cpu0 := cputime.Now()
	for b.Loop() {
		accepted = 0
		if _, err := p.Parse(bytes.NewReader(data), name, sink); err != nil {
			b.Fatal(err)
		}
		if accepted != n {
			b.Fatalf("accepted %d of %d", accepted, n)
		}
	}
	cpu := cputime.Now() - cpu0
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
}

// BenchmarkParseCSV measures CSV parse+validate on one goroutine.
func BenchmarkParseCSV(b *testing.B) { benchParse(b, gen.CSV, "ticks.csv") }

// BenchmarkParseNDJSON measures NDJSON parse+validate on one goroutine.
func BenchmarkParseNDJSON(b *testing.B) { benchParse(b, gen.NDJSON, "ticks.ndjson") }

// BenchmarkParseNDJSONSlowPath is BenchmarkParseNDJSON with the fast JSON
// path disabled: every line goes through jsontext alone.
func BenchmarkParseNDJSONSlowPath(b *testing.B) {
	const n = 100_000
	data := gen.Bytes(gen.NDJSON, n)
	p := &Parser{Now: time.Now(), noFast: true}
	sink := func(r *Record) error {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		return nil
	}
	cpu0 := cputime.Now()
	for b.Loop() {
		if _, err := p.Parse(bytes.NewReader(data), "ticks.ndjson", sink); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cputime.Now() - cpu0
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
}

// BenchmarkNDJSONEncodingJSONBaseline decodes the same lines with the
// standard library's encoding/json into a struct, without validation or any
// of the checks the parser makes: the baseline the parser's choice of
// jsontext is measured against.
func BenchmarkNDJSONEncodingJSONBaseline(b *testing.B) {
	const n = 100_000
	lines := bytes.Split(bytes.TrimSpace(gen.Bytes(gen.NDJSON, n)), []byte("\n"))
	cpu0 := cputime.Now()
	for b.Loop() {
		for _, l := range lines {
			var p struct {
				Symbol    string   `json:"symbol"`
				Timestamp int64    `json:"timestamp"`
				Price     float64  `json:"price"`
				Volume    int64    `json:"volume"`
				Bid       *float64 `json:"bid"`
				Ask       *float64 `json:"ask"`
				Exchange  string   `json:"exchange"`
			}
			if err := json.Unmarshal(l, &p); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cputime.Now() - cpu0
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
}
