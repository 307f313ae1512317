package api

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

// registeredRoutes reads the API back from what the program registered:
// each method's path (through its resources' parents), authorization,
// request parameters, the function its integration invokes
// and the permission that lets API Gateway invoke it.
func registeredRoutes(t *testing.T, table []marketdata.Route) (got []marketdata.Route, resourcePaths []string) {
	t.Helper()
	declared := routes
	routes = fromTable(table)
	defer func() { routes = declared }()
	res := runDev(t)

	api := stacktest.Get(t, res, stacktest.TypeRestAPI, "api")
	executionArn, _ := api.Outputs["executionArn"].(string)
	paths := map[string]string{api.Outputs["rootResourceId"].(string): ""}
	resources := res.OfType(stacktest.TypeResource)
	for range resources { // parents first; one pass per level suffices
		for _, r := range resources {
			parent, _ := stacktest.Input(r, "parentId")
			part, _ := stacktest.Input(r, "pathPart")
			if p, ok := paths[fmt.Sprint(parent)]; ok {
				paths[r.ID] = p + "/" + fmt.Sprint(part)
			}
		}
	}
	for _, r := range resources {
		p, ok := paths[r.ID]
		if !ok {
			t.Fatalf("resource %s is not under the API's root", r.Name)
		}
		resourcePaths = append(resourcePaths, p)
	}
	service := map[string]string{}
	for _, s := range naming.Services {
		name, err := dev.FunctionFor(s)
		if err != nil {
			t.Fatal(err)
		}
		service[name] = s
	}

	for _, m := range res.OfType(stacktest.TypeMethod) {
		resourceID, _ := stacktest.Input(m, "resourceId")
		method, _ := stacktest.Input(m, "httpMethod")
		auth, _ := stacktest.Input(m, "authorization")
		path, ok := paths[fmt.Sprint(resourceID)]
		if !ok {
			t.Fatalf("method %s is on an unknown resource", m.Name)
		}
		r := marketdata.Route{Method: fmt.Sprint(method), Path: path, IAM: auth == authorizationIAM}
		params, _ := stacktest.Input(m, "requestParameters")
		pm, _ := params.(map[string]interface{})
		var pathParams []string
		for name, required := range pm {
			switch {
			case strings.HasPrefix(name, queryParameter) && required == false:
				r.Query = append(r.Query, strings.TrimPrefix(name, queryParameter))
			case strings.HasPrefix(name, pathParameter) && required == true:
				pathParams = append(pathParams, strings.TrimPrefix(name, pathParameter))
			default:
				t.Errorf("%s: request parameter %s (required %v) is neither an optional query parameter nor a required path parameter", r, name, required)
			}
		}
		slices.Sort(r.Query)
		slices.Sort(pathParams)
		wantParams := r.PathParams()
		slices.Sort(wantParams)
		if !slices.Equal(pathParams, wantParams) {
			t.Errorf("%s: path parameters %v, want those of the path %v", r, pathParams, wantParams)
		}
		for _, k := range []string{"requestValidatorId", "requestModels"} {
			if _, ok := stacktest.Input(m, k); ok {
				t.Errorf("%s: %s set; no route's body is checked before its function", r, k)
			}
		}

		for _, in := range res.OfType(stacktest.TypeIntegration) {
			if rid, _ := stacktest.Input(in, "resourceId"); rid != resourceID {
				continue
			}
			if hm, _ := stacktest.Input(in, "httpMethod"); hm != method {
				continue
			}
			uri, _ := stacktest.Input(in, "uri")
			for name, s := range service {
				if uri == invokeArn(name) {
					r.Service = s
				}
			}
		}
		fn, err := dev.FunctionFor(r.Service)
		if err != nil {
			t.Errorf("%s: integration invokes no service's function", r)
			continue
		}
		// The permission admits this method and path, any stage.
		arnPath := r.Path
		for _, p := range r.Parts() {
			if _, _, ok := marketdata.PathParam(p); ok {
				arnPath = strings.Replace(arnPath, p, "*", 1)
			}
		}
		wantSource := executionArn + "/*/" + r.Method + arnPath
		permitted := false
		for _, p := range res.OfType(stacktest.TypePermission) {
			f, _ := stacktest.Input(p, "function")
			src, _ := stacktest.Input(p, "sourceArn")
			permitted = permitted || f == fn && src == wantSource
		}
		if !permitted {
			t.Errorf("%s: no permission lets API Gateway invoke %s from %s", r, fn, wantSource)
		}
		got = append(got, r)
	}
	return got, resourcePaths
}

// tablePaths are the resources a table needs: every route's path and the
// paths above it, without the root.
func tablePaths(table []marketdata.Route) []string {
	var paths []string
	for _, r := range table {
		p := ""
		for _, part := range r.Parts() {
			p += "/" + part
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// The API the program registers is the shared route table, nothing more.
func TestRoutesAreTheSharedTable(t *testing.T) {
	extra := marketdata.Route{Method: "GET", Path: "/symbols/{symbol}/windows/{window}", Service: "aggregator", IAM: true, Query: []string{"interval"}}
	tables := map[string][]marketdata.Route{
		"the table":             marketdata.Routes,
		"the table and a route": append(slices.Clone(marketdata.Routes), extra),
	}
	for name, table := range tables {
		t.Run(name, func(t *testing.T) {
			got, resourcePaths := registeredRoutes(t, table)
			got, want := marketdata.Canonical(got), marketdata.Canonical(table)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("registered routes:\n%+v\nwant the table:\n%+v", got, want)
			}
			slices.Sort(resourcePaths)
			if wantPaths := tablePaths(table); !slices.Equal(resourcePaths, wantPaths) {
				t.Errorf("resources %v, want %v", resourcePaths, wantPaths)
			}
		})
	}
}

// The outputs' URLs are the routes' prefixes under the stage.
func TestRouteURLsFollowTheTable(t *testing.T) {
	res := runDev(t)
	stage := stacktest.Get(t, res, stacktest.TypeStage, "stage")
	invokeURL, _ := stage.Outputs["invokeUrl"].(string)
	for key, r := range map[string]marketdata.Route{outputs.IngestURL: marketdata.RouteIngest, outputs.AggregatesURL: marketdata.RouteAggregates} {
		if got := res.Outputs[key]; got != invokeURL+r.Prefix() {
			t.Errorf("output %s = %v, want %s", key, got, invokeURL+r.Prefix())
		}
	}
}
