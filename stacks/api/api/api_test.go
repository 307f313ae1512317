package api

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"

	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/mocks"
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
	typeStackRef       = "pulumi:pulumi:StackReference"
)

var tags = map[string]string{"Environment": "Production", "Project": "MarketAnalytics"}

func invokeArn(fn string) string {
	return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:" + fn + "/invocations"
}

func TestRestAPI(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	wantInput(t, api, "name", "MarketDataAPI-dev")
	wantInput(t, api, "endpointConfiguration", map[string]string{"types": "REGIONAL"})
	wantInput(t, api, "tags", tags)
	for _, absent := range []string{"body", "policy", "apiKeySource", "disableExecuteApiEndpoint"} {
		wantNoInput(t, api, absent)
	}
	if n := len(res.OfType(typeRestAPI)); n != 1 {
		t.Errorf("%d REST APIs, want 1", n)
	}
}

func TestResourcesFormThePaths(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	ingest := get(t, res, typeResource, "ingest")
	aggregates := get(t, res, typeResource, "aggregates")
	symbol := get(t, res, typeResource, "aggregates-symbol")
	tests := []struct {
		r              mocks.Resource
		part, path     string
		parentID       interface{}
		parentResource *mocks.Resource
	}{
		{ingest, "ingest", "/ingest", api.Outputs["rootResourceId"], nil},
		{aggregates, "aggregates", "/aggregates", api.Outputs["rootResourceId"], nil},
		{symbol, "{symbol}", "/aggregates/{symbol}", aggregates.ID, &aggregates},
	}
	for _, tc := range tests {
		wantInput(t, tc.r, "restApi", api.ID)
		wantInput(t, tc.r, "pathPart", tc.part)
		wantInput(t, tc.r, "parentId", tc.parentID)
		if tc.r.Outputs["path"] != tc.path {
			t.Errorf("resource %s path = %v, want %s", tc.r.Name, tc.r.Outputs["path"], tc.path)
		}
		if tc.parentResource != nil {
			wantDependsOn(t, tc.r, *tc.parentResource)
		}
	}
	if n := len(res.OfType(typeResource)); n != 3 {
		t.Errorf("%d resources, want 3", n)
	}
}

func TestRoutes(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	validator := get(t, res, typeValidator, "validate-body")
	tests := []struct {
		key, resource, method, function, sourceArn string
		parameters                                 map[string]bool
		validated                                  bool
	}{
		{"POST-ingest", "ingest", "POST", "DataIngestion-dev", "/*/POST/ingest", nil, true},
		{"GET-aggregates-symbol", "aggregates-symbol", "GET", "DataAggregator-dev", "/*/GET/aggregates/*", map[string]bool{
			"method.request.path.symbol":      true,
			"method.request.querystring.from": false,
			"method.request.querystring.to":   false,
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			resource := get(t, res, typeResource, tc.resource)
			m := get(t, res, typeMethod, tc.key)
			wantInput(t, m, "restApi", api.ID)
			wantInput(t, m, "resourceId", resource.ID)
			wantInput(t, m, "httpMethod", tc.method)
			wantInput(t, m, "authorization", "AWS_IAM")
			wantNoInput(t, m, "apiKeyRequired")
			wantNoInput(t, m, "authorizerId")
			if tc.parameters != nil {
				wantInput(t, m, "requestParameters", tc.parameters)
			} else {
				wantNoInput(t, m, "requestParameters")
			}
			if tc.validated {
				wantInput(t, m, "requestValidatorId", validator.ID)
				wantInput(t, m, "requestModels", map[string]string{"application/json": "IngestRequest"})
			} else {
				wantNoInput(t, m, "requestValidatorId")
				wantNoInput(t, m, "requestModels")
			}

			in := get(t, res, typeIntegration, tc.key+"-integration")
			wantInput(t, in, "restApi", api.ID)
			wantInput(t, in, "resourceId", resource.ID)
			wantInput(t, in, "httpMethod", tc.method)
			wantInput(t, in, "type", "AWS_PROXY")
			wantInput(t, in, "integrationHttpMethod", "POST")
			wantInput(t, in, "uri", invokeArn(tc.function))
			for _, absent := range []string{"requestTemplates", "credentials", "connectionType", "passthroughBehavior"} {
				wantNoInput(t, in, absent)
			}
			wantDependsOn(t, in, m)

			p := get(t, res, typePermission, tc.key+"-permission")
			wantInput(t, p, "action", "lambda:InvokeFunction")
			wantInput(t, p, "function", tc.function)
			wantInput(t, p, "principal", "apigateway.amazonaws.com")
			wantInput(t, p, "sourceArn", api.Outputs["executionArn"].(string)+tc.sourceArn)
			wantInput(t, p, "statementId", "AllowAPI-"+tc.key)
		})
	}
	for typ, want := range map[string]int{typeMethod: 2, typeIntegration: 2, typePermission: 2} {
		if n := len(res.OfType(typ)); n != want {
			t.Errorf("%d %s, want %d", n, typ, want)
		}
	}
}

