package apigw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/marketanalytics/pipeline/tools/internal/plan"
)

// fakeFn records the proxy events it gets and answers with resp or err.
type fakeFn struct {
	got  []events.APIGatewayProxyRequest
	resp string
	err  error
}

func (f *fakeFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.got = append(f.got, ev)
	return []byte(f.resp), f.err
}

func loadAPI(t *testing.T, ing, agg *fakeFn) *API {
	t.Helper()
	p, err := plan.Load("../../testdata/synth")
	if err != nil {
		t.Fatal(err)
	}
	fns := map[string]*Function{}
	for _, r := range p.OfType("aws:lambda/function:Function") {
		var inv Invoker = agg
		if strings.Contains(r.Str("name"), "Ingestion") {
			inv = ing
		}
		fns[r.Str("arn")] = &Function{Name: r.Str("name"), ARN: r.Str("arn"), Invoker: inv}
	}
	apis, err := Load(p, fns)
	if err != nil {
		t.Fatal(err)
	}
	if len(apis) != 1 {
		t.Fatalf("%d APIs, want 1", len(apis))
	}
	api := apis[0]
	api.Now = func() time.Time { return time.Now() }
	api.log = func(string, ...any) {}
	return api
}

func serve(t *testing.T, api *API, method, path, body string, sign bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:5400"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sign {
		sum := sha256.Sum256([]byte(body))
		creds, _ := credentials.NewStaticCredentialsProvider("testing", "testing", "").Retrieve(context.Background())
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w := httptest.NewRecorder()
	api.ServeHTTP(w, req)
	return w
}

func TestRoutesFromTheSynth(t *testing.T) {
	api := loadAPI(t, &fakeFn{}, &fakeFn{})
	var got []string
	for _, r := range api.Routes {
		got = append(got, r.Method+" "+r.Resource+" "+r.Authorization)
	}
	want := []string{"GET /aggregates/{symbol} AWS_IAM", "POST /ingest AWS_IAM"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("routes %v, want %v", got, want)
	}
	if len(api.Stages) != 1 || api.Stages[0] != "prod" {
		t.Fatalf("stages %v, want [prod]", api.Stages)
	}
}

func TestServeHTTP(t *testing.T) {
	ok := `{"statusCode":202,"headers":{"Content-Type":"application/json"},"body":"{\"accepted\":1}"}`
	tests := []struct {
		name, method, path, body string
		sign                     bool
		fnResp                   string
		fnErr                    error
		wantStatus               int
		wantInvoked              bool
	}{
		{"signed ingest", "POST", "/prod/ingest", `{"points":[{"symbol":"A"}]}`, true, ok, nil, 202, true},
		{"unsigned ingest", "POST", "/prod/ingest", `{"points":[]}`, false, ok, nil, 403, false},
		{"unknown stage", "POST", "/dev/ingest", `{"points":[]}`, true, ok, nil, 403, false},
		{"unknown route", "POST", "/prod/other", `{}`, true, ok, nil, 403, false},
		{"wrong method", "GET", "/prod/ingest", ``, true, ok, nil, 403, false},
		{"body fails the model", "POST", "/prod/ingest", `{"nopoints":1}`, true, ok, nil, 400, false},
		{"malformed JSON", "POST", "/prod/ingest", `{"points":`, true, ok, nil, 400, false},
		{"bare array passes the model", "POST", "/prod/ingest", `[{"symbol":"A"}]`, true, ok, nil, 202, true},
		{"function error", "POST", "/prod/ingest", `{"points":[]}`, true, ``, errors.New("boom"), 502, true},
		{"malformed proxy answer", "POST", "/prod/ingest", `{"points":[]}`, true, `{"nope":1}`, nil, 502, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeFn{resp: tt.fnResp, err: tt.fnErr}
			api := loadAPI(t, ing, &fakeFn{})
			w := serve(t, api, tt.method, tt.path, tt.body, tt.sign)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tt.wantStatus)
			}
			if (len(ing.got) > 0) != tt.wantInvoked {
				t.Fatalf("invoked %d times, want invoked %v", len(ing.got), tt.wantInvoked)
			}
		})
	}
}

func TestProxyEventShape(t *testing.T) {
	agg := &fakeFn{resp: `{"statusCode":200,"body":"[]"}`}
	api := loadAPI(t, &fakeFn{}, agg)
	w := serve(t, api, "GET", "/prod/aggregates/BRK.B?from=1&to=2", "", true)
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	ev := agg.got[0]
	if ev.Resource != "/aggregates/{symbol}" || ev.Path != "/aggregates/BRK.B" || ev.HTTPMethod != "GET" ||
		ev.PathParameters["symbol"] != "BRK.B" || ev.QueryStringParameters["from"] != "1" ||
		ev.RequestContext.Stage != "prod" || ev.RequestContext.APIID != api.ID || ev.RequestContext.Identity.AccessKey != "testing" ||
		ev.RequestContext.RequestID == "" || ev.RequestContext.ResourcePath != "/aggregates/{symbol}" {
		t.Fatalf("proxy event %+v", ev)
	}
}

func TestMatchSegments(t *testing.T) {
	tests := []struct {
		tmpl, path string
		ok         bool
		params     map[string]string
	}{
		{"/ingest", "/ingest", true, nil},
		{"/ingest", "/ingest/x", false, nil},
		{"/aggregates/{symbol}", "/aggregates/AAPL", true, map[string]string{"symbol": "AAPL"}},
		{"/aggregates/{symbol}", "/aggregates/", false, nil},
		{"/aggregates/{symbol}", "/aggregates", false, nil},
		{"/files/{proxy+}", "/files/a/b", true, map[string]string{"proxy": "a/b"}},
		{"/", "/", true, nil},
	}
	for _, tt := range tests {
		params, ok := matchSegments(strings.Split(strings.Trim(tt.tmpl, "/"), "/"), strings.Split(strings.Trim(tt.path, "/"), "/"))
		if ok != tt.ok {
			t.Errorf("%s vs %s: match %v, want %v", tt.tmpl, tt.path, ok, tt.ok)
			continue
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("%s vs %s: %s = %q, want %q", tt.tmpl, tt.path, k, params[k], v)
			}
		}
	}
}
