package openapi

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// generic is the written document read back without this package's types.
func generic(t *testing.T) map[string]any {
	t.Helper()
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	return doc
}

func obj(t *testing.T, v any, where string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", where, v)
	}
	return m
}

// TestDocumentHasEveryRoute: each route of the table is an operation of the
// document, on its path and method, with each of its path and query
// parameters, SigV4 security when the route is IAM, and nothing else.
func TestDocumentHasEveryRoute(t *testing.T) {
	doc := generic(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi %q, want 3.x", v)
	}
	info := obj(t, doc["info"], "info")
	if info["title"] == "" || info["version"] == "" {
		t.Errorf("info %v lacks title or version", info)
	}
	paths := obj(t, doc["paths"], "paths")
	schemes := obj(t, obj(t, doc["components"], "components")["securitySchemes"], "securitySchemes")
	var ops int
	for path, item := range paths {
		ops += len(obj(t, item, path))
	}
	if ops != len(marketdata.Routes) {
		t.Errorf("%d operations, want one per route (%d)", ops, len(marketdata.Routes))
	}
	for _, r := range marketdata.Routes {
		item, ok := paths[r.Path]
		if !ok {
			t.Errorf("%s: path missing", r)
			continue
		}
		op, ok := obj(t, item, r.Path)[strings.ToLower(r.Method)].(map[string]any)
		if !ok {
			t.Errorf("%s: method missing", r)
			continue
		}
		got := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := obj(t, p, r.String()+" parameter")
			got[pm["in"].(string)+":"+pm["name"].(string)] = true
			if pm["in"] == "path" && pm["required"] != true {
				t.Errorf("%s: path parameter %v not required", r, pm["name"])
			}
			if _, ok := pm["schema"].(map[string]any); !ok {
				t.Errorf("%s: parameter %v without a schema", r, pm["name"])
			}
		}
		want := map[string]bool{}
		for _, name := range r.PathParams() {
			want["path:"+name] = true
		}
		for _, name := range r.Query {
			want["query:"+name] = true
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: parameters %v, want %v", r, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		sec, _ := op["security"].([]any)
		if signed := len(sec) == 1 && obj(t, sec[0], "security")[sigv4] != nil; signed != r.IAM {
			t.Errorf("%s: security %v, IAM %v", r, sec, r.IAM)
		}
		responses := obj(t, op["responses"], r.String()+" responses")
		if _, ok := responses["403"]; ok != r.IAM {
			t.Errorf("%s: 403 documented %v, IAM %v", r, ok, r.IAM)
		}
		if _, ok := responses["500"]; !ok {
			t.Errorf("%s: no 500", r)
		}
		if (op["requestBody"] != nil) != (r.Method == "POST") {
			t.Errorf("%s: request body %v", r, op["requestBody"])
		}
	}
	if scheme := obj(t, schemes[sigv4], "sigv4"); scheme["x-amazon-apigateway-authtype"] != "awsSigv4" {
		t.Errorf("security scheme %v", scheme)
	}
}

// TestOperationsNameRoutes: no description is left over for a route the
// table no longer has.
func TestOperationsNameRoutes(t *testing.T) {
	var names []string
	for _, r := range marketdata.Routes {
		names = append(names, r.String())
	}
	for k := range operations {
		if !slices.Contains(names, k) {
			t.Errorf("operation %q names no route", k)
		}
	}
	if _, err := Build(append(slices.Clone(marketdata.Routes), marketdata.Route{Method: "GET", Path: "/health"})); err == nil {
		t.Error("a route without a description built")
	}
}

// TestStructureIsValid: every $ref resolves, every operation has an id
// (unique), a summary and a success answer with a schema, every path
// parameter of a template is declared, and the schemas follow the Go types
// (a field's JSON name, required unless omitempty).
func TestStructureIsValid(t *testing.T) {
	doc := generic(t)
	schemas := obj(t, obj(t, doc["components"], "components")["schemas"], "schemas")
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if _, exists := schemas[name]; !found || !exists {
					t.Errorf("%s: $ref %q resolves to nothing", where, ref)
				}
			}
			for k, c := range x {
				walk(c, where+"/"+k)
			}
		case []any:
			for _, c := range x {
				walk(c, where)
			}
		}
	}
	walk(doc, "#")
	ids := map[string]bool{}
	for path, item := range obj(t, doc["paths"], "paths") {
		for method, o := range obj(t, item, path) {
			op := obj(t, o, path+" "+method)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q empty or repeated", method, path, id)
			}
			ids[id] = true
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s %s: no summary", method, path)
			}
			var ok2xx bool
			for status, resp := range obj(t, op["responses"], "responses") {
				if !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(status) {
					t.Errorf("%s %s: status %q", method, path, status)
				}
				if obj(t, resp, status)["description"] == "" {
					t.Errorf("%s %s %s: no description", method, path, status)
				}
				ok2xx = ok2xx || strings.HasPrefix(status, "2")
			}
			if !ok2xx {
				t.Errorf("%s %s: no success answer", method, path)
			}
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				if pm := obj(t, p, "parameter"); pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s undeclared", method, path, m[1])
				}
			}
		}
	}
	agg := obj(t, schemas["Aggregate"], "Aggregate")
	props := obj(t, agg["properties"], "Aggregate properties")
	if obj(t, props["windowStart"], "windowStart")["format"] != "int64" || obj(t, props["vwap"], "vwap")["type"] != "number" {
		t.Errorf("Aggregate properties %v", props)
	}
	q := obj(t, schemas["QueryRequest"], "QueryRequest")
	if req, _ := q["required"].([]any); len(req) != 1 || req[0] != "symbols" {
		t.Errorf("QueryRequest requires %v, want only symbols", q["required"])
	}
}

// TestSymbolPatternIsValidSymbol: the documented pattern accepts exactly
// what marketdata.ValidSymbol does.
func TestSymbolPatternIsValidSymbol(t *testing.T) {
	re := regexp.MustCompile(symbolPattern)
	cases := []string{"", "A", "AAPL", "BRK.B", "BTC-USD", ".A", "A.", "-A", "A-", "aapl", "A B", strings.Repeat("A", 16), strings.Repeat("A", 17), "A..B"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "AZ09.-a _"
	for range 5000 {
		b := make([]byte, rng.IntN(19))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if re.MatchString(s) != marketdata.ValidSymbol(s) {
			t.Errorf("%q: pattern %v, ValidSymbol %v", s, re.MatchString(s), marketdata.ValidSymbol(s))
		}
	}
}

// TestVolumeIsANumber: a volume (marketdata.Decimal, a string in Go) is
// documented as the JSON number it is written as, in points and aggregates.
func TestVolumeIsANumber(t *testing.T) {
	schemas := obj(t, obj(t, generic(t)["components"], "components")["schemas"], "schemas")
	for _, name := range []string{"Point", "Aggregate"} {
		vol := obj(t, obj(t, obj(t, schemas[name], name)["properties"], name+" properties")["volume"], name+" volume")
		if vol["type"] != "number" || vol["minimum"] != 0.0 {
			t.Errorf("%s volume: %v, want a number >= 0", name, vol)
		}
	}
}
