// Package apigw serves the REST API of the synth locally, as API Gateway
// would: the routes (resources and methods), their authorization (SigV4 for
// AWS_IAM, checked against the local credentials), and AWS_PROXY integrations
// that invoke the function with an API Gateway proxy event and turn its
// answer into the HTTP response. A request validator is refused: the stacks
// declare none (marketdata.Route), and one served by nobody would let the
// local API accept what API Gateway refuses.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/google/uuid"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/arnmatch"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Invoker runs one synchronous invocation of a function.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Function is a local function an integration can target.
type Function struct {
	Name, ARN string
	// Service is the function's service (naming.Services).
	Service string
	Invoker Invoker
}

// Route is one method on one resource, read from the synth in the shape of
// the shared route table (marketdata.Route): its method, path template,
// query parameters, whether it is signed (IAM), and the service of the
// function it invokes.
type Route struct {
	marketdata.Route
	ResourceID    string
	Authorization string // NONE or AWS_IAM
	Function      *Function
	// sources are the source ARNs of the lambda Permissions that let
	// apigateway.amazonaws.com invoke the function (anySource: one without a
	// source ARN); checked per request against its execute-api ARN.
	sources   []*arnmatch.Pattern
	anySource bool
}

// API is a local REST API.
type API struct {
	ID     string
	Name   string
	Stages []string
	Routes []*Route
	// Now is the clock used for signature expiry (time.Now when nil).
	Now func() time.Time
	// mux routes "METHOD /stage/path" patterns, one per stage and route, to
	// the route's handler; it answers 404 to an unknown path or stage and
	// 405 to a method the path lacks. (API Gateway answers both 403 Missing
	// Authentication Token; the mux's answers say more to a developer.)
	mux *http.ServeMux
	srv *http.Server
	// URL is the base URL (without stage) once Serve was called.
	URL string
	log func(format string, args ...any)
}

// Load reads the REST APIs of p and binds their integrations to fns (by
// function ARN). Authorization types other than NONE and AWS_IAM,
// integrations other than AWS_PROXY to a local function, and request
// validators are refused.
func Load(p *synthread.Plan, fns map[string]*Function) ([]*API, error) {
	var apis []*API
	for _, ra := range p.OfType("aws:apigateway/restApi:RestApi") {
		api := &API{ID: ra.ID, Name: ra.Str("name"), log: func(string, ...any) {}}
		root := ra.Str("rootResourceId")
		paths := map[string]string{root: "/"}
		resources := p.OfType("aws:apigateway/resource:Resource")
		// Resolve paths parent-first (a few passes suffice for any depth).
		for pass := 0; pass <= len(resources); pass++ {
			for _, r := range resources {
				if r.Str("restApi") != api.ID {
					continue
				}
				if pp, ok := paths[r.Str("parentId")]; ok {
					paths[r.ID] = strings.TrimSuffix(pp, "/") + "/" + r.Str("pathPart")
				}
			}
		}
		for _, s := range p.OfType("aws:apigateway/stage:Stage") {
			if s.Str("restApi") == api.ID {
				api.Stages = append(api.Stages, s.Str("stageName"))
			}
		}
		if len(api.Stages) == 0 {
			return nil, fmt.Errorf("%s has no stage: nothing would be reachable", ra)
		}
		for _, m := range p.OfType("aws:apigateway/method:Method") {
			if m.Str("restApi") != api.ID {
				continue
			}
			path, ok := paths[m.Str("resourceId")]
			if !ok {
				return nil, fmt.Errorf("%s: unknown resource %q", m, m.Str("resourceId"))
			}
			rt := &Route{
				Route:         marketdata.Route{Method: m.Str("httpMethod"), Path: path},
				ResourceID:    m.Str("resourceId"),
				Authorization: m.Str("authorization"),
			}
			if rt.Method == "ANY" {
				// ServeMux has no "any method" pattern but a pattern without one.
				return nil, fmt.Errorf("%s: method ANY is not served locally", m)
			}
			if rt.Authorization != "NONE" && rt.Authorization != "AWS_IAM" {
				return nil, fmt.Errorf("%s: authorization %q is not served locally", m, rt.Authorization)
			}
			rt.IAM = rt.Authorization == "AWS_IAM"
			if v := m.Str("requestValidatorId"); v != "" {
				return nil, fmt.Errorf("%s: request validator %q is not served locally", m, v)
			}
			for name := range m.Map("requestParameters") {
				if q, ok := strings.CutPrefix(name, "method.request.querystring."); ok {
					rt.Query = append(rt.Query, q)
				}
			}
			slices.Sort(rt.Query)
			if err := bindIntegration(p, api.ID, rt, fns); err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			if err := bindPermissions(p, rt); err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			api.Routes = append(api.Routes, rt)
		}
		sort.Slice(api.Routes, func(i, j int) bool {
			return api.Routes[i].Path+" "+api.Routes[i].Method < api.Routes[j].Path+" "+api.Routes[j].Method
		})
		if err := api.buildMux(); err != nil {
			return nil, fmt.Errorf("%s: %w", ra, err)
		}
		apis = append(apis, api)
	}
	return apis, nil
}

