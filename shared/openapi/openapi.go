// Package openapi generates the API's OpenAPI 3 document from the route table
// (marketdata.Routes) and the Go types of its bodies, so the document cannot
// drift from what the api stack deploys, the local emulator serves and the
// functions answer. It is served nowhere: `go run mage.go synth` writes it to
// build/openapi.json for readers and client generators.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Version is the OpenAPI version the document follows.
const Version = "3.0.3"

// Document is an OpenAPI 3 document (the parts this API uses).
type Document struct {
	OpenAPI    string              `json:"openapi"`
	Info       Info                `json:"info"`
	Paths      map[string]PathItem `json:"paths"`
	Components Components          `json:"components"`
	// Security applies SigV4 to every operation that does not override it.
	Security []map[string][]string `json:"security,omitempty"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// PathItem holds a path's operations by lower-case method.
type PathItem map[string]*Operation

// Operation is one method of a path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Parameters  []Parameter           `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]Response   `json:"responses"`
	Security    []map[string][]string `json:"security"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is an operation's JSON body.
type RequestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]MediaType `json:"content"`
}

// Response is one status of an operation.
type Response struct {
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// MediaType holds a body's schema.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Schema is an OpenAPI 3.0 schema object (the parts used here).
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Description          string             `json:"description,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	MinItems             *int               `json:"minItems,omitempty"`
	MaxItems             *int               `json:"maxItems,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	AdditionalProperties *bool              `json:"additionalProperties,omitempty"`
	OneOf                []*Schema          `json:"oneOf,omitempty"`
}

// Components holds the named schemas and the security scheme.
type Components struct {
	Schemas         map[string]*Schema        `json:"schemas"`
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes"`
}

// SecurityScheme is API Gateway's AWS_IAM authorization: a SigV4-signed
// request (the extension is how API Gateway's own OpenAPI export names it).
type SecurityScheme struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	In       string `json:"in"`
	AuthType string `json:"x-amazon-apigateway-authtype"`
}

// sigv4 is the security scheme's name.
const sigv4 = "sigv4"

// operation is what the document says of a route beyond the table: its
// summary, bodies and the statuses it answers besides 200 (every route
// answers 403 unsigned when IAM, and 500).
type operation struct {
	summary  string
	request  any // a value of the body's type; nil for none
	status   int // the success status
	response any // a value of the success body's type
	errors   []int
}

// operations describe each route of marketdata.Routes, by its String; a
// test fails when a route lacks one or one names no route.
var operations = map[string]operation{
	marketdata.RouteIngest.String(): {
		summary: "Ingest market data points ({\"points\": [...]} or a bare array of points, or text/csv).",
		request: ingestBody{}, status: http.StatusAccepted, response: marketdata.IngestResponse{},
		errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge},
	},
	marketdata.RouteAggregates.String(): {
		summary:  "A symbol's aggregates whose buckets overlap [from, to), each bucket whole, at the interval (the stored 5-minute windows, or merged on read into 15m, 1h or 1d buckets aligned to UTC).",
		status:   http.StatusOK,
		response: []marketdata.Aggregate{},
		errors:   []int{http.StatusBadRequest, http.StatusNotFound},
	},
	marketdata.RouteQuery.String(): {
		summary: fmt.Sprintf("The aggregates of up to %d symbols in one call, as GET /aggregates answers each; an answer carries at most \"limit\" aggregates (%d by default) and a \"next\" token for the rest.",
			limits.QueryMaxSymbols, limits.QueryMaxAggregates),
		request: marketdata.QueryRequest{}, status: http.StatusOK, response: marketdata.QueryResponse{},
		errors: []int{http.StatusBadRequest},
	},
	marketdata.RouteSymbols.String(): {
		summary:  "Every symbol seen, in symbol order, with its latest price and time, a page at a time.",
		status:   http.StatusOK,
		response: marketdata.SymbolsResponse{},
		errors:   []int{http.StatusBadRequest},
	},
	marketdata.RouteLatest.String(): {
		summary:  "A symbol's latest point.",
		status:   http.StatusOK,
		response: marketdata.Latest{},
		errors:   []int{http.StatusBadRequest, http.StatusNotFound},
	},
}

// ingestBody documents POST /ingest's JSON body (API Gateway checks no body:
// the function checks it and each point).
type ingestBody struct {
	Points []marketdata.Point `json:"points"`
}

// parameterDocs describe the parameters by name.
var parameterDocs = map[string]string{
	marketdata.APISymbolParam:   "An upper-case ticker such as AAPL, BRK.B or BTC-USD.",
	marketdata.APIQueryFrom:     "Start of the range: epoch milliseconds or RFC 3339. Default: a day before to.",
	marketdata.APIQueryTo:       "End of the range (exclusive): epoch milliseconds or RFC 3339. Default: now.",
	marketdata.APIQueryInterval: "Bucket width. Default: " + marketdata.DefaultInterval.Name + ".",
	marketdata.APIQueryNext:     "The previous answer's next.",
	marketdata.APIQueryLimit:    fmt.Sprintf("Most symbols to answer, 1 to %d (the default).", limits.DynamoBatchGetItems),
}

