package handler

import (
	"net/http"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestS3VendorBars: Polygon minute aggregates, Alpaca bars and Binance
// klines files are queued as bars (messages of version 2) with the length
// their name or timeframe gives (a timeframe in the metadata forces it),
// Binance's quote volume as the exact Σ price×volume and the others' VWAP
// carried; the refused records are reported naming the profile and the
// column, and a length longer than the window fails the object with that
// reason.
func TestS3VendorBars(t *testing.T) {
	cases := []struct {
		name, key, fixture string
		meta               map[string]string
		status             report.Status
		profile            string
		bars, rejected     int64
		length             int64
		reason             string // of a rejection, or of the object's error
	}{
		{"polygon aggregates detected", "incoming/2024-05-31/minute_aggs.csv", "polygon-minute-aggs.csv", nil,
			report.Completed, marketdata.ProfilePolygonMinuteAggs, 4, 8, 60_000, "polygon-minute-aggs high:"},
		{"polygon aggregates forced by prefix", "incoming/polygon-minute-aggs/2024-05-31.csv", "polygon-minute-aggs.csv", nil,
			report.Completed, marketdata.ProfilePolygonMinuteAggs, 4, 8, 60_000, "polygon-minute-aggs high:"},
		{"polygon aggregates, 5-minute timeframe", "uploads/aggs.csv", "polygon-minute-aggs.csv", map[string]string{marketdata.MetadataTimeframe: "5Min"},
			report.Completed, marketdata.ProfilePolygonMinuteAggs, 2, 10, 300_000, "misaligned"},
		{"polygon aggregates, day timeframe", "uploads/aggs.csv", "polygon-minute-aggs.csv", map[string]string{marketdata.MetadataTimeframe: "1Day"},
			report.Failed, "", 0, 0, 0, "longer than 5m0s"},
		{"klines, interval and symbol from the name", "incoming/2024-05-31/BTCUSDT-1m-2024-05-31.csv", "BTCUSDT-1m-2024-05-31.csv", nil,
			report.Completed, marketdata.ProfileBinanceKlines, 4, 3, 60_000, "binance-klines close_time:"}, // one empty bar accepted
		{"klines forced, symbol and timeframe given", "uploads/btc.csv", "BTCUSDT-1m-2024-05-31.csv",
			map[string]string{marketdata.MetadataProfile: marketdata.ProfileBinanceKlines, marketdata.MetadataSymbol: "BTCUSDT", marketdata.MetadataTimeframe: "1m"},
			report.Completed, marketdata.ProfileBinanceKlines, 4, 3, 60_000, "binance-klines high:"},
		{"15-minute klines", "incoming/2024-05-31/BTCUSDT-15m-2024-05-31.csv", "BTCUSDT-1m-2024-05-31.csv", nil,
			report.Failed, "", 0, 0, 0, "longer than 5m0s"},
		{"alpaca historical, 1Min by default", "incoming/2024-05-31/alpaca-bars.json", "alpaca-bars-historical.json", nil,
			report.Completed, marketdata.ProfileAlpacaBars, 3, 2, 60_000, "alpaca-bars h:"},
		{"alpaca single-symbol, 5Min given", "incoming/alpaca-bars/aapl.json", "alpaca-bars-single.json",
			map[string]string{marketdata.MetadataTimeframe: "5Min"}, report.Completed, marketdata.ProfileAlpacaBars, 2, 1, 300_000, "alpaca-bars v:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			o := report.Object{Bucket: bucket, Key: tc.key, VersionID: "v1", ETag: "e1"}
			e.putObject(o, vendorFixture(t, tc.fixture)).metadata = tc.meta
			ctx, cancel := lambdaCtx("req-1")
			defer cancel()
			if err := e.h.IngestObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			r := e.reports.get(o).result
			bars, versions := e.sqs.queuedBars(t)
			_, points, _ := e.sqs.queued(t)
			if r.Status != tc.status || r.Collector.Accepted != tc.bars || r.Collector.Rejected != tc.rejected ||
				int64(len(bars)) != tc.bars || len(points) != 0 {
				t.Fatalf("report %s accepted %d rejected %d (%s), %d bars and %d points queued", r.Status, r.Collector.Accepted,
					r.Collector.Rejected, r.Error, len(bars), len(points))
			}
			if tc.status == report.Failed {
				if r.ErrorCategory != parse.ObjectBadProfile || !strings.Contains(r.Error, tc.reason) {
					t.Fatalf("error %q %q", r.ErrorCategory, r.Error)
				}
				return
			}
			if r.Profile != tc.profile || !versions[marketdata.MessageVersionBars] || len(versions) != 1 {
				t.Fatalf("profile %q, message versions %v", r.Profile, versions)
			}
			found := false
			for _, rej := range r.Collector.Rejections {
				// "<profile> <column>: …" of a record, "<profile>: …" of a whole row
				if rest, ok := strings.CutPrefix(rej.Reason, tc.profile); !ok || !strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, ":") {
					t.Fatalf("rejection %+v does not name the profile", rej)
				}
				found = found || strings.Contains(rej.Reason, tc.reason)
			}
			if !found {
				t.Fatalf("rejections %+v, want one naming %q", r.Collector.Rejections, tc.reason)
			}
			// Klines carry Σ price×volume, Alpaca bars their VWAP, Polygon's neither.
			pv, vwap := tc.profile == marketdata.ProfileBinanceKlines, tc.profile == marketdata.ProfileAlpacaBars
			for _, b := range bars {
				if b.Length != tc.length || b.Start%tc.length != 0 || b.Symbol == "" || pv != (b.PV != "") || vwap != (b.VWAP != 0) {
					t.Fatalf("queued %+v", b)
				}
			}
			if tc.profile == marketdata.ProfileBinanceKlines && bars[0].PV != "168800.95" {
				t.Fatalf("first kline's pv %q, want its quote_asset_volume 168800.95", bars[0].PV)
			}
		})
	}
}

