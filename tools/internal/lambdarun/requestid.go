package lambdarun

import (
	"context"
	"net/http"
)

type requestIDKey struct{}

// WithRequestID makes the invocations made with ctx carry request id, as
// Lambda does for every retry of one asynchronous event (the same request
// ID each time); the emulator hands it to the function as its
// AwsRequestID. Without it, each invocation gets a new one.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id set by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// setRequestID sets the emulator's request id header.
func setRequestID(ctx context.Context, req *http.Request) {
	if id := RequestID(ctx); id != "" {
		req.Header.Set("X-Amzn-RequestId", id)
	}
}
