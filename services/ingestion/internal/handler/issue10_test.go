package handler

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

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
