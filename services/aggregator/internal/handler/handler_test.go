package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// Window starts of the fixtures (2024-03-05, UTC).
const (
	w1420 int64 = 1709648400000
	w1425 int64 = 1709648700000
	w1430 int64 = 1709649000000
	w1435 int64 = 1709649300000
	ns          = "MarketAnalytics/Pipeline-test"
)

// now is the test clock: 2024-03-05T14:37:12Z.
var now = time.UnixMilli(1709649432000).UTC()

func tk(ms int64, frac string, price float64, vol marketdata.Decimal) ohlcv.Tick {
	kms, disc, err := marketdata.ParseSortKey(strconv.FormatInt(ms, 10) + "." + frac)
	if err != nil {
		panic(err)
	}
	return ohlcv.Tick{Millis: kms, Disc: disc, Price: price, Volume: vol}
}

// seeded returns a store holding the raw points the expectations below were
// computed by hand from.
func seeded() *fakeStore {
	s := newFakeStore()
	s.ticks["AAPL"] = []ohlcv.Tick{
		// window 14:25: VWAP (186*10 + 188*30) / 40 = 7500 / 40 = 187.5
		tk(w1425+5_000, "1", 186, "10"),
		tk(w1425+200_000, "1", 188, "30"),
		// window 14:30: two points in the same millisecond; key .25 < .5,
		// so 187.20 opens. VWAP = (187.1*100 + 187.2*50 + 187.5*0 +
		// 186.9*200 + 187*150) / 500 = 93500 / 500 = 187.
		tk(w1430+1_000, "5", 187.10, "100"),
		tk(w1430+1_000, "25", 187.20, "50"),
		tk(w1430+60_000, "1", 187.50, "0"),
		tk(w1430+120_000, "7", 186.90, "200"),
		tk(w1430+299_999, "3", 187.00, "150"),
		// window 14:35 (never asked for in these tests)
		tk(w1435, "1", 999, "1"),
	}
	// MSFT 14:30: one zero-volume point, VWAP falls back to the price.
	s.ticks["MSFT"] = []ohlcv.Tick{tk(w1430+42, "9", 410.25, "0")}
	s.state["AAPL"], s.state["MSFT"], s.state["GOOG"] = true, true, true
	return s
}

var (
	wantAAPL1425 = marketdata.Aggregate{Symbol: "AAPL", WindowStart: w1425, WindowEnd: w1430,
		Open: 186, High: 188, Low: 186, Close: 188, Volume: "40", VWAP: 187.5, Trades: 2,
		FirstTs: w1425 + 5_000, LastTs: w1425 + 200_000, UpdatedAt: now.UnixMilli()}
	wantAAPL1430 = marketdata.Aggregate{Symbol: "AAPL", WindowStart: w1430, WindowEnd: w1435,
		Open: 187.20, High: 187.50, Low: 186.90, Close: 187.00, Volume: "500", VWAP: 187, Trades: 5,
		FirstTs: w1430 + 1_000, LastTs: w1430 + 299_999, UpdatedAt: now.UnixMilli()}
	wantMSFT1430 = marketdata.Aggregate{Symbol: "MSFT", WindowStart: w1430, WindowEnd: w1435,
		Open: 410.25, High: 410.25, Low: 410.25, Close: 410.25, Volume: "0", VWAP: 410.25, Trades: 1,
		FirstTs: w1430 + 42, LastTs: w1430 + 42, UpdatedAt: now.UnixMilli()}
)