func TestValidatorAndModel(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	v := get(t, res, typeValidator, "validate-body")
	wantInput(t, v, "restApi", api.ID)
	wantInput(t, v, "name", "validate-body")
	wantInput(t, v, "validateRequestBody", true)
	wantInput(t, v, "validateRequestParameters", false)

	m := get(t, res, typeModel, "ingest-request")
	wantInput(t, m, "restApi", api.ID)
	wantInput(t, m, "name", "IngestRequest")
	wantInput(t, m, "contentType", "application/json")
	schema, _ := input(m, "schema")
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
	api := get(t, res, typeRestAPI, "api")
	d := get(t, res, typeDeployment, "deployment")
	wantInput(t, d, "restApi", api.ID)
	wantNoInput(t, d, "stageName") // the stage is its own resource: no duplicate stage
	wantNoInput(t, d, "stageDescription")
	hash, _ := input(d, "triggers.redeployment")
	if s, _ := hash.(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(s) {
		t.Errorf("redeployment trigger = %v, want a sha256 of the definition", hash)
	}
	triggers, _ := input(d, "triggers")
	if len(triggers.(map[string]interface{})) != 1 {
		t.Errorf("triggers = %v, want only redeployment", triggers)
	}
	for _, typ := range []string{typeMethod, typeIntegration} {
		for _, r := range res.OfType(typ) {
			wantDependsOn(t, d, r)
		}
	}
	// The same program gives the same trigger: no needless redeployments.
	again := get(t, runDev(t), typeDeployment, "deployment")
	if h2, _ := input(again, "triggers.redeployment"); h2 != hash {
		t.Errorf("trigger not deterministic: %v then %v", hash, h2)
	}
}

// The trigger changes whenever anything a deployment snapshots changes.
func TestDefinitionHashFollowsTheDefinition(t *testing.T) {
	uris := []string{invokeArn("DataIngestion-dev"), invokeArn("DataAggregator-dev")}
	base, err := definitionHash(routes, uris, ingestRequestSchema)
	if err != nil {
		t.Fatal(err)
	}
	changed := func(name string, mutate func(rs []route) ([]route, []string), schema ...string) {
		t.Helper()
		rs := make([]route, len(routes))
		copy(rs, routes)
		u := append([]string{}, uris...)
		rs, u = mutate(rs)
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
		return rs, []string{uris[0], invokeArn("Other-dev")}
	})
	unchanged := func(rs []route) ([]route, []string) { return rs, nil }
	changed("model schema", unchanged, strings.Replace(ingestRequestSchema, `"required": ["points"],`, "", 1))
	changed("new route", func(rs []route) ([]route, []string) {
		return append(rs, route{path: []string{"health"}, method: "GET", service: "aggregator"}), append(uris, uris[1])
	})
}

