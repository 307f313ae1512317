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

// TestS3Bars: a bar file's bars are queued in messages of bars (version 2),
// its refused rows reported naming the profile and the column; a timeframe
// in the metadata forces the bar length, one longer than 5 minutes fails
// the object with that reason.
func TestS3Bars(t *testing.T) {
	cases := []struct {
		name, key string
		meta      map[string]string
		status    report.Status
		bars      int64
		rejected  int64
		length    int64
		reason    string
	}{
		{"detected", "incoming/2024-05-31/minute_aggs.csv", nil, report.Completed, 4, 8, 60_000, "polygon-minute-aggs high:"},
		{"forced by prefix", "incoming/polygon-minute-aggs/2024-05-31.csv", nil, report.Completed, 4, 8, 60_000, "polygon-minute-aggs high:"},
		{"5-minute timeframe", "uploads/aggs.csv", map[string]string{marketdata.MetadataTimeframe: "5Min"}, report.Completed, 2, 10, 300_000, "misaligned"},
		{"day timeframe", "uploads/aggs.csv", map[string]string{marketdata.MetadataTimeframe: "1Day"}, report.Failed, 0, 0, 0, "longer than 5m0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			o := report.Object{Bucket: bucket, Key: tc.key, VersionID: "v1", ETag: "e1"}
			e.putObject(o, vendorFixture(t, "polygon-minute-aggs.csv")).metadata = tc.meta
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
				t.Fatalf("report %s accepted %d rejected %d, %d bars and %d points queued", r.Status, r.Collector.Accepted, r.Collector.Rejected, len(bars), len(points))
			}
			if tc.status == report.Failed {
				if r.ErrorCategory != parse.ObjectBadProfile || !strings.Contains(r.Error, tc.reason) {
					t.Fatalf("error %q %q", r.ErrorCategory, r.Error)
				}
				return
			}
			if r.Profile != marketdata.ProfilePolygonMinuteAggs || !versions[marketdata.MessageVersionBars] || len(versions) != 1 {
				t.Fatalf("profile %q, message versions %v", r.Profile, versions)
			}
			found := false
			for _, rej := range r.Collector.Rejections {
				found = found || strings.Contains(rej.Reason, tc.reason)
			}
			if !found {
				t.Fatalf("rejections %+v, want one naming %q", r.Collector.Rejections, tc.reason)
			}
			for _, b := range bars {
				if b.Length != tc.length || b.Symbol == "" || b.Start%tc.length != 0 {
					t.Fatalf("queued %+v", b)
				}
			}
		})
	}
}

// POST /ingest takes a bar file as text/csv, with ?timeframe=.
func TestAPIBars(t *testing.T) {
	for _, tc := range []struct {
		timeframe string
		status    int
		accepted  int
	}{{"", http.StatusAccepted, 4}, {"1Min", http.StatusAccepted, 4}, {"1h", http.StatusBadRequest, 0}} {
		e := newEnv()
		resp := invokeAPI(t, e, apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) {
			setBody(string(vendorFixture(t, "polygon-minute-aggs.csv")))(r)
			setHeader("Content-Type", "text/csv")(r)
			if tc.timeframe != "" {
				r.QueryStringParameters = map[string]string{marketdata.APIQueryTimeframe: tc.timeframe}
			}
		}))
		if resp.StatusCode != tc.status {
			t.Fatalf("timeframe %q: status %d %s", tc.timeframe, resp.StatusCode, resp.Body)
		}
		if tc.status != http.StatusAccepted {
			if !strings.Contains(resp.Body, "longer than 5m0s") {
				t.Fatalf("answer %s", resp.Body)
			}
			continue
		}
		var ir marketdata.IngestResponse
		if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil {
			t.Fatal(err)
		}
		bars, _ := e.sqs.queuedBars(t)
		if ir.Profile != marketdata.ProfilePolygonMinuteAggs || ir.Accepted != tc.accepted || len(bars) != tc.accepted {
			t.Fatalf("answer %+v, %d bars queued", ir, len(bars))
		}
	}
}
