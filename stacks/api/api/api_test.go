package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

func invokeArn(fn string) string {
	return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:" + fn + "/invocations"
}

func TestRestAPI(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	stacktest.WantInput(t, api, "name", "MarketDataAPI-dev")
	stacktest.WantInput(t, api, "endpointConfiguration", map[string]string{"types": "REGIONAL"})
	stacktest.WantInput(t, api, "tags", stacktest.Tags)
	for _, absent := range []string{"body", "policy", "apiKeySource", "disableExecuteApiEndpoint"} {
		stacktest.WantNoInput(t, api, absent)
	}
	if n := len(res.OfType(stacktest.TypeRestAPI)); n != 1 {
		t.Errorf("%d REST APIs, want 1", n)
	}
}

func TestResourcesFormThePaths(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	ingest := stacktest.Get(t, res, stacktest.TypeResource, "ingest")
	aggregates := stacktest.Get(t, res, stacktest.TypeResource, "aggregates")
	symbol := stacktest.Get(t, res, stacktest.TypeResource, "aggregates-symbol")
	query := stacktest.Get(t, res, stacktest.TypeResource, "query")
	symbols := stacktest.Get(t, res, stacktest.TypeResource, "symbols")
	symbolsSymbol := stacktest.Get(t, res, stacktest.TypeResource, "symbols-symbol")
	latest := stacktest.Get(t, res, stacktest.TypeResource, "symbols-symbol-latest")
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
	if n := len(res.OfType(stacktest.TypeResource)); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
}

func TestRoutes(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	tests := []struct {
		key, resource, method, function, sourceArn string
		parameters                                 map[string]bool
	}{
		{"POST-ingest", "ingest", "POST", "DataIngestion-dev", "/*/POST/ingest", map[string]bool{
			"method.request.querystring.format":        false,
			"method.request.querystring.symbol":        false,
			"method.request.querystring.timeframe":     false,
			"method.request.querystring.timestampUnit": false,
		}},
		{"GET-aggregates-symbol", "aggregates-symbol", "GET", "DataAggregator-dev", "/*/GET/aggregates/*", map[string]bool{
			"method.request.path.symbol":          true,
			"method.request.querystring.from":     false,
			"method.request.querystring.to":       false,
			"method.request.querystring.interval": false,
		}},
		{"POST-query", "query", "POST", "DataAggregator-dev", "/*/POST/query", nil},
		{"GET-symbols", "symbols", "GET", "DataAggregator-dev", "/*/GET/symbols", map[string]bool{
			"method.request.querystring.next":  false,
			"method.request.querystring.limit": false,
		}},
		{"GET-symbols-symbol-latest", "symbols-symbol-latest", "GET", "DataAggregator-dev", "/*/GET/symbols/*/latest", map[string]bool{
			"method.request.path.symbol": true,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			resource := stacktest.Get(t, res, stacktest.TypeResource, tc.resource)
			m := stacktest.Get(t, res, stacktest.TypeMethod, tc.key)
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
			// No body check before the function (see marketdata.Route.IAM).
			stacktest.WantNoInput(t, m, "requestValidatorId")
			stacktest.WantNoInput(t, m, "requestModels")

			in := stacktest.Get(t, res, stacktest.TypeIntegration, tc.key+"-integration")
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

			p := stacktest.Get(t, res, stacktest.TypePermission, tc.key+"-permission")
			stacktest.WantInput(t, p, "action", "lambda:InvokeFunction")
			stacktest.WantInput(t, p, "function", tc.function)
			stacktest.WantInput(t, p, "principal", "apigateway.amazonaws.com")
			stacktest.WantInput(t, p, "sourceArn", api.Outputs["executionArn"].(string)+tc.sourceArn)
			stacktest.WantInput(t, p, "statementId", "AllowAPI-"+tc.key)
		})
	}
	for typ, want := range map[string]int{stacktest.TypeMethod: len(tests), stacktest.TypeIntegration: len(tests), stacktest.TypePermission: len(tests)} {
		if n := len(res.OfType(typ)); n != want {
			t.Errorf("%d %s, want %d", n, typ, want)
		}
	}
}

// API Gateway parses no body before the function: a body starting with a
// UTF-8 byte order mark, which the function accepts, must reach it.
func TestNoBodyValidation(t *testing.T) {
	res := runDev(t)
	for _, typ := range []string{stacktest.TypeValidator, stacktest.TypeModel} {
		if n := len(res.OfType(typ)); n != 0 {
			t.Errorf("%d %s, want none", n, typ)
		}
	}
}

