package handler

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// vendorFixture reads one of the parser's vendor fixtures (written from the
// vendors' public documentation).
func vendorFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../parse/testdata/profiles/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3Profiles: an object's profile is detected, or forced by its
// metadata or its incoming/<profile>/ key prefix; the report records it,
// the accepted records are queued and the refused ones listed with reasons
// naming the profile and the column.
func TestS3Profiles(t *testing.T) {
	cases := []struct {
		name, key, fixture string
		meta               map[string]string
		status             report.Status
		profile            string
		accepted, rejected int64
		category, reason   string // the object's error, or the first rejection's reason
	}{
		{"detected polygon", "incoming/2024-05-31/trades.csv", "polygon-trades.csv", nil,
			report.Completed, marketdata.ProfilePolygonTrades, 4, 1, "", "polygon-trades sip_timestamp:"},
		{"detected binance, symbol from the name", "incoming/2024-05-31/BTCUSDT-aggTrades-2024-05-31.csv", "BTCUSDT-aggTrades-2024-05-31.csv", nil,
			report.Completed, marketdata.ProfileBinanceAggTrades, 3, 1, "", "binance-aggtrades transact_time:"},
		{"forced by metadata, symbol from metadata", "uploads/btc.csv", "BTCUSDT-trades-2024-05-31.csv",
			map[string]string{marketdata.MetadataProfile: marketdata.ProfileBinanceTrades, marketdata.MetadataSymbol: "BTCUSDT"},
			report.Completed, marketdata.ProfileBinanceTrades, 3, 1, "", "binance-trades qty:"},
		{"forced by key prefix", "incoming/tardis-trades/2024-05-31.csv", "tardis-trades.csv", nil,
			report.Completed, marketdata.ProfileTardisTrades, 3, 1, "", "tardis-trades timestamp:"},
		{"alpaca historical JSON", "incoming/2024-05-31/alpaca.json", "alpaca-trades-historical.json", nil,
			report.Completed, marketdata.ProfileAlpacaTrades, 4, 1, "", "alpaca-trades s:"},
		{"prefix forcing a profile the file does not fit", "incoming/tardis-trades/p.csv", "polygon-trades.csv", nil,
			report.Failed, marketdata.ProfileTardisTrades, 0, 0, parse.ObjectBadHeader, "tardis-trades"},
		{"unknown profile in metadata", "uploads/p.csv", "polygon-trades.csv", map[string]string{marketdata.MetadataProfile: "bloomberg"},
			report.Failed, "", 0, 0, parse.ObjectBadProfile, `unknown format "bloomberg"`},
		{"unrecognised file", "incoming/2024-05-31/x.csv", "", nil,
			report.Failed, "", 0, 0, parse.ObjectBadHeader, `"when", "what"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			o := report.Object{Bucket: bucket, Key: tc.key, VersionID: "v1", ETag: "e1"}
			data := []byte("when,what\n1,2\n")
			if tc.fixture != "" {
				data = vendorFixture(t, tc.fixture)
			}
			e.putObject(o, data).metadata = tc.meta
			ctx, cancel := lambdaCtx("req-1")
			defer cancel()
			if err := e.h.IngestObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			r := e.reports.get(o).result
			_, queued, _ := e.sqs.queued(t)
			if r.Status != tc.status || r.Profile != tc.profile || r.Collector.Accepted != tc.accepted ||
				r.Collector.Rejected != tc.rejected || int64(len(queued)) != tc.accepted {
				t.Fatalf("report %s profile %q accepted %d rejected %d, %d queued; want %s %q %d %d",
					r.Status, r.Profile, r.Collector.Accepted, r.Collector.Rejected, len(queued), tc.status, tc.profile, tc.accepted, tc.rejected)
			}
			if tc.category != "" {
				if r.ErrorCategory != tc.category || !strings.Contains(r.Error, tc.reason) {
					t.Fatalf("error %q %q, want %q containing %q", r.ErrorCategory, r.Error, tc.category, tc.reason)
				}
				return
			}
			if len(r.Collector.Rejections) == 0 || !strings.Contains(r.Collector.Rejections[0].Reason, tc.reason) {
				t.Fatalf("rejections %+v, want the first naming %q", r.Collector.Rejections, tc.reason)
			}
			for _, q := range queued {
				if q.Point.Timestamp < 1717162200000 || q.Point.Symbol == "" {
					t.Fatalf("queued %+v", q.Point)
				}
			}
		})
	}
}

// postIngest sends body to POST /ingest as contentType with query and fails
// the test unless the answer's status is status: of a 202 it returns the
// IngestResponse; of any other status it checks that the ErrorResponse's
// message contains reason, and returns nil.
func postIngest(t *testing.T, e *env, body []byte, contentType string, query map[string]string, status int, reason string) *marketdata.IngestResponse {
	t.Helper()
	resp := invokeAPI(t, e, apiEvent(t, "api-post.json", func(r *events.APIGatewayProxyRequest) {
		setBody(string(body))(r)
		setHeader("Content-Type", contentType)(r)
		r.QueryStringParameters = query
	}))
	if resp.StatusCode != status {
		t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, status)
	}
	if status != http.StatusAccepted {
		var er marketdata.ErrorResponse
		if err := json.Unmarshal([]byte(resp.Body), &er); err != nil || !strings.Contains(er.Message, reason) {
			t.Fatalf("answer %s, want a message containing %q", resp.Body, reason)
		}
		return nil
	}
	var ir marketdata.IngestResponse
	if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil {
		t.Fatal(err)
	}
	return &ir
}

// TestAPIProfiles: POST /ingest takes text/csv bodies and ?format=,
// ?symbol=, ?timestampUnit=, and answers with the profile used.
func TestAPIProfiles(t *testing.T) {
	cases := []struct {
		name        string
		body        []byte
		contentType string
		query       map[string]string
		status      int
		profile     string
		accepted    int
		reason      string // of the first rejection, or of the 400
	}{
		{"polygon CSV detected", vendorFixture(t, "polygon-trades.csv"), "text/csv; charset=utf-8", nil,
			http.StatusAccepted, marketdata.ProfilePolygonTrades, 4, "polygon-trades sip_timestamp:"},
		{"binance forced with its symbol", vendorFixture(t, "BTCUSDT-trades-2024-05-31.csv"), "text/csv",
			map[string]string{marketdata.APIQueryProfile: marketdata.ProfileBinanceTrades, marketdata.APIQuerySymbol: "BTCUSDT"},
			http.StatusAccepted, marketdata.ProfileBinanceTrades, 3, "binance-trades qty:"},
		{"binance without a symbol", vendorFixture(t, "BTCUSDT-trades-2024-05-31.csv"), "text/csv", nil,
			http.StatusBadRequest, "", 0, "?symbol="},
		{"alpaca JSON detected", vendorFixture(t, "alpaca-trades-historical.json"), "application/json", nil,
			http.StatusAccepted, marketdata.ProfileAlpacaTrades, 4, "alpaca-trades s:"},
		{"native CSV with an explicit unit", []byte("symbol,timestamp,price,volume\nA,1717162200,1,1\nA,1717162200000,1,1\n"), "text/csv",
			map[string]string{marketdata.APIQueryTimestampUnit: "s"}, http.StatusAccepted, marketdata.ProfileNative, 1, "reads as ms"},
		{"unknown format", vendorFixture(t, "polygon-trades.csv"), "text/csv", map[string]string{marketdata.APIQueryProfile: "x"},
			http.StatusBadRequest, "", 0, `unknown format "x"`},
		{"CSV profile for a JSON body", vendorFixture(t, "alpaca-trades-historical.json"), "application/json",
			map[string]string{marketdata.APIQueryProfile: marketdata.ProfileTardisTrades}, http.StatusBadRequest, "", 0, "text/csv"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			ir := postIngest(t, e, tc.body, tc.contentType, tc.query, tc.status, tc.reason)
			if ir == nil {
				return
			}
			_, queued, _ := e.sqs.queued(t)
			if ir.Profile != tc.profile || ir.Accepted != tc.accepted || len(queued) != tc.accepted {
				t.Fatalf("answer %+v, %d queued; want profile %q, %d accepted", ir, len(queued), tc.profile, tc.accepted)
			}
			if len(ir.Rejected) == 0 || !strings.Contains(ir.Rejected[0].Reason, tc.reason) {
				t.Fatalf("rejected %+v, want the first naming %q", ir.Rejected, tc.reason)
			}
		})
	}
}

// A file whose every record was refused is REJECTED, not COMPLETED, and
// counted in a metric; a file with a valid record, or an unreadable one,
// keeps its status. Unknown CSV columns are ignored and listed, and the
// timestamp units read are counted.
func TestS3StatusAndReportFields(t *testing.T) {
	cases := []struct {
		name     string
		data     string
		status   report.Status
		metric   float64
		accepted int64
		ignored  []string
		units    map[string]int64
	}{
		{"every record refused", "symbol,timestamp,price,volume\naapl,1717243200000,1,1\nMSFT,17172432000,1,1\n",
			report.Rejected, 1, 0, nil, map[string]int64{}},
		{"one valid record", "symbol,timestamp,price,volume\naapl,1717243200000,1,1\nMSFT,1717243200,1,1\n",
			report.Completed, 0, 1, nil, map[string]int64{"s": 1}},
		{"extra column ignored, units counted", "symbol,timestamp,price,volume,venue_id\nA,1717243200,1,1,7\nB,1717243200000,1,1,\nC,1717243200000000,1,1,x\nD,2024-06-01T12:00:00Z,1,1,\n",
			report.Completed, 0, 4, []string{"venue_id"}, map[string]int64{"s": 1, "ms": 1, "us": 1, parse.UnitRFC3339: 1}},
		{"first line is data", "AAPL,1717243200000,1,1\n", report.Failed, 0, 0, nil, map[string]int64{}},
		{"UTF-16", "\xFF\xFEs\x00y\x00m\x00", report.Failed, 0, 0, nil, map[string]int64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			e.putObject(putObject, []byte(tc.data))
			if err := invokeS3(t, e, "s3-put.json", "req-1"); err != nil {
				t.Fatal(err)
			}
			r := e.reports.get(putObject)
			c := r.result.Collector
			if r.status != tc.status || c.Accepted != tc.accepted {
				t.Fatalf("status %s accepted %d, want %s %d: %+v", r.status, c.Accepted, tc.status, tc.accepted, r.result)
			}
			if fmt.Sprint(r.result.IgnoredColumns) != fmt.Sprint(tc.ignored) || fmt.Sprint(c.Units) != fmt.Sprint(tc.units) {
				t.Fatalf("ignored %q units %v, want %q %v", r.result.IgnoredColumns, c.Units, tc.ignored, tc.units)
			}
			got := emfValues(t, e.logs.String(), e.h.MetricNamespace, naming.MetricRejectedObjects)
			if len(got) != 1 || got[0] != tc.metric {
				t.Fatalf("%s metric values %v, want [%v]; logs:\n%s", naming.MetricRejectedObjects, got, tc.metric, e.logs)
			}
		})
	}
}

// POST /ingest takes a body starting with a UTF-8 byte order mark, as the S3
// path does, plain or base64-encoded.
func TestAPIBodyWithBOM(t *testing.T) {
	body := "\uFEFF[" + onePoint + "]"
	for _, tc := range []struct {
		name string
		edit func(*events.APIGatewayProxyRequest)
	}{
		{"plain", setBody(body)},
		{"base64", func(r *events.APIGatewayProxyRequest) {
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv()
			resp := invokeAPI(t, e, apiEvent(t, "api-post.json", tc.edit))
			var ir marketdata.IngestResponse
			if err := json.Unmarshal([]byte(resp.Body), &ir); err != nil || resp.StatusCode != 202 || ir.Accepted != 1 {
				t.Fatalf("status %d %s, want 202 with one point accepted", resp.StatusCode, resp.Body)
			}
		})
	}
}

// emfValues returns the values of metric logged in embedded metric format
// under namespace, in order.
func emfValues(t *testing.T, logs, namespace, metric string) []float64 {
	t.Helper()
	var out []float64
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		meta, ok := rec["_aws"].(map[string]any)
		if !ok {
			continue
		}
		if _, ok := meta["Timestamp"].(float64); !ok {
			t.Fatalf("EMF record without a numeric Timestamp: %s", sc.Text())
		}
		defs, _ := meta["CloudWatchMetrics"].([]any)
		for _, d := range defs {
			dm, _ := d.(map[string]any)
			if dm["Namespace"] != namespace {
				continue
			}
			ms, _ := dm["Metrics"].([]any)
			for _, m := range ms {
				if mm, _ := m.(map[string]any); mm["Name"] == metric {
					v, ok := rec[metric].(float64)
					if !ok {
						t.Fatalf("EMF record declares %s without a value: %s", metric, sc.Text())
					}
					out = append(out, v)
				}
			}
		}
	}
	return out
}
