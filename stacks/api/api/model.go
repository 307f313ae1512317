package api

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	modelContentType = "application/json"
	modelName        = "IngestRequest"
)

// ingestRequestSchema (JSON Schema draft-04, what API Gateway validates with)
// checks only the structure of a POST /ingest body: an object with a "points"
// array of objects (or Alpaca's "trades", ingestion profile alpaca-trades),
// or a bare array of objects. It does not check the fields
// of a point on purpose: per-record validation is the ingestion function's
// job, which stores the good records and reports each bad one with its index
// and reason, instead of the gateway rejecting the whole body for one bad
// record. "required"/"properties" apply only when the body is an object and
// "items" only when it is an array.
const ingestRequestSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "IngestRequest",
  "description": "Market data points: {\"points\": [...]}, Alpaca's {\"trades\": ...} or a bare array. Each point is checked by the ingestion function.",
  "type": ["object", "array"],
  "anyOf": [{"required": ["points"]}, {"required": ["trades"]}],
  "properties": {
    "points": {
      "type": "array",
      "items": {"type": "object"}
    },
    "trades": {"type": ["object", "array"]}
  },
  "items": {"type": "object"}
}`

// bodyValidation is the POST /ingest body check.
type bodyValidation struct {
	validator *apigateway.RequestValidator
	model     *apigateway.Model
}

// newBodyValidation creates the body validator and the ingest model.
func newBodyValidation(ctx *pulumi.Context, rest *apigateway.RestApi) (*bodyValidation, error) {
	validator, err := apigateway.NewRequestValidator(ctx, "validate-body", &apigateway.RequestValidatorArgs{
		RestApi:                   rest.ID(),
		Name:                      pulumi.String("validate-body"),
		ValidateRequestBody:       pulumi.Bool(true),
		ValidateRequestParameters: pulumi.Bool(false),
	})
	if err != nil {
		return nil, err
	}
	model, err := apigateway.NewModel(ctx, "ingest-request", &apigateway.ModelArgs{
		RestApi:     rest.ID(),
		Name:        pulumi.String(modelName),
		Description: pulumi.String("Structure of a POST /ingest body"),
		ContentType: pulumi.String(modelContentType),
		Schema:      pulumi.String(ingestRequestSchema),
	})
	if err != nil {
		return nil, err
	}
	return &bodyValidation{validator: validator, model: model}, nil
}
