package apigw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
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
	p, err := synthread.Load("../../testdata/synth")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture is the synth of stack "dev".
	dev := naming.MustNew("dev")
	invokers := map[string]Invoker{"ingestion": ing, "aggregator": agg, "processor": &fakeFn{}}
	fns := map[string]*Function{}
	for _, r := range p.OfType("aws:lambda/function:Function") {
		for _, service := range naming.Services {
			if name, err := dev.FunctionFor(service); err == nil && name == r.Str("name") {
				fns[r.Str("arn")] = &Function{Name: name, ARN: r.Str("arn"), Service: service, Invoker: invokers[service]}
			}
		}
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

// The emulator serves the synth's routes, which are the shared route table.
func TestRoutesFromTheSynthAreTheTable(t *testing.T) {
	api := loadAPI(t, &fakeFn{}, &fakeFn{})
	var got []marketdata.Route
	for _, r := range api.Routes {
		got = append(got, r.Route)
	}
	if got, want := marketdata.Canonical(got), marketdata.Canonical(marketdata.Routes); !reflect.DeepEqual(got, want) {
		t.Fatalf("routes\n%+v\nwant the table\n%+v", got, want)
	}
	if len(api.Stages) != 1 || api.Stages[0] != naming.MustNew("dev").APIStage() {
		t.Fatalf("stages %v, want [%s]", api.Stages, naming.MustNew("dev").APIStage())
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
		{"unknown stage", "POST", "/dev/ingest", `{"points":[]}`, true, ok, nil, 404, false},
		{"unknown route", "POST", "/prod/other", `{}`, true, ok, nil, 404, false},
		{"route under a route", "POST", "/prod/ingest/more", `{}`, true, ok, nil, 404, false},
		{"wrong method", "GET", "/prod/ingest", ``, true, ok, nil, 405, false},
		// No request validator: the function judges every body.
		{"any JSON body", "POST", "/prod/ingest", `{"nopoints":1}`, true, ok, nil, 202, true},
		{"malformed JSON", "POST", "/prod/ingest", `{"points":`, true, ok, nil, 202, true},
		{"body with a UTF-8 BOM", "POST", "/prod/ingest", "\uFEFF{\"points\":[{\"symbol\":\"A\"}]}", true, ok, nil, 202, true},
		{"bare array", "POST", "/prod/ingest", `[{"symbol":"A"}]`, true, ok, nil, 202, true},
		{"function error", "POST", "/prod/ingest", `{"points":[]}`, true, ``, errors.New("boom"), 502, true},
		{"malformed proxy answer", "POST", "/prod/ingest", `{"points":[]}`, true, `{"nope":1}`, nil, 502, true},
		{"aggregates without a symbol", "GET", "/prod/aggregates/", ``, true, ok, nil, 404, false},
		{"aggregates, wrong method", "POST", "/prod/aggregates/AAPL", `{}`, true, ok, nil, 405, false},
		{"aggregates by HEAD", "HEAD", "/prod/aggregates/AAPL", ``, true, ok, nil, 405, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := &fakeFn{resp: tt.fnResp, err: tt.fnErr}
			agg := &fakeFn{resp: tt.fnResp, err: tt.fnErr}
			api := loadAPI(t, ing, agg)
			w := serve(t, api, tt.method, tt.path, tt.body, tt.sign)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tt.wantStatus)
			}
			if invoked := len(ing.got)+len(agg.got) > 0; invoked != tt.wantInvoked {
				t.Fatalf("invoked %d times, want invoked %v", len(ing.got)+len(agg.got), tt.wantInvoked)
			}
			if len(ing.got) == 1 && ing.got[0].Body != tt.body {
				t.Errorf("the function got the body %q, want %q as sent", ing.got[0].Body, tt.body)
			}
			if w.Header().Get(requestIDHeader) == "" {
				t.Error("answer without a request id")
			}
			if w.Code == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// Each table route reaches its own function, signed or refused as the table
// says, with its path parameters.
func TestEveryTableRouteReachesItsFunction(t *testing.T) {
	sample := map[string]string{marketdata.APISymbolParam: "BRK.B"}
	for _, route := range marketdata.Routes {
		t.Run(route.String(), func(t *testing.T) {
			path := "/prod" + route.Path
			for _, name := range route.PathParams() {
				path = strings.Replace(path, "{"+name+"}", sample[name], 1)
			}
			body := ""
			if route.Method != http.MethodGet {
				body = `{"points":[]}`
			}
			for _, signed := range []bool{true, false} {
				fns := map[string]*fakeFn{"ingestion": {resp: `{"statusCode":200,"body":"{}"}`}, "aggregator": {resp: `{"statusCode":200,"body":"[]"}`}}
				api := loadAPI(t, fns["ingestion"], fns["aggregator"])
				w := serve(t, api, route.Method, path, body, signed)
				if !signed && route.IAM {
					if w.Code != http.StatusForbidden || len(fns[route.Service].got) != 0 {
						t.Errorf("unsigned: status %d, %d invocations; want 403 and none", w.Code, len(fns[route.Service].got))
					}
					continue
				}
				if w.Code != http.StatusOK || len(fns[route.Service].got) != 1 {
					t.Fatalf("signed=%v: status %d (%s), %s invoked %d times; want 200 and once", signed, w.Code, w.Body, route.Service, len(fns[route.Service].got))
				}
				ev := fns[route.Service].got[0]
				if ev.Resource != route.Path || ev.HTTPMethod != route.Method {
					t.Errorf("event for %s %s, want %s", ev.HTTPMethod, ev.Resource, route)
				}
				for _, name := range route.PathParams() {
					if ev.PathParameters[name] != sample[name] {
						t.Errorf("path parameter %s = %q, want %q", name, ev.PathParameters[name], sample[name])
					}
				}
			}
		})
	}
}

// A route whose function no lambda Permission admits for this API answers
// 500 without invoking it.
func TestUnpermittedRouteIsAServerError(t *testing.T) {
	ing := &fakeFn{resp: `{"statusCode":202,"body":"{}"}`}
	api := loadAPI(t, ing, &fakeFn{})
	for _, rt := range api.Routes {
		rt.sources, rt.anySource = nil, false
	}
	w := serve(t, api, "POST", "/prod/ingest", `{"points":[]}`, true)
	if w.Code != http.StatusInternalServerError || len(ing.got) != 0 {
		t.Fatalf("status %d, %d invocations; want 500 and none", w.Code, len(ing.got))
	}
}

func TestInvokedFunction(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:DataIngestion-dev"
	tests := []struct {
		uri, want string
		ok        bool
	}{
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations", fn, true},
		{"arn:aws:apigateway:us-east-1:s3:path/bucket/key", "", false},
		{"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/notanarn/invocations", "", false},
		{"https://example.com/", "", false},
	}
	for _, tt := range tests {
		got, err := invokedFunction(tt.uri)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("invokedFunction(%q) = %q, %v; want %q, ok %v", tt.uri, got, err, tt.want, tt.ok)
		}
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

// A request validator in the synth is refused, not ignored: the local API
// would otherwise pass bodies API Gateway refuses.
func TestRequestValidatorIsRefused(t *testing.T) {
	p, err := synthread.Load("../../testdata/synth")
	if err != nil {
		t.Fatal(err)
	}
	methods := p.OfType("aws:apigateway/method:Method")
	if len(methods) == 0 {
		t.Fatal("no methods in the synth")
	}
	methods[0].Inputs["requestValidatorId"] = "abc123"
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "request validator") {
		t.Fatalf("Load = %v, want a request validator error", err)
	}
}
