package parse

import (
	"bytes"
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
