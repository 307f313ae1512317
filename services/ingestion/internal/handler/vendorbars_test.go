package handler

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestS3VendorBars: Alpaca bars and Binance klines files are queued as bars
// (messages of version 2) with the length their name or timeframe gives,
// Binance's quote volume as the exact Σ price×volume and Alpaca's VWAP
// carried; the refused records are reported naming the profile, and a
// length longer than the window fails the object with that reason.
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
		{"klines, interval and symbol from the name", "incoming/2024-05-31/BTCUSDT-1m-2024-05-31.csv", "BTCUSDT-1m-2024-05-31.csv", nil,
			report.Completed, marketdata.ProfileBinanceKlines, 3, 3, 60_000, "binance-klines close_time:"},
		{"klines forced, symbol and timeframe given", "uploads/btc.csv", "BTCUSDT-1m-2024-05-31.csv",
			map[string]string{marketdata.MetadataProfile: marketdata.ProfileBinanceKlines, marketdata.MetadataSymbol: "BTCUSDT", marketdata.MetadataTimeframe: "1m"},
			report.Completed, marketdata.ProfileBinanceKlines, 3, 3, 60_000, "binance-klines high:"},
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
				if !strings.HasPrefix(rej.Reason, tc.profile+" ") {
					t.Fatalf("rejection %+v does not name the profile", rej)
				}
				found = found || strings.Contains(rej.Reason, tc.reason)
			}
			if !found {
				t.Fatalf("rejections %+v, want one naming %q", r.Collector.Rejections, tc.reason)
			}
			for _, b := range bars {
				klines := tc.profile == marketdata.ProfileBinanceKlines
				if b.Length != tc.length || b.Start%tc.length != 0 || b.Symbol == "" ||
					klines != (b.PV != "" && b.VWAP == 0) || !klines != (b.VWAP != 0 && b.PV == "") {
					t.Fatalf("queued %+v", b)
				}
			}
			if tc.profile == marketdata.ProfileBinanceKlines && bars[0].PV != "168800.95" {
				t.Fatalf("first kline's pv %q, want its quote_asset_volume 168800.95", bars[0].PV)
			}
		})
	}
}

// TestAPIVendorBars: POST /ingest takes Alpaca bars as JSON and Binance
// klines as text/csv, the length from ?timeframe= (and the klines' symbol
// from ?symbol=, the body having no name), and answers with the profile.
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
		{"alpaca JSON, 1Min by default", "alpaca-bars-historical.json", "application/json", nil,
			http.StatusAccepted, marketdata.ProfileAlpacaBars, 3, 60_000, "alpaca-bars h:"},
		{"alpaca JSON, 5Min", "alpaca-bars-single.json", "application/json", map[string]string{marketdata.APIQueryTimeframe: "5Min"},
			http.StatusAccepted, marketdata.ProfileAlpacaBars, 2, 300_000, "alpaca-bars v:"},
		{"klines CSV with symbol and timeframe", "BTCUSDT-1m-2024-05-31.csv", "text/csv",
			map[string]string{marketdata.APIQuerySymbol: "BTCUSDT", marketdata.APIQueryTimeframe: "1m"},
			http.StatusAccepted, marketdata.ProfileBinanceKlines, 3, 60_000, "binance-klines close_time:"},
		{"klines CSV without a timeframe", "BTCUSDT-1m-2024-05-31.csv", "text/csv", map[string]string{marketdata.APIQuerySymbol: "BTCUSDT"},
			http.StatusBadRequest, "", 0, 0, "?timeframe="},
		{"klines CSV of 3-minute bars", "BTCUSDT-1m-2024-05-31.csv", "text/csv",
			map[string]string{marketdata.APIQuerySymbol: "BTCUSDT", marketdata.APIQueryTimeframe: "3m"},
			http.StatusBadRequest, "", 0, 0, "does not divide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			resp := invokeAPI(t, e, apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) {
				setBody(string(vendorFixture(t, tc.fixture)))(r)
				setHeader("Content-Type", tc.contentType)(r)
				r.QueryStringParameters = tc.query
			}))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
			}
			if tc.status != http.StatusAccepted {
				var er marketdata.ErrorResponse
				if err := json.Unmarshal([]byte(resp.Body), &er); err != nil || !strings.Contains(er.Message, tc.reason) {
					t.Fatalf("answer %s, want a message containing %q", resp.Body, tc.reason)
				}
				return
			}
			var ir marketdata.IngestResponse
			if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil {
				t.Fatal(err)
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
