package api

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

const (
	typeRestAPI        = "aws:apigateway/restApi:RestApi"
	typeResource       = "aws:apigateway/resource:Resource"
	typeMethod         = "aws:apigateway/method:Method"
	typeIntegration    = "aws:apigateway/integration:Integration"
	typeValidator      = "aws:apigateway/requestValidator:RequestValidator"
	typeModel          = "aws:apigateway/model:Model"
	typeDeployment     = "aws:apigateway/deployment:Deployment"
	typeStage          = "aws:apigateway/stage:Stage"
	typeMethodSettings = "aws:apigateway/methodSettings:MethodSettings"
	typePermission     = "aws:lambda/permission:Permission"
	typeLogGroup       = "aws:cloudwatch/logGroup:LogGroup"
	typeStackRef       = stacktest.TypeStackReference
)

func invokeArn(fn string) string {
	return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:" + fn + "/invocations"
}

func TestRestAPI(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	stacktest.WantInput(t, api, "name", "MarketDataAPI-dev")
	stacktest.WantInput(t, api, "endpointConfiguration", map[string]string{"types": "REGIONAL"})
	stacktest.WantInput(t, api, "tags", stacktest.Tags)
	for _, absent := range []string{"body", "policy", "apiKeySource", "disableExecuteApiEndpoint"} {
		stacktest.WantNoInput(t, api, absent)
	}
	if n := len(res.OfType(typeRestAPI)); n != 1 {
		t.Errorf("%d REST APIs, want 1", n)
	}
}

func TestResourcesFormThePaths(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	ingest := stacktest.Get(t, res, typeResource, "ingest")
	aggregates := stacktest.Get(t, res, typeResource, "aggregates")
	symbol := stacktest.Get(t, res, typeResource, "aggregates-symbol")
	query := stacktest.Get(t, res, typeResource, "query")
	symbols := stacktest.Get(t, res, typeResource, "symbols")
	symbolsSymbol := stacktest.Get(t, res, typeResource, "symbols-symbol")
	latest := stacktest.Get(t, res, typeResource, "symbols-symbol-latest")
	tests := []struct {
		r              synthrec.Resource
		part, path     string
		parentID       interface{}
		parentResource *synthrec.Resource
	}{
		{ingest, "ingest", "/ingest", api.Outputs["rootResourceId"], nil},
		{aggregates, "aggregates", "/aggregates", api.Outputs["rootResourceId"], nil},
		{symbol, "{symbol}", "/aggregates/{symbol}", aggregates.ID, &aggregates},
		{query, "query", "/query", api.Outputs["rootResourceId"], nil},
		{symbols, "symbols", "/symbols", api.Outputs["rootResourceId"], nil},
		{symbolsSymbol, "{symbol}", "/symbols/{symbol}", symbols.ID, &symbols},
		{latest, "latest", "/symbols/{symbol}/latest", symbolsSymbol.ID, &symbolsSymbol},
	}
	for _, tc := range tests {
		stacktest.WantInput(t, tc.r, "restApi", api.ID)
		stacktest.WantInput(t, tc.r, "pathPart", tc.part)
		stacktest.WantInput(t, tc.r, "parentId", tc.parentID)
		if tc.r.Outputs["path"] != tc.path {
			t.Errorf("resource %s path = %v, want %s", tc.r.Name, tc.r.Outputs["path"], tc.path)
		}
		if tc.parentResource != nil {
			stacktest.WantDependsOn(t, tc.r, *tc.parentResource)
		}
	}
	if n := len(res.OfType(typeResource)); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
}

