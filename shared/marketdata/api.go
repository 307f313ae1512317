package marketdata

import (
	"slices"
	"strings"
)

// Routes of the REST API. The api stack creates them; the functions serve
// them (an API Gateway proxy event's "resource" is the route template and
// "pathParameters" holds its parameters).
const (
	// APIIngestResource is POST's route to the ingestion function.
	APIIngestResource = "/ingest"
	// APIAggregatesPart and APISymbolParam make up APIAggregatesResource,
	// GET's route to the aggregator.
	APIAggregatesPart = "aggregates"
	APISymbolParam    = "symbol"
	// APIAggregatesResource is "/aggregates/{symbol}".
	APIAggregatesResource = "/" + APIAggregatesPart + "/{" + APISymbolParam + "}"
	// APIQueryFrom and APIQueryTo are GET /aggregates' query parameters:
	// epoch milliseconds or RFC 3339.
	APIQueryFrom = "from"
	APIQueryTo   = "to"
	// APIQueryInterval is GET /aggregates' width parameter: a name of
	// Intervals.
	APIQueryInterval = "interval"
	// APIQueryResource is POST's route to the aggregates of many symbols
	// (body QueryRequest).
	APIQueryResource = "/query"
	// APISymbolsResource lists the symbols seen (SymbolsResponse), paged by
	// APIQueryNext and APIQueryLimit.
	APISymbolsResource = "/symbols"
	// APILatestResource is a symbol's latest point (Latest).
	APILatestResource = APISymbolsResource + "/{" + APISymbolParam + "}/latest"
	// APIQueryNext and APIQueryLimit page GET /symbols: the previous
	// answer's Next, and the most symbols to answer.
	APIQueryNext  = "next"
	APIQueryLimit = "limit"
)

// Route is one method of the REST API.
type Route struct {
	// Method is the HTTP method, e.g. "POST" (API Gateway's "ANY" is not used).
	Method string
	// Path is the resource template under the stage: '/'-separated parts,
	// path parameters in braces, e.g. "/aggregates/{symbol}" (a greedy
	// parameter ends in "+}", as API Gateway writes it).
	Path string
	// Service is the function behind the route, by its service name
	// (naming.Services).
	Service string
	// Query lists the optional query string parameters the method declares.
	Query []string
	// IAM: callers sign the request with SigV4 (API Gateway's AWS_IAM
	// authorization); otherwise the route is open (NONE).
	//
	// No route has API Gateway validate its body: a request validator parses
	// the body as JSON before the function runs and refuses one starting with
	// a UTF-8 byte order mark, which the ingestion function accepts (as it
	// does in S3 objects); the function checks every body and reports each
	// bad record, so a gateway check would only refuse more, less clearly.
	IAM bool
}

// The API's routes, by what they serve.
var (
	RouteIngest = Route{Method: "POST", Path: APIIngestResource, Service: "ingestion", IAM: true,
		Query: []string{APIQueryProfile, APIQuerySymbol, APIQueryTimestampUnit, APIQueryTimeframe}}
	RouteAggregates = Route{Method: "GET", Path: APIAggregatesResource, Service: "aggregator", IAM: true,
		Query: []string{APIQueryFrom, APIQueryTo, APIQueryInterval}}
	RouteQuery   = Route{Method: "POST", Path: APIQueryResource, Service: "aggregator", IAM: true}
	RouteSymbols = Route{Method: "GET", Path: APISymbolsResource, Service: "aggregator", IAM: true,
		Query: []string{APIQueryNext, APIQueryLimit}}
	RouteLatest = Route{Method: "GET", Path: APILatestResource, Service: "aggregator", IAM: true}
)

// Routes is the API: the api stack builds its resources, methods,
// integrations and permissions from it, the local API emulator's routes are
// tested against it, and each route's function checks requests against its
// entry. Adding a route is a line here and its handler.
// The aggregator serves every read route: it already holds the table's read
// grants and the aggregates' code.
var Routes = []Route{RouteIngest, RouteAggregates, RouteQuery, RouteSymbols, RouteLatest}

// Canonical is a copy of routes in the order of their String, each query
// list sorted: two declarations of the same API (the table and what a
// stack or a synth declares) are then equal (reflect.DeepEqual).
func Canonical(routes []Route) []Route {
	out := make([]Route, len(routes))
	for i, r := range routes {
		r.Query = slices.Sorted(slices.Values(r.Query))
		out[i] = r
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// String is the route as "METHOD /path", e.g. "GET /aggregates/{symbol}".
func (r Route) String() string { return r.Method + " " + r.Path }

// Parts are the path's parts under the root, e.g. {"aggregates", "{symbol}"};
// none for the root itself.
func (r Route) Parts() []string {
	p := strings.Trim(r.Path, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// PathParams are the names of the path's parameters, e.g. {"symbol"}.
func (r Route) PathParams() []string {
	var names []string
	for _, part := range r.Parts() {
		if name, _, ok := PathParam(part); ok {
			names = append(names, name)
		}
	}
	return names
}

// Prefix is the path up to its first parameter, e.g. "/aggregates": the
// base URL of the route's resources.
func (r Route) Prefix() string {
	var fixed []string
	for _, part := range r.Parts() {
		if _, _, ok := PathParam(part); ok {
			break
		}
		fixed = append(fixed, part)
	}
	return "/" + strings.Join(fixed, "/")
}

// Pattern is the route as a net/http.ServeMux pattern under prefix (e.g. a
// stage, "/prod"): "GET /prod/aggregates/{symbol}". A greedy parameter
// becomes "{name...}"; the root becomes "{$}" (the prefix itself with a
// trailing slash, nothing under it).
func (r Route) Pattern(prefix string) string {
	parts := r.Parts()
	if len(parts) == 0 {
		return r.Method + " " + strings.TrimSuffix(prefix, "/") + "/{$}"
	}
	for i, part := range parts {
		if name, greedy, ok := PathParam(part); ok && greedy {
			part = "{" + name + "...}"
		}
		parts[i] = part
	}
	return r.Method + " " + strings.TrimSuffix(prefix, "/") + "/" + strings.Join(parts, "/")
}

// PathParam reports whether a path part is a parameter ("{symbol}", or a
// greedy "{proxy+}" that takes the rest of the path), and its name
// ("symbol", "proxy").
func PathParam(part string) (name string, greedy, ok bool) {
	if len(part) <= 2 || !strings.HasPrefix(part, "{") || !strings.HasSuffix(part, "}") {
		return "", false, false
	}
	name = part[1 : len(part)-1]
	if n, isGreedy := strings.CutSuffix(name, "+"); isGreedy {
		return n, true, n != ""
	}
	return name, false, true
}
