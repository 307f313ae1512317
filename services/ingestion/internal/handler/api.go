package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// APIOrigin returns the origin of the points of an API request body: "api:"
// and a short SHA-256 of the body, so that a client retrying the same body
// produces the same range keys and the retry is idempotent.
func APIOrigin(body []byte) string {
	sum := sha256.Sum256(body)
	return "api:" + hex.EncodeToString(sum[:12])
}

// retryAfterSeconds is the Retry-After of a 503 answer.
const retryAfterSeconds = "1"

// API answers POST /ingest. Every outcome is a proxy response: 202 with the
// accepted count and the rejected records, 4xx for a request that can never
// succeed as sent, 503 when the queue could not take the points (retrying the
// same body is safe), 500 for anything unexpected. Responses never carry
// internal error text; the log has it, under the request id.
func (h *Handler) API(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse) {
	reqID := req.RequestContext.RequestID
	if reqID == "" {
		reqID = requestID(ctx)
	}
	log := h.log().With("requestId", reqID, "method", req.HTTPMethod, "path", req.Path)
	defer func() {
		if v := recover(); v != nil {
			_ = h.recovered(v)
			resp = apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
		}
	}()

	if route := marketdata.RouteIngest; req.HTTPMethod != route.Method {
		r := apiresp.Error(http.StatusMethodNotAllowed, "method "+req.HTTPMethod+" not allowed; use "+route.Method, reqID)
		r.Headers["Allow"] = route.Method
		return r
	}
	isCSV, msg := checkContentType(apiresp.Header(req, "Content-Type"))
	if msg != "" {
		log.Info("request refused", "status", http.StatusBadRequest, "reason", msg)
		return apiresp.Error(http.StatusBadRequest, msg, reqID)
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return apiresp.Error(http.StatusBadRequest, "body is marked base64-encoded but is not valid base64", reqID)
		}
		body = b
	}
	if len(body) > limits.APIMaxBodyBytes {
		return apiresp.Error(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("body of %d bytes exceeds the limit of %d bytes", len(body), limits.APIMaxBodyBytes), reqID)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apiresp.Error(http.StatusBadRequest, `empty body; want {"points": [...]} or a JSON array of points`, reqID)
	}

	coll := report.NewCollector(budget(h.ResponseBudget, DefaultResponseBudget))
	type indexed struct {
		p     marketdata.Point
		bar   *marketdata.Bar // the record is a bar (a bar profile's), not p
		index int64
	}
	var points []indexed
	q := req.QueryStringParameters
	parser := &parse.Parser{Now: h.now(), Options: parse.Options{Profile: q[marketdata.APIQueryProfile],
		Symbol: q[marketdata.APIQuerySymbol], TimestampUnit: q[marketdata.APIQueryTimestampUnit],
		Timeframe: q[marketdata.APIQueryTimeframe]}}
	sink := func(rec *parse.Record) error {
		switch {
		case rec.Err != nil:
			coll.Reject(rec.Index, rec.Err.Category, rec.Err.Reason)
		case rec.Bar != nil:
			b := *rec.Bar // the record is only valid during the call
			points = append(points, indexed{bar: &b, index: rec.Index})
		default:
			points = append(points, indexed{p: rec.Point, index: rec.Index})
		}
		return nil
	}
	var err error
	if isCSV {
		// The name only tells the parser the body is CSV (a vendor's
		// profile is detected from its header, or forced by ?format=).
		_, err = parser.Parse(bytes.NewReader(body), "body.csv", sink)
	} else {
		err = parser.ParseJSON(bytes.NewReader(body), sink)
	}
	var oerr *parse.ObjectError
	if errors.As(err, &oerr) {
		log.Info("request refused", "status", http.StatusBadRequest, "reason", oerr.Reason)
		return apiresp.Error(http.StatusBadRequest, oerr.Reason, reqID)
	}
	if err != nil {
		log.Error("cannot read the request body", "error", err.Error())
		return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
	}
	if len(points) == 0 && coll.Rejected == 0 {
		return apiresp.Error(http.StatusBadRequest, "the body holds no points", reqID)
	}

	origin := APIOrigin(body)
	if len(points) > 0 {
		stream, err := h.Publisher.Open(ctx, origin)
		if err != nil {
			log.Error("cannot open the queue stream", "error", err.Error())
			return apiresp.Error(http.StatusInternalServerError, "internal error", reqID)
		}
		for _, ip := range points {
			if ip.bar != nil {
				err = stream.AddBar(*ip.bar, ip.index)
			} else {
				err = stream.Add(ip.p, ip.index)
			}
			if err != nil {
				if errors.Is(err, marketdata.ErrPointTooLarge) {
					coll.Reject(ip.index, CategoryTooLarge, "record too large for a queue message")
					continue
				}
				break
			}
			coll.Accept(1)
		}
		stats, serr := stream.Close()
		if serr == nil && err != nil && !errors.Is(err, marketdata.ErrPointTooLarge) {
			serr = err
		}
		if serr != nil {
			log.Error("points could not be queued", "error", serr.Error(), "points", len(points), "sent", stats.Points)
			r := apiresp.Error(http.StatusServiceUnavailable,
				"the points could not be queued right now; retry the same request (retries are idempotent)", reqID)
			r.Headers["Retry-After"] = retryAfterSeconds
			return r
		}
		if len(stats.Failures) > 0 {
			f := stats.Failures[0]
			log.Error("the queue refused messages", "messages", len(stats.Failures), "points", stats.FailedPoints,
				"code", f.Code, "message", f.Message)
			return apiresp.Error(http.StatusInternalServerError, "internal error: the points could not be queued", reqID)
		}
		log.Info("points accepted", "origin", origin, naming.LogFieldAccepted, coll.Accepted, "rejected", coll.Rejected,
			"messages", stats.Messages, "sqsCalls", stats.Calls)
	}
	return apiresp.JSON(http.StatusAccepted, marketdata.IngestResponse{
		Accepted:      int(coll.Accepted),
		Rejected:      coll.Rejections,
		RejectedCount: int(coll.Rejected),
		RequestID:     reqID,
		Profile:       parser.Profile(),
	})
}

// checkContentType returns why ct is refused, or "": it must be
// application/json or text/csv (a vendor's CSV, or the pipeline's own), with
// at most a UTF-8 charset parameter. isCSV tells which.
func checkContentType(ct string) (isCSV bool, why string) {
	if ct == "" {
		return false, "missing Content-Type; want application/json or text/csv"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" && mt != "text/csv" {
		return false, fmt.Sprintf("unsupported Content-Type %q; want application/json or text/csv", apiresp.Clip(ct, 100))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false, fmt.Sprintf("unsupported charset %q; want utf-8", apiresp.Clip(cs, 40))
	}
	return mt == "text/csv", ""
}
