package processor

import (
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/platform/dynamobatch"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// BenchmarkPartials measures the CPU the partial aggregates add per point,
// on top of BenchmarkDecodeAndMarshal: a full message of a dense stream (50
// symbols over an hour: a few partials per message) and of sparse data (one
// point per window: one partial per point).
func BenchmarkPartials(b *testing.B) {
	dense, err := marketdata.DecodeMessageString(encodeBodies(b, newTickGen(1, 50, testNow.Add(-time.Hour)), 20000, "s3://market-data-dev/ticks.csv#v")[0])
	if err != nil {
		b.Fatal(err)
	}
	enc, err := marketdata.NewMessageEncoder("s3://market-data-dev/daily.csv#v", limits.QueueMaxMessageBytes)
	if err != nil {
		b.Fatal(err)
	}
	for i, p := range dailyCloses("OLDA", "OLDB") {
		if ok, err := enc.Add(p, int64(i)); err != nil || !ok {
			break
		}
	}
	sparse, err := marketdata.DecodeMessageString(string(enc.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		m    marketdata.Message
	}{{"dense", dense}, {"sparse", sparse}} {
		b.Run(bc.name, func(b *testing.B) {
			var items []dynamobatch.Item
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				items = appendPartials(items[:0], bc.m, 1)
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(len(bc.m.Points))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(len(bc.m.Points))*float64(b.N)/cpu.Seconds(), "points/cpu-s")
			b.ReportMetric(float64(len(items))/float64(len(bc.m.Points)), "partials/point")
		})
	}
}