func newHandler(s *fakeStore, m *fakeMetrics) *Handler {
	return &Handler{Store: s, Metrics: m, Namespace: ns, Now: func() time.Time { return now },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func fixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tick returns the time of the scheduled event in fixture name.
func tick(t *testing.T, name string) time.Time {
	t.Helper()
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(fixture(t, name), &ev); err != nil || ev.Time.IsZero() {
		t.Fatalf("%s: no scheduled time: %v", name, err)
	}
	return ev.Time
}

// assertAggs compares the stored aggregates with want (VWAP within 1e-9).
func assertAggs(t *testing.T, s *fakeStore, want ...marketdata.Aggregate) {
	t.Helper()
	if len(s.aggs) != len(want) {
		t.Errorf("%d aggregates stored, want %d: %+v", len(s.aggs), len(want), s.aggs)
	}
	for _, w := range want {
		got, ok := s.aggs[marketdata.WindowRef{Symbol: w.Symbol, Start: w.WindowStart}]
		if !ok {
			t.Errorf("no aggregate for %s/%d", w.Symbol, w.WindowStart)
			continue
		}
		if math.Abs(got.VWAP-w.VWAP) > 1e-9 {
			t.Errorf("%s/%d VWAP = %.12g, want %.12g", w.Symbol, w.WindowStart, got.VWAP, w.VWAP)
		}
		// The exact sums behind VWAP are ohlcv's and marketdata's to test.
		got.VWAP, w.VWAP = 0, 0
		got.PV, got.Prices, w.PV, w.Prices = "", "", "", ""
		if got != w {
			t.Errorf("%s/%d aggregate\n got %+v\nwant %+v", w.Symbol, w.WindowStart, got, w)
		}
	}
}

// metricValues returns the one PutMetricData call's datums by name, checking
// the namespace and units.
func metricValues(t *testing.T, m *fakeMetrics) map[string]float64 {
	t.Helper()
	if len(m.calls) != 1 {
		t.Fatalf("%d PutMetricData calls, want exactly 1 per invocation", len(m.calls))
	}
	in := m.calls[0]
	if aws.ToString(in.Namespace) != ns {
		t.Errorf("namespace %q, want %q", aws.ToString(in.Namespace), ns)
	}
	units := map[string]cwtypes.StandardUnit{
		naming.MetricPointsAggregated: cwtypes.StandardUnitCount,
		naming.MetricWindowsWritten:   cwtypes.StandardUnitCount,
		naming.MetricItemsRead:        cwtypes.StandardUnitCount,
		naming.MetricAggregationLag:   cwtypes.StandardUnitMilliseconds,
	}
	got := map[string]float64{}
	for _, d := range in.MetricData {
		name := aws.ToString(d.MetricName)
		if u, ok := units[name]; !ok || d.Unit != u {
			t.Errorf("datum %s unit %q, want %q", name, d.Unit, u)
		}
		if len(d.Dimensions) != 0 {
			t.Errorf("datum %s has dimensions %v", name, d.Dimensions)
		}
		got[name] = aws.ToFloat64(d.Value)
	}
	return got
}

func TestWindowsChanged(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_event.json"))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	// 5 references, one duplicate: AAPL 14:25, AAPL 14:30, GOOG 14:30 (no
	// points: nothing written), MSFT 14:30.
	want := Result{Windows: 4, Written: 3, Empty: 1, Points: 8, ItemsRead: 8, NewestMillis: w1430 + 299_999}
	if out != want {
		t.Errorf("result %+v, want %+v", out, want)
	}
	assertAggs(t, s, wantAAPL1425, wantAAPL1430, wantMSFT1430)
	if len(s.summaries) != 4 {
		t.Errorf("%d windows read, want 4 (duplicates read once): %v", len(s.summaries), s.summaries)
	}
	mv := metricValues(t, m)
	wantM := map[string]float64{
		naming.MetricPointsAggregated: 8,
		naming.MetricWindowsWritten:   3,
		naming.MetricItemsRead:        8,
		// 14:37:12.000 - 14:34:59.999
		naming.MetricAggregationLag: 132_001,
	}
	if !mapsEqual(mv, wantM) {
		t.Errorf("metrics %v, want %v", mv, wantM)
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestWindowsChangedIdempotent(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	h := newHandler(s, m)
	ev := fixture(t, "windows_changed_event.json")
	if _, err := h.Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	h.Now = func() time.Time { return later }
	out, err := h.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(Result); r.Written != 3 || r.Stale != 0 {
		t.Errorf("second run %+v, want 3 written again", r)
	}
	// Same values, only updatedAt moves.
	var want []marketdata.Aggregate
	for _, a := range []marketdata.Aggregate{wantAAPL1425, wantAAPL1430, wantMSFT1430} {
		a.UpdatedAt = later.UnixMilli()
		want = append(want, a)
	}
	assertAggs(t, s, want...)
}

func TestWindowsChangedInvalidReferences(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_invalid.json"))
	if err == nil {
		t.Fatal("want an error naming the invalid references")
	}
	// The one valid reference is still done.
	if r := out.(Result); r.Windows != 1 || r.Written != 1 {
		t.Errorf("result %+v, want the valid window written", r)
	}
	assertAggs(t, s, wantMSFT1430)
	for _, ref := range s.summaries {
		if ref.Symbol != "MSFT" {
			t.Errorf("invalid reference %+v was read", ref)
		}
	}
	if len(m.calls) != 1 {
		t.Errorf("%d metric calls, want 1", len(m.calls))
	}
}

func TestWindowsChangedPartialFailure(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	s.failSum[marketdata.WindowRef{Symbol: "AAPL", Start: w1425}] = errBoom
	out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_event.json"))
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the window's error", err)
	}
	if r := out.(Result); r.Failed != 1 || r.Written != 2 {
		t.Errorf("result %+v, want 1 failed and the other 2 written", r)
	}
	assertAggs(t, s, wantAAPL1430, wantMSFT1430)
	if mv := metricValues(t, m); mv[naming.MetricWindowsWritten] != 2 || mv[naming.MetricPointsAggregated] != 6 {
		t.Errorf("metrics %v, want the partial progress", mv)
	}
}

func TestWindowsChangedPutFailure(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	s.failPut = errBoom
	out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_event.json"))
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the put error", err)
	}
	if r := out.(Result); r.Failed != 3 || r.Written != 0 || r.Empty != 1 {
		t.Errorf("result %+v", r)
	}
}

func TestStaleAggregateKept(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	// A stored aggregate that counted more points than the table now holds
	// (e.g. some raw points expired by TTL) is kept.
	fuller := wantAAPL1430
	fuller.Trades, fuller.Volume = 9, "900"
	s.aggs[marketdata.WindowRef{Symbol: "AAPL", Start: w1430}] = fuller
	out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(Result); r.Written != 2 || r.Stale != 1 {
		t.Errorf("result %+v, want 2 written and 1 stale", r)
	}
	assertAggs(t, s, wantAAPL1425, fuller, wantMSFT1430)
	if mv := metricValues(t, m); mv[naming.MetricWindowsWritten] != 2 {
		t.Errorf("metrics %v, want 2 windows written", mv)
	}
}

func TestMetricsFailureDoesNotFailInvocation(t *testing.T) {
	s, m := seeded(), &fakeMetrics{err: errBoom}
	if _, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "windows_changed_event.json")); err != nil {
		t.Fatalf("Invoke: %v; a metrics failure must only be logged", err)
	}
	assertAggs(t, s, wantAAPL1425, wantAAPL1430, wantMSFT1430)
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name        string
		active      map[int64][]string
		want        Result
		wantAggs    []marketdata.Aggregate
		wantMetrics map[string]float64
	}{
		{
			// The tick at 14:35 finalises 14:30 and, for robustness, 14:25;
			// the open window 14:35 and older ones are left alone.
			name: "symbols from the two closed windows",
			active: map[int64][]string{
				w1420: {"AAPL"},
				w1425: {"AAPL"},
				w1430: {"AAPL", "MSFT"},
				w1435: {"AAPL"},
			},
			want:     Result{Windows: 3, Written: 3, Points: 8, ItemsRead: 8, NewestMillis: w1430 + 299_999},
			wantAggs: []marketdata.Aggregate{wantAAPL1425, wantAAPL1430, wantMSFT1430},
			wantMetrics: map[string]float64{naming.MetricPointsAggregated: 8, naming.MetricWindowsWritten: 3,
				naming.MetricItemsRead: 8, naming.MetricAggregationLag: 132_001},
		},
		{
			name:        "no active windows",
			active:      map[int64][]string{w1435: {"AAPL"}},
			want:        Result{},
			wantMetrics: map[string]float64{naming.MetricPointsAggregated: 0, naming.MetricWindowsWritten: 0, naming.MetricItemsRead: 0},
		},
		{
			name:        "listed symbol without points",
			active:      map[int64][]string{w1430: {"GOOG"}},
			want:        Result{Windows: 1, Empty: 1},
			wantMetrics: map[string]float64{naming.MetricPointsAggregated: 0, naming.MetricWindowsWritten: 0, naming.MetricItemsRead: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := seeded(), &fakeMetrics{}
			s.active = tt.active
			out, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "scheduled_event.json"))
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("result %+v, want %+v", out, tt.want)
			}
			if want := [][2]int64{{w1425, w1430}}; !slices.Equal(s.activeCalls, want) {
				t.Errorf("ActiveWindows calls %v, want %v", s.activeCalls, want)
			}
			// The range is the shared one, which the processor's index
			// horizon is tested against (marketdata.IndexHorizon).
			if first, last := marketdata.ScheduledWindows(tick(t, "scheduled_event.json")); !slices.Equal(s.activeCalls, [][2]int64{{first, last}}) {
				t.Errorf("ActiveWindows calls %v, want marketdata.ScheduledWindows %d..%d", s.activeCalls, first, last)
			}
			assertAggs(t, s, tt.wantAggs...)
			if mv := metricValues(t, m); !mapsEqual(mv, tt.wantMetrics) {
				t.Errorf("metrics %v, want %v", mv, tt.wantMetrics)
			}
		})
	}
}

