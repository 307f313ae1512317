// Package apigw serves the REST API of the synth locally, as API Gateway
// would: the routes (resources and methods), their authorization (SigV4 for
// AWS_IAM, checked against the local credentials), the request validator's
// JSON schema model, and AWS_PROXY integrations that invoke the function with
// an API Gateway proxy event and turn its answer into the HTTP response.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/plan"
)

// Invoker runs one synchronous invocation of a function.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Function is a local function an integration can target.
type Function struct {
	Name, ARN string
	Invoker   Invoker
}

// Route is one method on one resource.
type Route struct {
	Resource      string // template, e.g. /aggregates/{symbol}
	ResourceID    string
	Method        string
	Authorization string
	Function      *Function
	// Permitted: a lambda Permission lets apigateway.amazonaws.com invoke
	// the function for this API; checked per request path.
	permissions []string
	validator   *jsonschema.Schema // body model when the validator checks bodies
	modelType   string
	segments    []string
}

// API is a local REST API.
type API struct {
	ID     string
	Name   string
	Stages []string
	Routes []*Route
	// Now is the clock used for signature expiry (time.Now when nil).
	Now func() time.Time
	srv *http.Server
	// URL is the base URL (without stage) once Serve was called.
	URL string
	log func(format string, args ...any)
}

// Load reads the REST APIs of p and binds their integrations to fns (by
// function ARN). Authorization types other than NONE and AWS_IAM, and
// integrations other than AWS_PROXY to a local function, are refused.
func Load(p *plan.Plan, fns map[string]*Function) ([]*API, error) {
	var apis []*API
	for _, ra := range p.OfType("aws:apigateway/restApi:RestApi") {
		api := &API{ID: ra.ID, Name: ra.Str("name")}
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
			rt := &Route{Resource: path, ResourceID: m.Str("resourceId"), Method: m.Str("httpMethod"), Authorization: m.Str("authorization")}
			if rt.Authorization != "NONE" && rt.Authorization != "AWS_IAM" {
				return nil, fmt.Errorf("%s: authorization %q is not served locally", m, rt.Authorization)
			}
			if err := bindIntegration(p, api.ID, rt, fns); err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			if err := bindValidator(p, api.ID, m, rt); err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			for _, perm := range p.OfType("aws:lambda/permission:Permission") {
				if f := perm.Str("function"); (f == rt.Function.Name || f == rt.Function.ARN) && perm.Str("principal") == "apigateway.amazonaws.com" {
					rt.permissions = append(rt.permissions, perm.Str("sourceArn"))
				}
			}
			rt.segments = strings.Split(strings.Trim(path, "/"), "/")
			api.Routes = append(api.Routes, rt)
		}
		sort.Slice(api.Routes, func(i, j int) bool {
			return api.Routes[i].Resource+" "+api.Routes[i].Method < api.Routes[j].Resource+" "+api.Routes[j].Method
		})
		apis = append(apis, api)
	}
	return apis, nil
}

var invokeURI = regexp.MustCompile(`^arn:aws:apigateway:[^:]+:lambda:path/2015-03-31/functions/(arn:aws:lambda:[^/]+)/invocations$`)

func bindIntegration(p *plan.Plan, apiID string, rt *Route, fns map[string]*Function) error {
	for _, in := range p.OfType("aws:apigateway/integration:Integration") {
		if in.Str("restApi") != apiID || in.Str("resourceId") != rt.ResourceID || in.Str("httpMethod") != rt.Method {
			continue
		}
		if in.Str("type") != "AWS_PROXY" {
			return fmt.Errorf("integration type %q is not served locally", in.Str("type"))
		}
		m := invokeURI.FindStringSubmatch(in.Str("uri"))
		if m == nil {
			return fmt.Errorf("integration uri %q is not a Lambda function", in.Str("uri"))
		}
		fn, ok := fns[m[1]]
		if !ok {
			return fmt.Errorf("integration targets %s, which is not a local function", m[1])
		}
		rt.Function = fn
		return nil
	}
	return errors.New("no integration: API Gateway would refuse to deploy the method")
}