// TestAPIVendorBars: POST /ingest takes Alpaca bars as JSON, Polygon minute
// aggregates and Binance klines as text/csv, the length from ?timeframe=
// (and the klines' symbol from ?symbol=, the body having no name), and
// answers with the profile.
func TestAPIVendorBars(t *testing.T) {
	for _, tc := range []struct {
		name, fixture, contentType string
		query                      map[string]string
		status                     int
		profile                    string
		bars                       int
		length                     int64
		reason                     string // of the first rejection, or of the 400
	}{
		{"polygon CSV, 1Min by default", "polygon-minute-aggs.csv", "text/csv", nil,
			http.StatusAccepted, marketdata.ProfilePolygonMinuteAggs, 4, 60_000, "polygon-minute-aggs "},
		{"polygon CSV, 1Min", "polygon-minute-aggs.csv", "text/csv", map[string]string{marketdata.APIQueryTimeframe: "1Min"},
			http.StatusAccepted, marketdata.ProfilePolygonMinuteAggs, 4, 60_000, "polygon-minute-aggs "},
		{"polygon CSV, 1h", "polygon-minute-aggs.csv", "text/csv", map[string]string{marketdata.APIQueryTimeframe: "1h"},
			http.StatusBadRequest, "", 0, 0, "longer than 5m0s"},
		{"alpaca JSON, 1Min by default", "alpaca-bars-historical.json", "application/json", nil,
			http.StatusAccepted, marketdata.ProfileAlpacaBars, 3, 60_000, "alpaca-bars h:"},
		{"alpaca JSON, 5Min", "alpaca-bars-single.json", "application/json", map[string]string{marketdata.APIQueryTimeframe: "5Min"},
			http.StatusAccepted, marketdata.ProfileAlpacaBars, 2, 300_000, "alpaca-bars v:"},
		{"klines CSV with symbol and timeframe", "BTCUSDT-1m-2024-05-31.csv", "text/csv",
			map[string]string{marketdata.APIQuerySymbol: "BTCUSDT", marketdata.APIQueryTimeframe: "1m"},
			http.StatusAccepted, marketdata.ProfileBinanceKlines, 4, 60_000, "binance-klines close_time:"},
		{"klines CSV without a timeframe", "BTCUSDT-1m-2024-05-31.csv", "text/csv", map[string]string{marketdata.APIQuerySymbol: "BTCUSDT"},
			http.StatusBadRequest, "", 0, 0, "?timeframe="},
		{"klines CSV of 3-minute bars", "BTCUSDT-1m-2024-05-31.csv", "text/csv",
			map[string]string{marketdata.APIQuerySymbol: "BTCUSDT", marketdata.APIQueryTimeframe: "3m"},
			http.StatusBadRequest, "", 0, 0, "does not divide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			ir := postIngest(t, e, vendorFixture(t, tc.fixture), tc.contentType, tc.query, tc.status, tc.reason)
			if ir == nil {
				return
			}
			bars, _ := e.sqs.queuedBars(t)
			if ir.Profile != tc.profile || ir.Accepted != tc.bars || len(bars) != tc.bars ||
				len(ir.Rejected) == 0 || !strings.HasPrefix(ir.Rejected[0].Reason, tc.reason) {
				t.Fatalf("answer %+v, %d bars queued", ir, len(bars))
			}
			for _, b := range bars {
				if b.Length != tc.length {
					t.Fatalf("queued %+v, want length %d", b, tc.length)
				}
			}
		})
	}
}