func TestRoutes(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	validator := stacktest.Get(t, res, typeValidator, "validate-body")
	tests := []struct {
		key, resource, method, function, sourceArn string
		parameters                                 map[string]bool
		validated                                  bool
	}{
		{"POST-ingest", "ingest", "POST", "DataIngestion-dev", "/*/POST/ingest", map[string]bool{
			"method.request.querystring.format":        false,
			"method.request.querystring.symbol":        false,
			"method.request.querystring.timestampUnit": false,
		}, true},
		{"GET-aggregates-symbol", "aggregates-symbol", "GET", "DataAggregator-dev", "/*/GET/aggregates/*", map[string]bool{
			"method.request.path.symbol":          true,
			"method.request.querystring.from":     false,
			"method.request.querystring.to":       false,
			"method.request.querystring.interval": false,
		}, false},
		{"POST-query", "query", "POST", "DataAggregator-dev", "/*/POST/query", nil, false},
		{"GET-symbols", "symbols", "GET", "DataAggregator-dev", "/*/GET/symbols", map[string]bool{
			"method.request.querystring.next":  false,
			"method.request.querystring.limit": false,
		}, false},
		{"GET-symbols-symbol-latest", "symbols-symbol-latest", "GET", "DataAggregator-dev", "/*/GET/symbols/*/latest", map[string]bool{
			"method.request.path.symbol": true,
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			resource := stacktest.Get(t, res, typeResource, tc.resource)
			m := stacktest.Get(t, res, typeMethod, tc.key)
			stacktest.WantInput(t, m, "restApi", api.ID)
			stacktest.WantInput(t, m, "resourceId", resource.ID)
			stacktest.WantInput(t, m, "httpMethod", tc.method)
			stacktest.WantInput(t, m, "authorization", "AWS_IAM")
			stacktest.WantNoInput(t, m, "apiKeyRequired")
			stacktest.WantNoInput(t, m, "authorizerId")
			if tc.parameters != nil {
				stacktest.WantInput(t, m, "requestParameters", tc.parameters)
			} else {
				stacktest.WantNoInput(t, m, "requestParameters")
			}
			if tc.validated {
				stacktest.WantInput(t, m, "requestValidatorId", validator.ID)
				stacktest.WantInput(t, m, "requestModels", map[string]string{"application/json": "IngestRequest"})
			} else {
				stacktest.WantNoInput(t, m, "requestValidatorId")
				stacktest.WantNoInput(t, m, "requestModels")
			}

			in := stacktest.Get(t, res, typeIntegration, tc.key+"-integration")
			stacktest.WantInput(t, in, "restApi", api.ID)
			stacktest.WantInput(t, in, "resourceId", resource.ID)
			stacktest.WantInput(t, in, "httpMethod", tc.method)
			stacktest.WantInput(t, in, "type", "AWS_PROXY")
			stacktest.WantInput(t, in, "integrationHttpMethod", "POST")
			stacktest.WantInput(t, in, "uri", invokeArn(tc.function))
			for _, absent := range []string{"requestTemplates", "credentials", "connectionType", "passthroughBehavior"} {
				stacktest.WantNoInput(t, in, absent)
			}
			stacktest.WantDependsOn(t, in, m)

			p := stacktest.Get(t, res, typePermission, tc.key+"-permission")
			stacktest.WantInput(t, p, "action", "lambda:InvokeFunction")
			stacktest.WantInput(t, p, "function", tc.function)
			stacktest.WantInput(t, p, "principal", "apigateway.amazonaws.com")
			stacktest.WantInput(t, p, "sourceArn", api.Outputs["executionArn"].(string)+tc.sourceArn)
			stacktest.WantInput(t, p, "statementId", "AllowAPI-"+tc.key)
		})
	}
	for typ, want := range map[string]int{typeMethod: len(tests), typeIntegration: len(tests), typePermission: len(tests)} {
		if n := len(res.OfType(typ)); n != want {
			t.Errorf("%d %s, want %d", n, typ, want)
		}
	}
}

func TestValidatorAndModel(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	v := stacktest.Get(t, res, typeValidator, "validate-body")
	stacktest.WantInput(t, v, "restApi", api.ID)
	stacktest.WantInput(t, v, "name", "validate-body")
	stacktest.WantInput(t, v, "validateRequestBody", true)
	stacktest.WantInput(t, v, "validateRequestParameters", false)

	m := stacktest.Get(t, res, typeModel, "ingest-request")
	stacktest.WantInput(t, m, "restApi", api.ID)
	stacktest.WantInput(t, m, "name", "IngestRequest")
	stacktest.WantInput(t, m, "contentType", "application/json")
	schema, _ := stacktest.Input(m, "schema")
	var doc map[string]interface{}
	if err := json.Unmarshal([]byte(schema.(string)), &doc); err != nil {
		t.Fatalf("model schema is not JSON: %v", err)
	}
	if doc["$schema"] != "http://json-schema.org/draft-04/schema#" {
		t.Errorf("model $schema = %v, want draft-04", doc["$schema"])
	}
}