func bindValidator(p *plan.Plan, apiID string, m *plan.Resource, rt *Route) error {
	vid := m.Str("requestValidatorId")
	if vid == "" {
		return nil
	}
	var v *plan.Resource
	for _, r := range p.OfType("aws:apigateway/requestValidator:RequestValidator") {
		if r.ID == vid && r.Str("restApi") == apiID {
			v = r
		}
	}
	if v == nil {
		return fmt.Errorf("unknown request validator %q", vid)
	}
	if !v.Bool("validateRequestBody") {
		return nil
	}
	for ct, x := range m.Map("requestModels") {
		name, _ := x.(string)
		model, ok := func() (*plan.Resource, bool) {
			for _, r := range p.OfType("aws:apigateway/model:Model") {
				if r.Str("restApi") == apiID && r.Str("name") == name {
					return r, true
				}
			}
			return nil, false
		}()
		if !ok {
			if name == "Empty" {
				continue
			}
			return fmt.Errorf("request model %q is not in the synth", name)
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft4
		if err := c.AddResource("model.json", strings.NewReader(model.Str("schema"))); err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		s, err := c.Compile("model.json")
		if err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		rt.validator, rt.modelType = s, ct
	}
	return nil
}

// match finds the route for a path (without stage) and method, and its
// path parameters.
func (a *API) match(method, path string) (*Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	pathFound := false
	for _, rt := range a.Routes {
		params, ok := matchSegments(rt.segments, segs)
		if !ok {
			continue
		}
		pathFound = true
		if rt.Method == method || rt.Method == "ANY" {
			return rt, params, true
		}
	}
	return nil, nil, pathFound
}

func matchSegments(tmpl, segs []string) (map[string]string, bool) {
	params := map[string]string{}
	if len(tmpl) == 1 && tmpl[0] == "" {
		return params, len(segs) == 1 && segs[0] == ""
	}
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(segs) {
				return nil, false
			}
			params[t[1:len(t)-2]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			params[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, len(tmpl) == len(segs)
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
	go a.srv.Serve(l)
	return nil
}

// Close stops serving.
func (a *API) Close() {
	if a.srv != nil {
		a.srv.Close()
	}
}

// StageURL is the invoke URL of a stage (like API Gateway's invokeUrl).
func (a *API) StageURL(stage string) string { return a.URL + "/" + stage }

func writeJSON(w http.ResponseWriter, status int, reqID string, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, status int, reqID, msg string) {
	writeJSON(w, status, reqID, map[string]string{"message": msg})
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ServeHTTP answers like API Gateway's REST API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now()
	stage, path, ok := a.splitStage(r.URL.Path)
	if !ok {
		message(w, http.StatusForbidden, reqID, ErrMissingAuth.Error())
		return
	}
	rt, params, found := a.match(r.Method, path)
	if rt == nil {
		// API Gateway answers unknown resources and methods alike.
		_ = found
		message(w, http.StatusForbidden, reqID, ErrMissingAuth.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limits.APIMaxBodyBytes+1))
	if err != nil {
		message(w, http.StatusBadRequest, reqID, "Could not read the request body")
		return
	}
	if len(body) > limits.APIMaxBodyBytes {
		message(w, http.StatusRequestEntityTooLarge, reqID, "Request Too Long")
		return
	}
	var accessKey string
	if rt.Authorization == "AWS_IAM" {
		if err := VerifySigV4(r, body, naming.Region, now()); err != nil {
			a.log("%s %s: 403 %v", r.Method, r.URL.Path, err)
			message(w, http.StatusForbidden, reqID, err.Error())
			return
		}
		accessKey = awsx.AccessKeyID
	}
	if rt.validator != nil && validates(rt.modelType, r.Header.Get("Content-Type")) {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil || rt.validator.Validate(doc) != nil {
			message(w, http.StatusBadRequest, reqID, "Invalid request body")
			return
		}
	}
	sourceArn := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", naming.Region, awsx.Account, a.ID, stage, r.Method, path)
	if !permitted(rt.permissions, sourceArn) {
		a.log("%s %s: 500: no lambda Permission lets API Gateway invoke %s for %s", r.Method, r.URL.Path, rt.Function.Name, sourceArn)
		message(w, http.StatusInternalServerError, reqID, "Internal server error")
		return
	}
	ev := a.event(r, rt, stage, path, params, body, reqID, accessKey, start)
	payload, err := json.Marshal(ev)
	if err != nil {
		message(w, http.StatusInternalServerError, reqID, "Internal server error")
		return
	}
	out, err := rt.Function.Invoker.Invoke(r.Context(), payload)
	if err != nil {
		a.log("%s %s: 502: %s failed: %v", r.Method, r.URL.Path, rt.Function.Name, err)
		message(w, http.StatusBadGateway, reqID, "Internal server error")
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		a.log("%s %s: 502: malformed Lambda proxy response from %s: %.200s", r.Method, r.URL.Path, rt.Function.Name, out)
		message(w, http.StatusBadGateway, reqID, "Internal server error")
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
	w.Header().Set("X-Amzn-Requestid", reqID)
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			message(w, http.StatusBadGateway, reqID, "Internal server error")
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

func (a *API) splitStage(p string) (stage, rest string, ok bool) {
	trimmed := strings.TrimPrefix(p, "/")
	stage, rest, _ = strings.Cut(trimmed, "/")
	for _, s := range a.Stages {
		if s == stage {
			return stage, "/" + rest, true
		}
	}
	return "", "", false
}

// validates reports whether a request's content type selects the model
// (API Gateway falls back to application/json when none is given).
func validates(modelType, contentType string) bool {
	if contentType == "" {
		return modelType == "application/json"
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, modelType)
}

func permitted(patterns []string, arn string) bool {
	for _, p := range patterns {
		if p == "" {
			return true
		}
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$"
		if ok, _ := regexp.MatchString(re, arn); ok {
			return true
		}
	}
	return false
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
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ident := events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()}
	if accessKey != "" {
		ident.AccessKey = accessKey
		ident.AccountID = awsx.Account
		ident.Caller = awsx.AccessKeyID
		ident.User = awsx.AccessKeyID
		ident.UserArn = "arn:aws:iam::" + awsx.Account + ":user/local"
	}
	return events.APIGatewayProxyRequest{
		Resource:                        rt.Resource,
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
			ResourcePath:     rt.Resource,
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