// Build returns the document of routes.
func Build(routes []marketdata.Route) (*Document, error) {
	doc := &Document{
		OpenAPI: Version,
		Info: Info{Title: "Market data pipeline API", Version: "1",
			Description: "Every route is signed with AWS SigV4 (API Gateway's AWS_IAM authorization); errors are an ErrorResponse."},
		Paths: map[string]PathItem{},
		Components: Components{
			Schemas:         map[string]*Schema{},
			SecuritySchemes: map[string]SecurityScheme{sigv4: {Type: "apiKey", Name: "Authorization", In: "header", AuthType: "awsSigv4"}},
		},
		Security: []map[string][]string{{sigv4: {}}},
	}
	g := generator{schemas: doc.Components.Schemas}
	errRef := g.schema(reflect.TypeFor[marketdata.ErrorResponse]())
	for _, r := range routes {
		op, ok := operations[r.String()]
		if !ok {
			return nil, fmt.Errorf("route %s has no description in package openapi", r)
		}
		o := &Operation{
			OperationID: operationID(r),
			Summary:     op.summary,
			Responses:   map[string]Response{},
			Security:    []map[string][]string{},
		}
		if r.IAM {
			o.Security = []map[string][]string{{sigv4: {}}}
			o.Responses["403"] = Response{Description: "The request is not signed, or its signature is refused (API Gateway's answer).",
				Content: map[string]MediaType{"application/json": {Schema: &Schema{Type: "object"}}}}
		}
		for _, name := range r.PathParams() {
			o.Parameters = append(o.Parameters, Parameter{Name: name, In: "path", Required: true, Description: parameterDocs[name], Schema: paramSchema(name)})
		}
		for _, name := range r.Query {
			o.Parameters = append(o.Parameters, Parameter{Name: name, In: "query", Description: parameterDocs[name], Schema: paramSchema(name)})
		}
		if op.request != nil {
			o.RequestBody = &RequestBody{Required: true, Content: map[string]MediaType{"application/json": {Schema: g.schema(reflect.TypeOf(op.request))}}}
		}
		o.Responses[fmt.Sprint(op.status)] = Response{Description: http.StatusText(op.status),
			Content: map[string]MediaType{"application/json": {Schema: g.schema(reflect.TypeOf(op.response))}}}
		for _, st := range append(slices.Clone(op.errors), http.StatusInternalServerError) {
			o.Responses[fmt.Sprint(st)] = Response{Description: http.StatusText(st), Content: map[string]MediaType{"application/json": {Schema: errRef}}}
		}
		item := doc.Paths[r.Path]
		if item == nil {
			item = PathItem{}
			doc.Paths[r.Path] = item
		}
		method := strings.ToLower(r.Method)
		if item[method] != nil {
			return nil, fmt.Errorf("route %s twice", r)
		}
		item[method] = o
	}
	return doc, nil
}

// JSON is the document of marketdata.Routes, indented.
func JSON() ([]byte, error) {
	doc, err := Build(marketdata.Routes)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// operationID is a route's operation id, e.g. "getAggregatesSymbol".
func operationID(r marketdata.Route) string {
	id := strings.ToLower(r.Method)
	for _, part := range r.Parts() {
		if name, _, ok := marketdata.PathParam(part); ok {
			part = name
		}
		for w := range strings.FieldsFuncSeq(part, func(c rune) bool { return c == '-' || c == '.' || c == '_' }) {
			id += strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return id
}

// paramSchema is a parameter's schema: the symbol's pattern, the intervals'
// names, or a string.
func paramSchema(name string) *Schema {
	switch name {
	case marketdata.APISymbolParam:
		return &Schema{Type: "string", Pattern: symbolPattern}
	case marketdata.APIQueryInterval:
		return &Schema{Type: "string", Enum: marketdata.IntervalNames()}
	case marketdata.APIQueryLimit:
		lo, hi := 1.0, float64(limits.DynamoBatchGetItems)
		return &Schema{Type: "integer", Minimum: &lo, Maximum: &hi}
	}
	return &Schema{Type: "string"}
}

// symbolPattern is marketdata.ValidSymbol as a regular expression (a test
// checks them against each other).
var symbolPattern = fmt.Sprintf(`^[A-Z0-9]([A-Z0-9.\-]{0,%d}[A-Z0-9])?$`, limits.MaxSymbolLen-2)

// generator turns Go types into schemas, named structs into components.
type generator struct{ schemas map[string]*Schema }

func (g generator) schema(t reflect.Type) *Schema {
	if t == reflect.TypeFor[marketdata.Decimal]() {
		// A JSON number with its exact digits (MarshalJSON), not its Go
		// kind's string.
		zero := 0.0
		return &Schema{Type: "number", Minimum: &zero}
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Int64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Float64:
		return &Schema{Type: "number", Format: "double"}
	case reflect.Slice:
		return &Schema{Type: "array", Items: g.schema(t.Elem())}
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Struct:
		name := t.Name()
		if name == "ingestBody" {
			name = "IngestRequest"
		}
		ref := &Schema{Ref: "#/components/schemas/" + name}
		if _, done := g.schemas[name]; done {
			return ref
		}
		s := &Schema{Type: "object", Properties: map[string]*Schema{}}
		g.schemas[name] = s // before the fields: a recursive type refers to itself
		g.fields(t, s)
		return ref
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// fields adds t's JSON fields to s (embedded structs' fields inline);
// fields without omitempty are required.
func (g generator) fields(t reflect.Type, s *Schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if f.Type == reflect.TypeFor[*marketdata.PriceTexts]() {
			// The queue message's exact price texts; the API reads a
			// price's digits from the JSON number itself.
			continue
		}
		if f.Anonymous && name == "" {
			g.fields(f.Type, s)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.Properties[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") {
			s.Required = append(s.Required, name)
		}
	}
	if t.Name() == "QueryRequest" {
		lo, hi := 1, limits.QueryMaxSymbols
		sym := s.Properties["symbols"]
		sym.MinItems, sym.MaxItems = &lo, &hi
		s.Properties["interval"].Enum = marketdata.IntervalNames()
	}
}