// lambdaInvokePath frames the function ARN in the resource of a Lambda
// integration's URI ("arn:aws:apigateway:<region>:lambda:path/...").
const (
	lambdaInvokePrefix = "path/2015-03-31/functions/"
	lambdaInvokeSuffix = "/invocations"
)

// invokedFunction is the function ARN of a Lambda integration's URI.
func invokedFunction(uri string) (string, error) {
	a, err := arn.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("integration uri %q: %w", uri, err)
	}
	fn, ok := strings.CutPrefix(a.Resource, lambdaInvokePrefix)
	if ok {
		fn, ok = strings.CutSuffix(fn, lambdaInvokeSuffix)
	}
	if a.Service != "apigateway" || a.AccountID != "lambda" || !ok || !arn.IsARN(fn) {
		return "", fmt.Errorf("integration uri %q is not a Lambda function", uri)
	}
	return fn, nil
}

func bindIntegration(p *synthread.Plan, apiID string, rt *Route, fns map[string]*Function) error {
	for _, in := range p.OfType("aws:apigateway/integration:Integration") {
		if in.Str("restApi") != apiID || in.Str("resourceId") != rt.ResourceID || in.Str("httpMethod") != rt.Method {
			continue
		}
		if in.Str("type") != "AWS_PROXY" {
			return fmt.Errorf("integration type %q is not served locally", in.Str("type"))
		}
		fnArn, err := invokedFunction(in.Str("uri"))
		if err != nil {
			return err
		}
		fn, ok := fns[fnArn]
		if !ok {
			return fmt.Errorf("integration targets %s, which is not a local function", fnArn)
		}
		rt.Function, rt.Service = fn, fn.Service
		return nil
	}
	return errors.New("no integration: API Gateway would refuse to deploy the method")
}

// bindPermissions compiles the source ARNs of the lambda Permissions that
// let API Gateway invoke the route's function.
func bindPermissions(p *synthread.Plan, rt *Route) error {
	for _, perm := range p.OfType("aws:lambda/permission:Permission") {
		f := perm.Str("function")
		if f != rt.Function.Name && f != rt.Function.ARN || perm.Str("principal") != "apigateway.amazonaws.com" {
			continue
		}
		src := perm.Str("sourceArn")
		if src == "" {
			rt.anySource = true
			continue
		}
		pat, err := arnmatch.Compile(src)
		if err != nil {
			return fmt.Errorf("%s: %w", perm, err)
		}
		rt.sources = append(rt.sources, pat)
	}
	return nil
}

// permitted reports whether a lambda Permission lets API Gateway invoke the
// route's function from sourceArn.
func (rt *Route) permitted(sourceArn string) bool {
	if rt.anySource {
		return true
	}
	for _, p := range rt.sources {
		if p.Match(sourceArn) {
			return true
		}
	}
	return false
}

// buildMux registers each route under each stage, from the route's
// marketdata.Route pattern (e.g. "POST /prod/ingest").
func (a *API) buildMux() (err error) {
	a.mux = http.NewServeMux()
	// ServeMux panics on a pattern that is malformed or conflicts with
	// another; that is the synth's error here.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("routes: %v", r)
		}
	}()
	for _, stage := range a.Stages {
		for _, rt := range a.Routes {
			a.mux.Handle(rt.Pattern("/"+stage), a.handler(stage, rt))
		}
	}
	return nil
}

// Serve listens on addr (e.g. 127.0.0.1:0) and serves the API until Close.
func (a *API) Serve(addr string, logf func(format string, args ...any)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.URL = "http://" + l.Addr().String()
	a.log = logf
	if a.log == nil {
		a.log = func(string, ...any) {}
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			a.log("serving %s: %v", a.URL, err)
		}
	}()
	return nil
}

// Close stops serving.
func (a *API) Close() {
	if a.srv != nil {
		if err := a.srv.Close(); err != nil {
			a.log("closing %s: %v", a.URL, err)
		}
	}
}

// StageURL is the invoke URL of a stage (like API Gateway's invokeUrl).
func (a *API) StageURL(stage string) string { return a.URL + "/" + stage }

// requestIDHeader carries API Gateway's request id on every answer.
const requestIDHeader = "X-Amzn-Requestid"

