package parse

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/cputime"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// profileObject builds n valid records of a profile in the vendor's layout
// (as the fixtures have it), with varying times, prices and sizes, and the
// object name it is parsed under.
func profileObject(profile string, n int) (name string, data []byte) {
	var b bytes.Buffer
	base := time.Date(2024, 5, 31, 13, 30, 0, 0, time.UTC)
	syms := []string{"AAPL", "MSFT", "NVDA", "BRK.B"}
	for i := range n {
		at := base.Add(time.Duration(i) * 1234567 * time.Nanosecond)
		ns, sym := at.UnixNano(), syms[i%len(syms)]
		cents := 10000 + i%9000 // 100.00 to 189.99
		price := fmt.Sprintf("%d.%02d", cents/100, cents%100)
		size := 1 + i%500
		switch profile {
		case marketdata.ProfileNative:
			if i == 0 {
				b.WriteString("symbol,timestamp,price,volume,exchange\n")
			}
			fmt.Fprintf(&b, "%s,%d,%s,%d,XNAS\n", sym, ns/1e6, price, size)
		case marketdata.ProfilePolygonTrades:
			if i == 0 {
				b.WriteString("ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp\n")
			}
			cond := ""
			if i%3 == 0 {
				cond = `"12,37"`
			}
			fmt.Fprintf(&b, "%s,%s,0,4,%d,%d,%s,%d,%d,%d,3,,\n", sym, cond, 52983525029461+i, ns-1000, price, 1000+i, ns, size)
		case marketdata.ProfileDatabentoTrades:
			if i == 0 {
				b.WriteString("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,sequence,symbol\n")
			}
			fmt.Fprintf(&b, "%d,%d,0,2,38,T,A,0,%d0000000,%d,130,18000,%d,%s\n", ns+2000, ns, cents, size, 1170352+i, sym)
		case marketdata.ProfileAlpacaTrades:
			fmt.Fprintf(&b, `{"T":"t","S":"%s","i":%d,"x":"V","p":%s,"s":%d,"c":["@","T"],"t":"%s","z":"C"}`+"\n",
				sym, 52983525029461+i, price, size, at.Format(time.RFC3339Nano))
		case marketdata.ProfileTardisTrades:
			if i == 0 {
				b.WriteString("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
			}
			// Crypto sizes are fractional: the exact decimal path.
			fmt.Fprintf(&b, "binance,BTCUSDT,%d,%d,%d,buy,%s,%d.%05d\n", ns/1e3, ns/1e3+500, 3602823+i, price, size%3, (i*7919)%100000)
		case marketdata.ProfileBinanceTrades:
			fmt.Fprintf(&b, "%d,%s000000,%d.%08d,%d.000000,%d,True,True\n", 3602823+i, price, size%3, (i*7919)%100000000, size*cents/100, ns/1e6)
		case marketdata.ProfileBinanceAggTrades:
			fmt.Fprintf(&b, "%d,%s000000,%d.%08d,%d,%d,%d,false,true\n", 26129+i, price, size%3, (i*7919)%100000000, 27781+i, 27781+i, ns/1e3)
		case marketdata.ProfilePolygonMinuteAggs:
			if i == 0 {
				b.WriteString("ticker,volume,open,close,high,low,window_start,transactions\n")
			}
			// One bar per symbol and minute, from a month before, within
			// the SIP's sessions (04:00 to 20:00 New York time): a bar at
			// midnight New York time reads as a day aggregate.
			const sessionMinutes = 16 * 60
			k := i / len(syms)
			day0 := time.Date(2024, 4, 30, 8, 0, 0, 0, time.UTC) // 04:00 EDT
			start := day0.AddDate(0, 0, k/sessionMinutes).Add(time.Duration(k%sessionMinutes) * time.Minute).UnixNano()
			hi := fmt.Sprintf("%d.%02d", (cents+25)/100, (cents+25)%100)
			fmt.Fprintf(&b, "%s,%d,%s,%s,%s,%s,%d,%d\n", sym, size*100, price, hi, hi, price, start, 1+size%40)
		case marketdata.ProfileAlpacaBars:
			// The stream's bars, one symbol after another, a minute each
			// (from 90 days before base: all in the past).
			start := base.AddDate(0, 0, -90).Add(time.Duration(i/len(syms)) * time.Minute)
			fmt.Fprintf(&b, `{"T":"b","S":"%s","o":%s,"h":%d.99,"l":%d.00,"c":%s,"v":%d,"t":"%s","n":%d,"vw":%d.50}`+"\n",
				sym, price, cents/100, cents/100, price, size*100, start.Format(time.RFC3339), 1+size%50, cents/100)
		case marketdata.ProfileBinanceKlines:
			// 1-minute klines in µs (spot files from 2025): close_time the
			// bar's last µs, quote_asset_volume within [low, high] × volume.
			open := base.AddDate(0, 0, -90).Add(time.Duration(i) * time.Minute).UnixMicro()
			fmt.Fprintf(&b, "%d,%s000000,%d.99000000,%d.00000000,%s000000,%d.00000000,%d,%d.50000000,%d,0.5,1.0,0\n",
				open, price, cents/100, cents/100, price, size, open+59_999_999, size*(cents/100), 1+size%50)
		default:
			panic("no generator for " + profile)
		}
	}
	switch profile {
	case marketdata.ProfileAlpacaTrades:
		return "trades.ndjson", b.Bytes()
	case marketdata.ProfileBinanceTrades:
		return "BTCUSDT-trades-2024-05-31.csv", b.Bytes()
	case marketdata.ProfileBinanceAggTrades:
		return "BTCUSDT-aggTrades-2024-05-31.csv", b.Bytes()
	case marketdata.ProfileAlpacaBars:
		return "bars.ndjson", b.Bytes()
	case marketdata.ProfileBinanceKlines:
		return "BTCUSDT-1m-2024-03-02.csv", b.Bytes()
	}
	return "trades.csv", b.Bytes()
}

// benchRecords is how many records BenchmarkParseProfile parses per
// profile; TestProfileObjects holds every one of them valid, so a
// benchmark never fails on its own input in mage bench.
const benchRecords = 100_000

// BenchmarkParseProfile measures each profile's parse+convert+validate on
// one goroutine, detection included (mage bench holds each to 1 M/s).
func BenchmarkParseProfile(b *testing.B) {
	for _, profile := range marketdata.Profiles {
		b.Run(profile, func(b *testing.B) {
			const n = benchRecords
			name, data := profileObject(profile, n)
			p := &Parser{Now: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
			var accepted int64
			var first *RecordError
			sink := func(r *Record) error {
				if r.Err == nil {
					accepted++
				} else if first == nil {
					first = r.Err
				}
				return nil
			}
			b.SetBytes(int64(len(data)))
			cpu0 := cputime.Now()
			for b.Loop() {
				accepted = 0
				info, err := p.Parse(bytes.NewReader(data), name, sink)
				if err != nil {
					b.Fatal(err)
				}
				if accepted != n || info.Profile != profile {
					b.Fatalf("accepted %d of %d as %q, want %q (first refusal: %v)", accepted, n, info.Profile, profile, first)
				}
			}
			cpu := cputime.Now() - cpu0
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
			b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
		})
	}
}

// TestProfileObjects: every generated record of every profile is accepted
// as the profile it was written in (the benchmark's input is valid).
func TestProfileObjects(t *testing.T) {
	for _, profile := range marketdata.Profiles {
		name, data := profileObject(profile, benchRecords)
		recs, info, err := parseWith(t, name, data, Options{})
		if err != nil || info.Profile != profile || len(recs) != benchRecords {
			t.Fatalf("%s: %v, profile %q, %d records", profile, err, info.Profile, len(recs))
		}
		for _, r := range recs {
			if r.category != "" {
				t.Fatalf("%s: record %d refused: %s", profile, r.index, r.reason)
			}
		}
	}
}