func TestStage(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	d := get(t, res, typeDeployment, "deployment")
	s := get(t, res, typeStage, "stage")
	wantInput(t, s, "restApi", api.ID)
	wantInput(t, s, "deployment", d.ID)
	wantInput(t, s, "stageName", "prod")
	wantInput(t, s, "xrayTracingEnabled", true)
	wantInput(t, s, "tags", tags)
	wantNoInput(t, s, "accessLogSettings")
	wantNoInput(t, s, "cacheClusterEnabled")
	if n := len(res.OfType(typeStage)); n != 1 {
		t.Errorf("%d stages, want 1", n)
	}
	if n := len(res.OfType(typeLogGroup)); n != 0 {
		t.Errorf("%d log groups without accessLogging, want 0", n)
	}

	ms := get(t, res, typeMethodSettings, "all-methods")
	wantInput(t, ms, "restApi", api.ID)
	wantInput(t, ms, "stageName", "prod")
	wantInput(t, ms, "methodPath", "*/*")
	wantInput(t, ms, "settings", map[string]interface{}{
		"throttlingRateLimit":  10000,
		"throttlingBurstLimit": 5000,
		"metricsEnabled":       true,
		"loggingLevel":         "OFF",
		"dataTraceEnabled":     false,
	})
	wantDependsOn(t, ms, s)
}

func TestAccessLogging(t *testing.T) {
	res := run(t, options("dev", map[string]string{ConfigAccessLogging: "true"}))
	lg := get(t, res, typeLogGroup, "access-logs")
	wantInput(t, lg, "name", "/aws/apigateway/MarketDataAPI-dev/prod/access")
	wantInput(t, lg, "retentionInDays", 7)
	wantInput(t, lg, "tags", tags)

	s := get(t, res, typeStage, "stage")
	wantInput(t, s, "accessLogSettings.destinationArn", lg.Outputs["arn"])
	format, _ := input(s, "accessLogSettings.format")
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
	wantInput(t, get(t, res, typeMethodSettings, "all-methods"), "settings.loggingLevel", "ERROR")

	if _, err := mocks.Run(Program, options("dev", map[string]string{ConfigAccessLogging: "maybe"})); err == nil ||
		!strings.Contains(err.Error(), "config accessLogging") {
		t.Errorf("error = %v, want a config accessLogging error", err)
	}
}

func TestOutputs(t *testing.T) {
	res := runDev(t)
	api := get(t, res, typeRestAPI, "api")
	id := api.ID
	if !regexp.MustCompile(`^[a-z0-9]{10}$`).MatchString(id) {
		t.Fatalf("api id %q is not realistic", id)
	}
	want := map[string]interface{}{
		outputs.IngestURL:     "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod/ingest",
		outputs.AggregatesURL: "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod/aggregates",
		outputs.APIID:         id,
		outputs.StageName:     "prod",
		outputs.BucketName:    "market-data-dev",
		outputs.TableArn:      "arn:aws:dynamodb:us-east-1:123456789012:table/MarketDataState-dev",
	}
	if !reflect.DeepEqual(res.Outputs, want) {
		t.Errorf("outputs\n got %v\nwant %v", res.Outputs, want)
	}
}

// resourceArgs maps every type this layer registers to its provider args, so
// the test can check from the SDK itself whether the type takes tags.
var resourceArgs = map[string]interface{}{
	typeRestAPI:        apigateway.RestApiArgs{},
	typeResource:       apigateway.ResourceArgs{},
	typeMethod:         apigateway.MethodArgs{},
	typeIntegration:    apigateway.IntegrationArgs{},
	typeValidator:      apigateway.RequestValidatorArgs{},
	typeModel:          apigateway.ModelArgs{},
	typeDeployment:     apigateway.DeploymentArgs{},
	typeStage:          apigateway.StageArgs{},
	typeMethodSettings: apigateway.MethodSettingsArgs{},
	typePermission:     lambda.PermissionArgs{},
	typeLogGroup:       cloudwatch.LogGroupArgs{},
}

var nonTaggable = map[string]bool{
	typeResource: true, typeMethod: true, typeIntegration: true, typeValidator: true, typeModel: true,
	typeDeployment: true, typeMethodSettings: true, typePermission: true, typeStackRef: true,
}

