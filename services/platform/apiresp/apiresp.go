// Package apiresp is what the services that answer API Gateway (REST API,
// Lambda proxy integration) share: JSON responses, the error body of
// marketdata.ErrorResponse, case-insensitive header lookup, and clipping of
// echoed input.
package apiresp

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// ContentType is the media type of every answer.
const ContentType = "application/json"

// internalError is the body of a 500 whose own body could not be encoded.
const internalError = `{"message":"internal error"}`

// Encode answers status with v as JSON. The headers are a fresh map, so
// callers may add to it (Allow, Retry-After).
func Encode(status int, v any) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return response(status, string(b)), nil
}

// JSON is Encode for values whose encoding cannot fail in practice: should it
// fail, the answer is a 500 with a generic message.
func JSON(status int, v any) events.APIGatewayProxyResponse {
	r, err := Encode(status, v)
	if err != nil {
		return response(http.StatusInternalServerError, internalError)
	}
	return r
}

// Error answers status with a marketdata.ErrorResponse. msg reaches the
// client: never put internal error text in it.
func Error(status int, msg, requestID string) events.APIGatewayProxyResponse {
	return JSON(status, marketdata.ErrorResponse{Message: msg, RequestID: requestID})
}

func response(status int, body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": ContentType},
		Body:       body,
	}
}

// Header returns a request header by name, case-insensitively (HTTP header
// names are, and API Gateway passes them as the client sent them), from the
// single-value map or else the first of the multi-value map's.
func Header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Clip shortens s to at most n bytes on a rune boundary, marking the cut with
// "...", so that echoed input keeps answers and records small.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	i := max(n-len(mark), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}