// message answers API Gateway's JSON error {"message": msg}.
func (a *API) message(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(map[string]string{"message": msg}); err != nil {
		a.log("writing a %d answer: %v", status, err)
	}
}

// ServeHTTP answers like API Gateway's REST API: every answer, the mux's 404
// and 405 included, carries a request id (a UUID, as API Gateway's are).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(requestIDHeader, uuid.NewString())
	a.mux.ServeHTTP(w, r)
}

// handler serves one route of one stage.
func (a *API) handler(stage string, rt *Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != rt.Method {
			// A GET pattern also matches HEAD; API Gateway would not.
			w.Header().Set("Allow", rt.Method)
			a.message(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		params := map[string]string{}
		for _, name := range rt.PathParams() {
			params[name] = r.PathValue(name)
		}
		a.serve(w, r, stage, strings.TrimPrefix(r.URL.Path, "/"+stage), rt, params)
	}
}

// serve checks a routed request as API Gateway would (size, signature, the
// function's permission) and proxies it to the function.
func (a *API) serve(w http.ResponseWriter, r *http.Request, stage, path string, rt *Route, params map[string]string) {
	reqID := w.Header().Get(requestIDHeader)
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now()
	body, err := io.ReadAll(io.LimitReader(r.Body, limits.APIMaxBodyBytes+1))
	if err != nil {
		a.message(w, http.StatusBadRequest, "Could not read the request body")
		return
	}
	if len(body) > limits.APIMaxBodyBytes {
		a.message(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		return
	}
	var accessKey string
	if rt.IAM {
		if err := VerifySigV4(r, body, naming.Region, now()); err != nil {
			a.log("%s %s: 403 %v", r.Method, r.URL.Path, err)
			a.message(w, http.StatusForbidden, err.Error())
			return
		}
		accessKey = awsx.AccessKeyID
	}
	sourceArn := arn.ARN{
		Partition: "aws", Service: "execute-api", Region: naming.Region, AccountID: awsx.Account,
		Resource: a.ID + "/" + stage + "/" + r.Method + path,
	}.String()
	if !rt.permitted(sourceArn) {
		a.log("%s %s: 500: no lambda Permission lets API Gateway invoke %s for %s", r.Method, r.URL.Path, rt.Function.Name, sourceArn)
		a.message(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	ev := a.event(r, rt, stage, path, params, body, reqID, accessKey, start)
	payload, err := json.Marshal(ev)
	if err != nil {
		a.message(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	out, err := rt.Function.Invoker.Invoke(r.Context(), payload)
	if err != nil {
		a.log("%s %s: 502: %s failed: %v", r.Method, r.URL.Path, rt.Function.Name, err)
		a.message(w, http.StatusBadGateway, "Internal server error")
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		a.log("%s %s: 502: malformed Lambda proxy response from %s: %.200s", r.Method, r.URL.Path, rt.Function.Name, out)
		a.message(w, http.StatusBadGateway, "Internal server error")
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set(requestIDHeader, reqID)
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			a.message(w, http.StatusBadGateway, "Internal server error")
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := w.Write(respBody); err != nil {
		a.log("%s %s: writing the answer: %v", r.Method, r.URL.Path, err)
	}
}

func (a *API) event(r *http.Request, rt *Route, stage, path string, params map[string]string, body []byte,
	reqID, accessKey string, at time.Time) events.APIGatewayProxyRequest {
	headers := map[string]string{}
	multi := map[string][]string{}
	for k, vs := range r.Header {
		multi[k] = vs
		headers[k] = vs[len(vs)-1]
	}
	headers["Host"], multi["Host"] = r.Host, []string{r.Host}
	var qs map[string]string
	var mqs map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		qs, mqs = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			qs[k], mqs[k] = vs[len(vs)-1], vs
		}
	}
	if len(params) == 0 {
		params = nil
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr // no port: the address as given
	}
	ident := events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()}
	if accessKey != "" {
		ident.AccessKey = accessKey
		ident.AccountID = awsx.Account
		ident.Caller = awsx.AccessKeyID
		ident.User = awsx.AccessKeyID
		ident.UserArn = "arn:aws:iam::" + awsx.Account + ":user/local"
	}
	return events.APIGatewayProxyRequest{
		Resource:                        rt.Path,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		PathParameters:                  params,
		Body:                            string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        awsx.Account,
			ResourceID:       rt.ResourceID,
			Stage:            stage,
			RequestID:        reqID,
			Identity:         ident,
			ResourcePath:     rt.Path,
			HTTPMethod:       r.Method,
			APIID:            a.ID,
			Protocol:         r.Proto,
			Path:             "/" + stage + path,
			DomainName:       r.Host,
			RequestTime:      at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: at.UnixMilli(),
		},
	}
}