func TestDeployment(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	d := stacktest.Get(t, res, stacktest.TypeDeployment, "deployment")
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
	for _, typ := range []string{stacktest.TypeMethod, stacktest.TypeIntegration} {
		for _, r := range res.OfType(typ) {
			stacktest.WantDependsOn(t, d, r)
		}
	}
	// The same program gives the same trigger: no needless redeployments.
	again := stacktest.Get(t, runDev(t), stacktest.TypeDeployment, "deployment")
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
	base, err := definitionHash(routes, uris)
	if err != nil {
		t.Fatal(err)
	}
	changed := func(name string, mutate func(rs []route) ([]route, []string)) {
		t.Helper()
		rs := make([]route, len(routes))
		copy(rs, routes)
		rs, u := mutate(rs)
		if u == nil {
			u = uris
		}
		h, err := definitionHash(rs, u)
		if err != nil {
			t.Fatal(err)
		}
		if h == base {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	changed("method", func(rs []route) ([]route, []string) { rs[0].method = "PUT"; return rs, nil })
	changed("path", func(rs []route) ([]route, []string) { rs[0].path = []string{"ingest2"}; return rs, nil })
	changed("authorization", func(rs []route) ([]route, []string) { rs[0].iam = false; return rs, nil })
	changed("parameters", func(rs []route) ([]route, []string) {
		rs[1].parameters = map[string]bool{"method.request.path.symbol": true}
		return rs, nil
	})
	changed("integration", func(rs []route) ([]route, []string) {
		return rs, append([]string{uris[0], invokeArn("Other-dev")}, uris[2:]...)
	})
	changed("new route", func(rs []route) ([]route, []string) {
		return append(rs, route{path: []string{"health"}, method: "GET", service: "aggregator"}), append(uris, uris[1])
	})
}

func TestStage(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	d := stacktest.Get(t, res, stacktest.TypeDeployment, "deployment")
	s := stacktest.Get(t, res, stacktest.TypeStage, "stage")
	stacktest.WantInput(t, s, "restApi", api.ID)
	stacktest.WantInput(t, s, "deployment", d.ID)
	stacktest.WantInput(t, s, "stageName", "prod")
	stacktest.WantInput(t, s, "xrayTracingEnabled", true)
	stacktest.WantInput(t, s, "tags", stacktest.Tags)
	stacktest.WantNoInput(t, s, "cacheClusterEnabled")
	if n := len(res.OfType(stacktest.TypeStage)); n != 1 {
		t.Errorf("%d stages, want 1", n)
	}

	ms := stacktest.Get(t, res, stacktest.TypeMethodSettings, "all-methods")
	stacktest.WantInput(t, ms, "restApi", api.ID)
	stacktest.WantInput(t, ms, "stageName", "prod")
	stacktest.WantInput(t, ms, "methodPath", "*/*")
	stacktest.WantInput(t, ms, "settings", map[string]interface{}{
		"throttlingRateLimit":  10000,
		"throttlingBurstLimit": 5000,
		"metricsEnabled":       true,
		"loggingLevel":         "ERROR",
		"dataTraceEnabled":     false,
	})
	stacktest.WantDependsOn(t, ms, s)
}

// What each combination of the two logging flags registers: access logs
// (on by default) bring both log groups and ERROR execution logs; the
// account's CloudWatch role is created (by default) only when something logs.
func TestLoggingFollowsTheConfig(t *testing.T) {
	tests := []struct {
		name             string
		cfg              map[string]string
		logs, role       bool
		executionLogging string
	}{
		{"defaults", nil, true, true, "ERROR"},
		{"account role reused", map[string]string{ConfigCreateCloudWatchRole: "false"}, true, false, "ERROR"},
		{"logging off", map[string]string{ConfigAccessLogging: "false"}, false, false, "OFF"},
		{"logging off, role on", map[string]string{ConfigAccessLogging: "false", ConfigCreateCloudWatchRole: "true"}, false, false, "OFF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := stacktest.Run(t, Program, options(t, "dev", tc.cfg))
			s := stacktest.Get(t, res, stacktest.TypeStage, "stage")
			ms := stacktest.Get(t, res, stacktest.TypeMethodSettings, "all-methods")
			stacktest.WantInput(t, ms, "settings.loggingLevel", tc.executionLogging)
			for typ, want := range map[string]int{stacktest.TypeLogGroup: b2i(tc.logs) * 2, stacktest.TypeRole: b2i(tc.role),
				stacktest.TypeRolePolicyAttachment: b2i(tc.role), stacktest.TypeAccount: b2i(tc.role)} {
				if n := len(res.OfType(typ)); n != want {
					t.Errorf("%d %s, want %d", n, typ, want)
				}
			}
			if !tc.logs {
				stacktest.WantNoInput(t, s, "accessLogSettings")
				return
			}
			access := stacktest.Get(t, res, stacktest.TypeLogGroup, "access-logs")
			stacktest.WantInput(t, s, "accessLogSettings.destinationArn", access.Outputs["arn"])
			// API Gateway would create the execution log group itself,
			// without retention, if logging were on before it existed.
			stacktest.WantDependsOn(t, ms, stacktest.Get(t, res, stacktest.TypeLogGroup, "execution-logs"))
			if tc.role {
				// A stage with access logs needs the account's role set first.
				stacktest.WantDependsOn(t, s, stacktest.Get(t, res, stacktest.TypeAccount, "account"))
			}
		})
	}
	for key, bad := range map[string]string{ConfigAccessLogging: "maybe", ConfigCreateCloudWatchRole: "sometimes"} {
		if _, err := synthrec.Run(Program, options(t, "dev", map[string]string{key: bad})); err == nil ||
			!strings.Contains(err.Error(), "config "+key) {
			t.Errorf("%s=%s: error = %v, want a config %s error", key, bad, err, key)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Both log groups are the stack's: named for the suffix (the execution
// group as API Gateway names it), retained 7 days, tagged.
func TestLogGroups(t *testing.T) {
	res := runDev(t)
	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	for name, want := range map[string]string{
		"access-logs":    "/aws/apigateway/MarketDataAPI-dev/prod/access",
		"execution-logs": "API-Gateway-Execution-Logs_" + api.ID + "/prod",
	} {
		lg := stacktest.Get(t, res, stacktest.TypeLogGroup, name)
		stacktest.WantInput(t, lg, "name", want)
		stacktest.WantInput(t, lg, "retentionInDays", 7)
		stacktest.WantInput(t, lg, "tags", stacktest.Tags)
	}
	stacktest.AssertNothingRetained(t, res)
}

func TestAccessLogFormat(t *testing.T) {
	s := stacktest.Get(t, runDev(t), stacktest.TypeStage, "stage")
	format, _ := stacktest.Input(s, "accessLogSettings.format")
	var fields map[string]string
	if err := json.Unmarshal([]byte(format.(string)), &fields); err != nil {
		t.Fatalf("access log format is not one JSON object: %v", err)
	}
	for k, v := range map[string]string{"requestId": "$context.requestId", "status": "$context.status",
		"integrationError": "$context.integration.error", "error": "$context.error.message",
		"xrayTraceId": "$context.xrayTraceId"} {
		if fields[k] != v {
			t.Errorf("access log field %s = %q, want %q", k, fields[k], v)
		}
	}
	if strings.Contains(format.(string), "\n") {
		t.Error("access log format spans lines; API Gateway wants one line per request")
	}
}

// The account's CloudWatch role: assumable by API Gateway, with AWS's
// managed policy, set as the account's with resetOnDelete so that destroy
// puts the account back to no role, once the policy is attached.
func TestAccountCloudWatchRole(t *testing.T) {
	res := runDev(t)
	role := stacktest.Get(t, res, stacktest.TypeRole, "cloudwatch-role")
	stacktest.WantInput(t, role, "name", "MarketDataAPIGatewayLogs-dev")
	stacktest.WantInput(t, role, "tags", stacktest.Tags)
	for _, absent := range []string{"managedPolicyArns", "inlinePolicies", "permissionsBoundary"} {
		stacktest.WantNoInput(t, role, absent)
	}
	trust, _ := stacktest.Input(role, "assumeRolePolicy")
	stacktest.AssertPolicy(t, "trust policy", fmt.Sprint(trust),
		common.Policy{Statement: []common.Statement{{Sid: "APIGatewayAssumesRole", Effect: "Allow",
			Principal: map[string]interface{}{"Service": "apigateway.amazonaws.com"}, Action: []string{"sts:AssumeRole"}}}})

	attached := stacktest.Get(t, res, stacktest.TypeRolePolicyAttachment, "cloudwatch-role-policy")
	stacktest.WantInput(t, attached, "role", "MarketDataAPIGatewayLogs-dev")
	stacktest.WantInput(t, attached, "policyArn", "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")

	account := stacktest.Get(t, res, stacktest.TypeAccount, "account")
	stacktest.WantInput(t, account, "cloudwatchRoleArn", role.Outputs["arn"])
	stacktest.WantInput(t, account, "resetOnDelete", true)
	stacktest.WantDependsOn(t, account, attached)
	for _, absent := range []string{"throttleSettings"} {
		stacktest.WantNoInput(t, account, absent)
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
	fixture(t).EachOddStack(t, func(t *testing.T, res *synthrec.Result, sfx string) {
		api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
		stacktest.WantInput(t, api, "name", "MarketDataAPI-"+sfx)
		name, _ := stacktest.Input(api, "name")
		if s, _ := name.(string); len(s) > 1024 || s == "" {
			t.Errorf("api name %q invalid", s)
		}
		stacktest.AssertNamesMatch(t, res, stacktest.TypeStage, "stageName", stageName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeLogGroup, "name", stacktest.LogGroupName)
		stacktest.AssertNamesMatch(t, res, stacktest.TypeRole, "name", regexp.MustCompile(`^[\w+=,.@-]{1,64}$`))
	})
}
