package marketdata

// Routes of the REST API. The api stack creates them; the functions serve
// them (an API Gateway proxy event's "resource" is the route template and
// "pathParameters" holds its parameters).
const (
	// APIIngestResource is POST's route to the ingestion function.
	APIIngestResource = "/ingest"
	// APIAggregatesPart and APISymbolParam make up APIAggregatesResource,
	// GET's route to the aggregator: the path parts the api stack creates.
	APIAggregatesPart = "aggregates"
	APISymbolParam    = "symbol"
	// APIAggregatesResource is "/aggregates/{symbol}".
	APIAggregatesResource = "/" + APIAggregatesPart + "/{" + APISymbolParam + "}"
	// APIQueryFrom and APIQueryTo are GET /aggregates' query parameters:
	// epoch milliseconds or RFC 3339.
	APIQueryFrom = "from"
	APIQueryTo   = "to"
)