func TestEveryTaggableResourceIsTagged(t *testing.T) {
	for typ, args := range resourceArgs {
		_, hasTags := reflect.TypeOf(args).FieldByName("Tags")
		if hasTags == nonTaggable[typ] {
			t.Errorf("%s: the SDK says taggable=%v but the test's list says non-taggable=%v", typ, hasTags, nonTaggable[typ])
		}
	}
	res := run(t, options("dev", map[string]string{ConfigAccessLogging: "true"}))
	tagged := 0
	for _, r := range res.Resources {
		if _, known := resourceArgs[r.Type]; !known && r.Type != typeStackRef {
			t.Errorf("resource %s %s has a type this test does not classify", r.Type, r.Name)
			continue
		}
		if nonTaggable[r.Type] {
			continue
		}
		wantInput(t, r, "tags", tags)
		tagged++
	}
	if tagged != 3 { // REST API, stage, access log group
		t.Errorf("%d tagged resources, want 3", tagged)
	}
}

// Nothing is retained or protected: the stack destroys cleanly.
func TestNothingRetained(t *testing.T) {
	res := run(t, options("dev", map[string]string{ConfigAccessLogging: "true"}))
	for _, r := range res.Resources {
		if r.Protect || r.RetainOnDelete {
			t.Errorf("%s %s: protect=%v retainOnDelete=%v", r.Type, r.Name, r.Protect, r.RetainOnDelete)
		}
		if v, ok := input(r, "skipDestroy"); ok && v == true {
			t.Errorf("%s %s sets skipDestroy", r.Type, r.Name)
		}
	}
}

func TestStackReferences(t *testing.T) {
	names := func(res *mocks.Result) []string {
		var out []string
		for _, r := range res.OfType(typeStackRef) {
			out = append(out, r.Inputs["name"].(string))
		}
		return out
	}
	res := run(t, options("staging", nil))
	if got, want := names(res), []string{"organization/market-data-storage/staging", "organization/market-data-compute/staging"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stack references = %v, want %v", got, want)
	}

	opts := options("dev", map[string]string{
		common.ConfigStorageStack: "data-team/market-data-storage/prod",
		common.ConfigComputeStack: "platform/market-data-compute/blue",
	})
	storage, compute := lowerOutputs(dev)
	opts.StackOutputs = map[string]map[string]interface{}{
		"data-team/market-data-storage/prod": storage,
		"platform/market-data-compute/blue":  compute,
	}
	res = run(t, opts)
	if got, want := names(res), []string{"data-team/market-data-storage/prod", "platform/market-data-compute/blue"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stack references = %v, want %v", got, want)
	}
}

func TestNamesAreValidForOddStacks(t *testing.T) {
	stageName := regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	tests := []struct {
		name, stack, suffix, wantAPI string
	}{
		{"upper case", "PROD", "", "MarketDataAPI-PROD"},
		{"punctuation", "feature/ABC_123.x", "", "MarketDataAPI-feature-ABC-123-x"},
		{"long", "a-very-long-stack-name-for-a-feature-branch-0123456789", "", ""},
		{"override", "dev", "Team.Blue", "MarketDataAPI-Team-Blue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{ConfigAccessLogging: "true"}
			if tc.suffix != "" {
				cfg[common.ConfigEnvironmentSuffix] = tc.suffix
			}
			res := run(t, options(tc.stack, cfg))
			api := get(t, res, typeRestAPI, "api")
			name, _ := input(api, "name")
			if tc.wantAPI != "" && name != tc.wantAPI {
				t.Errorf("api name = %v, want %s", name, tc.wantAPI)
			}
			if s, _ := name.(string); len(s) > 1024 || s == "" {
				t.Errorf("api name %q invalid", s)
			}
			stage, _ := input(get(t, res, typeStage, "stage"), "stageName")
			if !stageName.MatchString(stage.(string)) {
				t.Errorf("stage name %q invalid", stage)
			}
			lg, _ := input(get(t, res, typeLogGroup, "access-logs"), "name")
			if !regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`).MatchString(lg.(string)) {
				t.Errorf("log group name %q invalid", lg)
			}
		})
	}
}