func TestDeployment(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	d := stacktest.Get(t, res, typeDeployment, "deployment")
	stacktest.WantInput(t, d, "restApi", api.ID)
	stacktest.WantNoInput(t, d, "stageName") // the stage is its own resource: no duplicate stage
	stacktest.WantNoInput(t, d, "stageDescription")
	hash, _ := stacktest.Input(d, "triggers.redeployment")
	if s, _ := hash.(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(s) {
		t.Errorf("redeployment trigger = %v, want a sha256 of the definition", hash)
	}
	triggers, _ := stacktest.Input(d, "triggers")
	if len(triggers.(map[string]interface{})) != 1 {
		t.Errorf("triggers = %v, want only redeployment", triggers)
	}
	for _, typ := range []string{typeMethod, typeIntegration} {
		for _, r := range res.OfType(typ) {
			stacktest.WantDependsOn(t, d, r)
		}
	}
	// The same program gives the same trigger: no needless redeployments.
	again := stacktest.Get(t, runDev(t), typeDeployment, "deployment")
	if h2, _ := stacktest.Input(again, "triggers.redeployment"); h2 != hash {
		t.Errorf("trigger not deterministic: %v then %v", hash, h2)
	}
}

// The trigger changes whenever anything a deployment snapshots changes.
func TestDefinitionHashFollowsTheDefinition(t *testing.T) {
	// One URI per route, in routes order, as the program resolves them.
	fn := map[string]string{"ingestion": "DataIngestion-dev", "aggregator": "DataAggregator-dev"}
	uris := make([]string, len(routes))
	for i, r := range routes {
		uris[i] = invokeArn(fn[r.service])
	}
	base, err := definitionHash(routes, uris, ingestRequestSchema)
	if err != nil {
		t.Fatal(err)
	}
	changed := func(name string, mutate func(rs []route) ([]route, []string), schema ...string) {
		t.Helper()
		rs := make([]route, len(routes))
		copy(rs, routes)
		rs, u := mutate(rs)
		if u == nil {
			u = uris
		}
		sch := ingestRequestSchema
		if len(schema) > 0 {
			sch = schema[0]
		}
		h, err := definitionHash(rs, u, sch)
		if err != nil {
			t.Fatal(err)
		}
		if h == base {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	changed("method", func(rs []route) ([]route, []string) { rs[0].method = "PUT"; return rs, nil })
	changed("path", func(rs []route) ([]route, []string) { rs[0].path = []string{"ingest2"}; return rs, nil })
	changed("validation", func(rs []route) ([]route, []string) { rs[0].validateBody = false; return rs, nil })
	changed("parameters", func(rs []route) ([]route, []string) {
		rs[1].parameters = map[string]bool{"method.request.path.symbol": true}
		return rs, nil
	})
	changed("integration", func(rs []route) ([]route, []string) {
		return rs, append([]string{uris[0], invokeArn("Other-dev")}, uris[2:]...)
	})
	unchanged := func(rs []route) ([]route, []string) { return rs, nil }
	changed("model schema", unchanged, strings.Replace(ingestRequestSchema, `"anyOf": [{"required": ["points"]}, {"required": ["trades"]}],`, "", 1))
	changed("new route", func(rs []route) ([]route, []string) {
		return append(rs, route{path: []string{"health"}, method: "GET", service: "aggregator"}), append(uris, uris[1])
	})
}

func TestStage(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, typeRestAPI, "api")
	d := stacktest.Get(t, res, typeDeployment, "deployment")
	s := stacktest.Get(t, res, typeStage, "stage")
	stacktest.WantInput(t, s, "restApi", api.ID)
	stacktest.WantInput(t, s, "deployment", d.ID)
	stacktest.WantInput(t, s, "stageName", "prod")
	stacktest.WantInput(t, s, "xrayTracingEnabled", true)
	stacktest.WantInput(t, s, "tags", stacktest.Tags)
	stacktest.WantNoInput(t, s, "accessLogSettings")
	stacktest.WantNoInput(t, s, "cacheClusterEnabled")
	if n := len(res.OfType(typeStage)); n != 1 {
		t.Errorf("%d stages, want 1", n)
	}
	if n := len(res.OfType(typeLogGroup)); n != 0 {
		t.Errorf("%d log groups without accessLogging, want 0", n)
	}

	ms := stacktest.Get(t, res, typeMethodSettings, "all-methods")
	stacktest.WantInput(t, ms, "restApi", api.ID)
	stacktest.WantInput(t, ms, "stageName", "prod")
	stacktest.WantInput(t, ms, "methodPath", "*/*")
	stacktest.WantInput(t, ms, "settings", map[string]interface{}{
		"throttlingRateLimit":  10000,
		"throttlingBurstLimit": 5000,
		"metricsEnabled":       true,
		"loggingLevel":         "OFF",
		"dataTraceEnabled":     false,
	})
	stacktest.WantDependsOn(t, ms, s)
}

func TestAccessLogging(t *testing.T) {
	res := stacktest.Run(t, Program, options(t, "dev", map[string]string{ConfigAccessLogging: "true"}))
	lg := stacktest.Get(t, res, typeLogGroup, "access-logs")
	stacktest.WantInput(t, lg, "name", "/aws/apigateway/MarketDataAPI-dev/prod/access")
	stacktest.WantInput(t, lg, "retentionInDays", 7)
	stacktest.WantInput(t, lg, "tags", stacktest.Tags)

	s := stacktest.Get(t, res, typeStage, "stage")
	stacktest.WantInput(t, s, "accessLogSettings.destinationArn", lg.Outputs["arn"])
	format, _ := stacktest.Input(s, "accessLogSettings.format")
	var fields map[string]string
	if err := json.Unmarshal([]byte(format.(string)), &fields); err != nil {
		t.Fatalf("access log format is not one JSON object: %v", err)
	}
	for k, v := range map[string]string{"requestId": "$context.requestId", "status": "$context.status",
		"integrationError": "$context.integration.error", "xrayTraceId": "$context.xrayTraceId"} {
		if fields[k] != v {
			t.Errorf("access log field %s = %q, want %q", k, fields[k], v)
		}
	}
	if strings.Contains(format.(string), "\n") {
		t.Error("access log format spans lines; API Gateway wants one line per request")
	}
	stacktest.WantInput(t, stacktest.Get(t, res, typeMethodSettings, "all-methods"), "settings.loggingLevel", "ERROR")

	if _, err := synthrec.Run(Program, options(t, "dev", map[string]string{ConfigAccessLogging: "maybe"})); err == nil ||
		!strings.Contains(err.Error(), "config accessLogging") {
		t.Errorf("error = %v, want a config accessLogging error", err)
	}
}

func TestStackReferences(t *testing.T) {
	res := stacktest.Run(t, Program, options(t, "staging", nil))
	want := []string{"organization/market-data-compute/staging", "organization/market-data-storage/staging"}
	if got := stacktest.StackReferences(res); !reflect.DeepEqual(got, want) {
		t.Errorf("stack references = %v, want %v", got, want)
	}

	opts := options(t, "dev", map[string]string{
		common.ConfigStorageStack: "data-team/market-data-storage/prod",
		common.ConfigComputeStack: "platform/market-data-compute/blue",
	})
	outs := stacktest.LowerOutputs(t, "dev", "", lower(t)...)
	opts.StackOutputs = map[string]map[string]interface{}{
		"data-team/market-data-storage/prod": outs[naming.ProjectStorage],
		"platform/market-data-compute/blue":  outs[naming.ProjectCompute],
	}
	res = stacktest.Run(t, Program, opts)
	want = []string{"data-team/market-data-storage/prod", "platform/market-data-compute/blue"}
	if got := stacktest.StackReferences(res); !reflect.DeepEqual(got, want) {
		t.Errorf("stack references = %v, want %v", got, want)
	}
}

func TestNamesAreValidForOddStacks(t *testing.T) {
	stageName := regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	logging := fixture(t)
	logging.Layer.Config = map[string]string{ConfigAccessLogging: "true"}
	logging.EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		api := stacktest.Get(t, res, typeRestAPI, "api")
		stacktest.WantInput(t, api, "name", "MarketDataAPI-"+sfx)
		name, _ := stacktest.Input(api, "name")
		if s, _ := name.(string); len(s) > 1024 || s == "" {
			t.Errorf("api name %q invalid", s)
		}
		stacktest.AssertNamesMatch(t, res, typeStage, "stageName", stageName)
		stacktest.AssertNamesMatch(t, res, typeLogGroup, "name", stacktest.LogGroupName)
	})
}