func TestScheduleStoreFailure(t *testing.T) {
	s, m := seeded(), &fakeMetrics{}
	s.failAll = errBoom
	if _, err := newHandler(s, m).Invoke(context.Background(), fixture(t, "scheduled_event.json")); !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the store error", err)
	}
}

func TestUnknownEvents(t *testing.T) {
	tests := []struct{ name, event string }{
		{"not JSON", `hello`},
		{"array", `[1,2,3]`},
		{"null", `null`},
		{"empty object", `{}`},
		{"SQS event", `{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"{}"}]}`},
		{"S3 event", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}`},
		{"other custom event", `{"source":"someone.else","detail-type":"MarketDataWindowsChanged","detail":{"windows":[{"symbol":"AAPL","start":1709649000000}]}}`},
		{"other detail-type", `{"source":"marketanalytics.processor","detail-type":"Other","detail":{}}`},
		{"custom event with bad detail", `{"source":"marketanalytics.processor","detail-type":"MarketDataWindowsChanged","detail":{"windows":"AAPL"}}`},
		{"scheduled event without time", `{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`},
		{"scheduled event with bad time", `{"source":"aws.events","detail-type":"Scheduled Event","time":"yesterday","detail":{}}`},
		{"HTTP API v2 event", `{"version":"2.0","routeKey":"GET /aggregates/{symbol}","rawPath":"/aggregates/AAPL","requestContext":{"http":{"method":"GET"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := seeded(), &fakeMetrics{}
			out, err := newHandler(s, m).Invoke(context.Background(), json.RawMessage(tt.event))
			if !errors.Is(err, ErrUnknownEvent) {
				t.Fatalf("err = %v, want ErrUnknownEvent", err)
			}
			if out != nil {
				t.Errorf("output %v, want nil", out)
			}
			if len(s.summaries)+len(s.activeCalls)+len(s.aggCalls) != 0 || len(m.calls) != 0 {
				t.Error("an unknown event touched the store or metrics")
			}
		})
	}
}

// TestWindowsChangedFromRaw: the repair path reads the raw points, not the
// partials, and writes the same aggregates.
func TestWindowsChangedFromRaw(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, "windows_changed_event.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["detail"].(map[string]any)["fromRaw"] = true
	raw, _ := json.Marshal(ev)
	s := seeded()
	out, err := newHandler(s, &fakeMetrics{}).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	want := Result{Windows: 4, Written: 3, Empty: 1, Points: 8, ItemsRead: 8, FromRaw: true, NewestMillis: w1430 + 299_999}
	if out != want {
		t.Errorf("result %+v, want %+v", out, want)
	}
	if len(s.rawSummaries) != 4 {
		t.Errorf("%d windows read from raw, want 4", len(s.rawSummaries))
	}
	assertAggs(t, s, wantAAPL1425, wantAAPL1430, wantMSFT1430)

	// The repair replaces an aggregate that counts more points than the
	// raw ones (which the guarded write of the partials' path keeps).
	s = seeded()
	ref := marketdata.WindowRef{Symbol: "AAPL", Start: w1430}
	over := wantAAPL1430
	over.Trades, over.Volume = 99, "99999"
	s.aggs[ref] = over
	if _, err := newHandler(s, &fakeMetrics{}).Invoke(context.Background(), fixture(t, "windows_changed_event.json")); err != nil {
		t.Fatal(err)
	}
	if got := s.aggs[ref]; got.Trades != 99 {
		t.Fatalf("the partials' path replaced a fuller aggregate: %+v", got)
	}
	if _, err := newHandler(s, &fakeMetrics{}).Invoke(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	assertAggs(t, s, wantAAPL1425, wantAAPL1430, wantMSFT1430)

	// Without the flag, the partials.
	s = seeded()
	if _, err := newHandler(s, &fakeMetrics{}).Invoke(context.Background(), fixture(t, "windows_changed_event.json")); err != nil {
		t.Fatal(err)
	}
	if len(s.rawSummaries) != 0 {
		t.Errorf("the processor's event read raw points: %v", s.rawSummaries)
	}
}
