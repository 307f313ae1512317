//go:build integration

package handler

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// TestIntegrationProfiles uploads every vendor fixture to a real (moto) S3
// bucket, one forced by its metadata (x-amz-meta-format, -symbol: read back
// through GetObject) and one by its incoming/<profile>/ key, ingests them
// into a real queue, and checks the stored reports: the profile used, the
// counts, and rejections naming the profile.
func TestIntegrationProfiles(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket(t, true)
	var logs bytes.Buffer
	h := m.handler(&logs)
	cases := []struct {
		key, fixture       string
		meta               map[string]string
		profile            string
		accepted, rejected int64
		zipped             bool // uploaded as data.binance.vision ships it, alone in a .zip
	}{
		{"incoming/2024-05-31/polygon.csv", "polygon-trades.csv", nil, marketdata.ProfilePolygonTrades, 4, 1, false},
		{"incoming/2024-05-31/databento.csv", "databento-trades.csv", nil, marketdata.ProfileDatabentoTrades, 3, 1, false},
		{"incoming/2024-05-31/databento-pretty.csv", "databento-trades-pretty.csv", nil, marketdata.ProfileDatabentoTrades, 3, 1, false},
		{"incoming/2024-05-31/alpaca.ndjson", "alpaca-trades.ndjson", nil, marketdata.ProfileAlpacaTrades, 3, 1, false},
		{"incoming/2024-05-31/alpaca.json", "alpaca-trades-historical.json", nil, marketdata.ProfileAlpacaTrades, 4, 1, false},
		{"incoming/tardis-trades/2024-05-31.csv", "tardis-trades.csv", nil, marketdata.ProfileTardisTrades, 3, 1, false},
		{"incoming/2024-05-31/BTCUSDT-aggTrades-2024-05-31.csv", "BTCUSDT-aggTrades-2024-05-31.csv", nil, marketdata.ProfileBinanceAggTrades, 3, 1, false},
		{"uploads/btc.csv", "BTCUSDT-trades-2024-05-31.csv",
			map[string]string{marketdata.MetadataProfile: marketdata.ProfileBinanceTrades, marketdata.MetadataSymbol: "BTCUSDT"},
			marketdata.ProfileBinanceTrades, 3, 1, false},
		// Read back through moto's ranged GetObject (archive/zip reads the
		// directory at the end first).
		{"incoming/2024-05-31/BTCUSDT-aggTrades-2024-05-31.zip", "BTCUSDT-aggTrades-2024-05-31.csv", nil, marketdata.ProfileBinanceAggTrades, 3, 1, true},
		// Bars: queued as bars (counted with the points below).
		{"incoming/2024-05-31/BTCUSDT-1m-2024-05-31.csv", "BTCUSDT-1m-2024-05-31.csv", nil, marketdata.ProfileBinanceKlines, 4, 3, false}, // one empty bar
		{"incoming/2024-05-31/BTCUSDT-1m-2024-05-31.zip", "BTCUSDT-1m-2024-05-31.csv", nil, marketdata.ProfileBinanceKlines, 4, 3, true},
		{"incoming/2024-05-31/alpaca-bars.json", "alpaca-bars-historical.json", nil, marketdata.ProfileAlpacaBars, 3, 2, false},
		{"incoming/2024-05-31/minute_aggs.csv", "polygon-minute-aggs.csv", nil, marketdata.ProfilePolygonMinuteAggs, 4, 8, false},
	}
	// The fractional size each fixture holds (a fractional share, crypto
	// sizes), as its canonical text: trailing zeros dropped, nothing rounded.
	fractional := map[string]marketdata.Decimal{
		"polygon-trades.csv": "0.5", "alpaca-trades-historical.json": "0.5", "tardis-trades.csv": "0.015",
		"BTCUSDT-aggTrades-2024-05-31.csv": "0.25", "BTCUSDT-trades-2024-05-31.csv": "0.0015",
	}
	want, wantFrac, profileOf := map[string]int64{}, map[string]marketdata.Decimal{}, map[string]string{}
	for _, tc := range cases {
		body := vendorFixture(t, tc.fixture)
		if tc.zipped {
			body = zipOf(t, zipFile{name: tc.fixture, data: body, method: zip.Deflate})
		}
		out, err := m.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(tc.key),
			Body: bytes.NewReader(body), Metadata: tc.meta})
		if err != nil {
			t.Fatalf("put %s: %v", tc.key, err)
		}
		var ev events.S3Event
		if err := json.Unmarshal(fixture(t, "s3-put.json"), &ev); err != nil {
			t.Fatal(err)
		}
		r := &ev.Records[0]
		r.S3.Bucket.Name, r.S3.Bucket.Arn = bucket, "arn:aws:s3:::"+bucket
		r.S3.Object.Key = url.QueryEscape(tc.key)
		r.S3.Object.ETag = strings.Trim(aws.ToString(out.ETag), `"`)
		r.S3.Object.VersionID = aws.ToString(out.VersionId)
		if err := m.invoke(t, h, ev, "req-"+randomSuffix()); err != nil {
			t.Fatalf("invoke %s: %v\n%s", tc.key, err, logs.String())
		}
		o := report.Object{Bucket: bucket, Key: tc.key, VersionID: r.S3.Object.VersionID, ETag: r.S3.Object.ETag}
		rep := m.reportItem(t, o)
		if rep.Status != marketdata.ReportCompleted || rep.Profile != tc.profile || rep.Accepted != tc.accepted || rep.Rejected != tc.rejected {
			t.Fatalf("%s: report %s profile %q accepted %d rejected %d (%s); want %q %d %d",
				tc.key, rep.Status, rep.Profile, rep.Accepted, rep.Rejected, rep.Error, tc.profile, tc.accepted, tc.rejected)
		}
		if wantFile := map[bool]string{true: tc.fixture}[tc.zipped]; rep.ArchivedFile != wantFile {
			t.Fatalf("%s: archived file %q, want %q", tc.key, rep.ArchivedFile, wantFile)
		}
		for _, rj := range rep.Rejections {
			if !strings.HasPrefix(rj.Reason, tc.profile+" ") && !strings.HasPrefix(rj.Reason, tc.profile+":") {
				t.Fatalf("%s: rejection %+v does not name the profile", tc.key, rj)
			}
		}
		want[o.Origin()] = tc.accepted
		profileOf[o.Origin()] = tc.profile
		if v, ok := fractional[tc.fixture]; ok {
			wantFrac[o.Origin()] = v
		}
	}
	msgs, _ := m.drain(t)
	got := map[string]int64{}
	gotFrac := map[string]marketdata.Decimal{}
	for _, msg := range msgs {
		got[msg.Origin] += int64(len(msg.Points) + len(msg.Bars))
		for _, b := range msg.Bars {
			// A kline carries its quote volume (the exact Σ price×volume),
			// an Alpaca bar its VWAP, a Polygon aggregate neither.
			pv, vwap := b.PV != "", b.VWAP != 0
			ok := map[string]bool{
				marketdata.ProfileBinanceKlines:     pv && !vwap,
				marketdata.ProfileAlpacaBars:        vwap && !pv,
				marketdata.ProfilePolygonMinuteAggs: !pv && !vwap,
			}[profileOf[msg.Origin]]
			if !ok {
				t.Fatalf("%s (%s): queued bar %+v", msg.Origin, profileOf[msg.Origin], b)
			}
		}
		for _, p := range msg.Points {
			if strings.Contains(string(p.Volume), ".") {
				gotFrac[msg.Origin] = p.Volume
			}
		}
	}
	// Each fixture's fractional size is queued exactly, in canonical text.
	if !maps.Equal(gotFrac, wantFrac) {
		t.Fatalf("fractional volumes queued %v, want %v", gotFrac, wantFrac)
	}
	for origin, n := range want {
		if got[origin] != n {
			t.Fatalf("queued per origin %v, want %v", got, want)
		}
	}
}
