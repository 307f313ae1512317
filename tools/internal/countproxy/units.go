package countproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
)

// Billing granularities (AWS pricing pages; the prices are in
// tools/internal/cost): SQS bills each 64 KiB chunk of a request's payload
// as one request, EventBridge each 64 KiB chunk of an event, DynamoDB
// on-demand one write unit per item of up to 1 KiB and half a read unit per
// 4 KiB read (eventually consistent).
const (
	sqsChunk      = 64 << 10
	readUnitBytes = 4 << 10
)

// Units returns the billed units of the requests relayed so far (a
// request's are added once its whole answer is relayed), by counter: DynamoDB write
// request units (items written) and read request units (from the bytes
// answered, which slightly overstate the items' size), SQS 64 KiB request
// chunks, EventBridge events, and one per request for everything else.
func (p *Proxy) Units() map[Key]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.units)
}

// needsBodies says whether units reads the request's and the answer's
// bodies for this operation.
func needsBodies(service, op string) bool {
	switch service {
	case "dynamodb":
		return op == "BatchWriteItem" || readOps[op]
	case "sqs":
		return true
	case "events":
		return op == "PutEvents"
	}
	return false
}

var readOps = map[string]bool{"Query": true, "Scan": true, "GetItem": true, "BatchGetItem": true}

// units is the billed units of one request, from its body and its answer's
// size.
func units(service, op string, req []byte, answerBytes int64) float64 {
	switch service {
	case "dynamodb":
		switch {
		case op == "BatchWriteItem":
			var in struct {
				RequestItems map[string][]json.RawMessage
			}
			if json.Unmarshal(req, &in) != nil {
				return 1
			}
			var n int
			for _, reqs := range in.RequestItems {
				n += len(reqs)
			}
			return float64(n)
		case readOps[op]:
			return 0.5 * float64(max(1, (answerBytes+readUnitBytes-1)/readUnitBytes))
		}
	case "sqs":
		return float64(max(1, (max(int64(len(req)), answerBytes)+sqsChunk-1)/sqsChunk))
	case "events":
		if op == "PutEvents" {
			var in struct{ Entries []json.RawMessage }
			if json.Unmarshal(req, &in) == nil && len(in.Entries) > 0 {
				return float64(len(in.Entries))
			}
		}
	}
	return 1
}

// readBody returns r's body and gives r a fresh copy of it.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return b
}

// countingWriter counts the bytes of an answer.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController (which the reverse proxy flushes
// through) reach the connection's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
