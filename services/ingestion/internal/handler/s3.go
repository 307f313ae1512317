package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/parse"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/queue"
	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// Reason categories the handler adds to the parser's.
const (
	CategoryNotQueued = "not queued"
	CategoryTooLarge  = "record too large"
)

// Object-level error categories the handler adds to the parser's.
const (
	ObjectGone = "object gone"
)

// leaseMargin is added to the invocation deadline to form the claim's lease.
const leaseMargin = 10 * time.Second

// defaultLease is the lease without a deadline in ctx (Lambda's maximum
// timeout).
const defaultLease = 15 * time.Minute

// S3Event ingests every object an S3 notification names. Objects are
// independent: all are tried, and the error (which makes Lambda retry the
// event) joins the failures worth a retry. Finished objects are recognised
// on a retry and not queued again.
func (h *Handler) S3Event(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for i, rec := range ev.Records {
		if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			h.log().Info("event record ignored: not ObjectCreated", "record", i, "eventName", rec.EventName)
			continue
		}
		// S3 URL-encodes keys in notifications, with '+' for a space.
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			h.log().Error("event record ignored: malformed object key", "record", i, "key", rec.S3.Object.Key, "error", err.Error())
			continue
		}
		o := report.Object{Bucket: rec.S3.Bucket.Name, Key: key, VersionID: rec.S3.Object.VersionID, ETag: strings.Trim(rec.S3.Object.ETag, `"`)}
		if o.Bucket == "" || o.Key == "" || o.ContentID() == "" {
			h.log().Error("event record ignored: no bucket, key, or version/ETag", "record", i, "bucket", o.Bucket, "key", o.Key)
			continue
		}
		if err := h.IngestObject(ctx, o); err != nil {
			errs = append(errs, fmt.Errorf("s3://%s/%s: %w", o.Bucket, o.Key, err))
		}
	}
	return errors.Join(errs...)
}

// IngestObject ingests one object content once: it claims the report item
// of its key and content (report.Object.ContentID), streams the object through the parser into the queue, and
// writes the final report.
//
// A re-delivered event for a COMPLETED, REJECTED or FAILED version is a no-op. An
// error return (S3, SQS or DynamoDB unavailable) leaves the report
// IN_PROGRESS: Lambda's retry of this invocation has the same request id,
// reclaims it and sends the object again from its start. Points sent twice
// get the same range keys (AppendSortKey of origin and position), so the
// processor's second write of each overwrites the first: re-sending is safe.
func (h *Handler) IngestObject(ctx context.Context, o report.Object) (err error) {
	log := h.log().With("bucket", o.Bucket, "key", o.Key, "version", o.VersionID, "eTag", o.ETag)
	defer func() {
		if v := recover(); v != nil {
			err = h.recovered(v)
		}
	}()
	owner := requestID(ctx)
	started := h.now()
	lease := started.Add(defaultLease)
	if d, ok := ctx.Deadline(); ok {
		lease = d.Add(leaseMargin)
	}
	claim, err := h.Reports.Claim(ctx, o, owner, started, lease)
	if err != nil {
		log.Error("cannot claim the ingestion report", "error", err.Error())
		return err
	}
	if !claim.Claimed {
		if claim.Status == report.InProgress {
			log.Info("object version is being ingested by another invocation; skipped",
				"owner", claim.Owner, "leaseUntil", claim.LeaseUntil.UTC().Format(time.RFC3339))
			return nil
		}
		if claim.VersionID != "" && o.VersionID != "" && claim.VersionID != o.VersionID {
			log.Info("identical content re-uploaded under the same key: already ingested from an earlier version; nothing queued",
				"ingestedVersion", claim.VersionID, "status", string(claim.Status), "finishedAt", claim.FinishedAt)
		} else {
			log.Info("duplicate delivery of an ingested object version; nothing queued",
				"status", string(claim.Status), "finishedAt", claim.FinishedAt)
		}
		if err := h.Reports.NoteRedelivery(ctx, o); err != nil {
			log.Warn("cannot count the redelivery", "error", err.Error())
		}
		return nil
	}
	if claim.Attempts > 1 {
		log.Info("resuming an unfinished ingestion from the start (idempotent)", "attempt", claim.Attempts)
	}

	res, err := h.ingest(ctx, o, log)
	if err != nil {
		log.Error("ingestion interrupted; Lambda will retry the event", "error", err.Error())
		return err
	}
	finished := h.now()
	if err := h.Reports.Finish(ctx, o, owner, claim.Attempts, started, finished, res); err != nil {
		if errors.Is(err, report.ErrLostClaim) {
			log.Warn("another invocation took the object over; its report stands", "error", err.Error())
			return nil
		}
		log.Error("cannot write the ingestion report", "error", err.Error())
		return err
	}
	h.emitObjectMetrics(res.Status)
	c := res.Collector
	attrs := []any{"status", string(res.Status), "format", res.Format, "profile", res.Profile, "compressed", res.Compressed,
		"records", c.Accepted + c.Rejected, naming.LogFieldAccepted, c.Accepted, "rejected", c.Rejected,
		"messages", res.Messages, "messageBytes", res.MessageBytes, "sqsCalls", res.SQSCalls,
		"objectBytes", res.ObjectBytes, "dataBytes", res.DataBytes, "ms", finished.Sub(started).Milliseconds()}
	if len(c.Units) > 0 {
		attrs = append(attrs, "timestampUnits", c.Units)
	}
	if len(res.IgnoredColumns) > 0 {
		attrs = append(attrs, "ignoredColumns", res.IgnoredColumns)
	}
	if res.ArchivedFile != "" {
		attrs = append(attrs, "archivedFile", res.ArchivedFile)
	}
	if len(c.Reasons) > 0 {
		reasons := map[string]int64{}
		for k, v := range c.Reasons {
			reasons[k] = v
		}
		attrs = append(attrs, "rejectedBy", reasons)
	}
	if res.Error != "" || res.Status == report.Rejected {
		attrs = append(attrs, "error", res.Error)
		log.Warn("object ingested with an error or nothing accepted", attrs...)
	} else {
		log.Info("object ingested", attrs...)
	}
	return nil
}

// permanentS3Errors are GetObject error codes that no retry can fix: the
// version is gone, was replaced (the ETag no longer matches: the newer
// object has its own event), or is archived.
var permanentS3Errors = map[string]string{
	"NoSuchKey":          "the object no longer exists",
	"NoSuchVersion":      "the object version no longer exists",
	"NotFound":           "the object no longer exists",
	"PreconditionFailed": "the object was replaced before it could be read (its ETag changed); the new object is ingested by its own event",
	"InvalidObjectState": "the object is archived and cannot be read",
}

// objectOptions are the parse options an object forces: its metadata
// (x-amz-meta-format, -symbol, -timestamp-unit, -timeframe) and, for the profile when
// the metadata names none, its key's incoming/<profile>/ prefix. The parser
// refuses an unknown name whole.
func objectOptions(key string, meta map[string]string) parse.Options {
	get := func(name string) string {
		for k, v := range meta { // S3 returns user metadata names in lower case; be lenient
			if strings.EqualFold(k, name) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	o := parse.Options{Profile: get(marketdata.MetadataProfile), Symbol: get(marketdata.MetadataSymbol),
		TimestampUnit: get(marketdata.MetadataTimestampUnit), Timeframe: get(marketdata.MetadataTimeframe)}
	if o.Profile == "" {
		o.Profile, _ = marketdata.ProfileFromKey(key)
	}
	return o
}

// ingest reads the object and queues its points. It returns an error only
// for failures worth a retry; bad content is a FAILED result, content whose
// every record was refused a REJECTED one.
func (h *Handler) ingest(ctx context.Context, o report.Object, log *slog.Logger) (report.Result, error) {
	coll := report.NewCollector(budget(h.ReportBudget, DefaultReportBudget))
	res := report.Result{Status: report.Completed, Collector: coll}
	in := &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)}
	if o.VersionID != "" {
		in.VersionId = aws.String(o.VersionID)
	} else {
		in.IfMatch = aws.String(`"` + o.ETag + `"`)
	}
	out, err := h.S3.GetObject(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			if why, ok := permanentS3Errors[ae.ErrorCode()]; ok {
				res.Status, res.ErrorCategory, res.Error = report.Failed, ObjectGone, why+" ("+ae.ErrorCode()+")"
				return res, nil
			}
		}
		return res, fmt.Errorf("get object: %w", err)
	}
	body := &objectReader{ctx: ctx, h: h, in: in, body: out.Body, log: log}
	defer body.Close()
	declaredGzip := strings.HasSuffix(strings.ToLower(o.Key), ".gz") ||
		strings.Contains(strings.ToLower(aws.ToString(out.ContentEncoding)), "gzip")
	// The first bytes tell a zip archive (see isZip); the parser reads
	// them again from content.
	var head [4]byte
	nHead, err := io.ReadFull(body, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return res, fmt.Errorf("read object: %w", err)
	}
	content, name := io.MultiReader(bytes.NewReader(head[:nHead]), body), o.Key
	var entry *zipEntry
	if isZip(o.Key, head[:nHead]) {
		if out.ContentLength == nil {
			return res, errors.New("read zipped object: GetObject gave no Content-Length")
		}
		res.ObjectBytes = aws.ToInt64(out.ContentLength)
		entry, err = openZip(body, res.ObjectBytes, h.unzippedMax())
		var zr *zipRefusal
		if errors.As(err, &zr) {
			res.Status, res.ErrorCategory, res.Error = report.Failed, ObjectBadZip, zr.reason
			log.Warn("zipped object refused", "error", zr.reason)
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("read zipped object: %w", err)
		}
		defer entry.Close()
		// The CSV is read as if it had been uploaded alone: its own name
		// gives the format and a Binance file's symbol.
		content, name, res.ArchivedFile = entry, entry.name, entry.path
	}

	stream, err := h.Publisher.Open(ctx, o.Origin())
	if err != nil {
		return res, err
	}
	parser := &parse.Parser{Now: h.now(), Options: objectOptions(o.Key, out.Metadata)}
	info, perr := parser.Parse(content, name, func(rec *parse.Record) error {
		if rec.Err != nil {
			coll.Reject(rec.Index, rec.Err.Category, rec.Err.Reason)
			return nil
		}
		var err error
		if rec.Bar != nil {
			err = stream.AddBar(*rec.Bar, rec.Index)
		} else {
			err = stream.Add(rec.Point, rec.Index)
		}
		if err != nil {
			if errors.Is(err, marketdata.ErrPointTooLarge) {
				coll.Reject(rec.Index, CategoryTooLarge, "record too large for a queue message")
				return nil
			}
			return err
		}
		coll.AcceptPoint(rec.TimestampUnit)
		return nil
	})
	stats, serr := stream.Close()
	res.Format, res.Compressed = string(info.Format), info.Compressed || entry != nil
	res.DataBytes = info.Bytes
	if entry == nil {
		res.ObjectBytes = body.off
	} else if zr := entry.refusal(); zr != nil {
		// The archive's content failed (corrupt data, too large), not S3.
		perr = &parse.ObjectError{Category: ObjectBadZip, Reason: zr.reason}
	}
	res.Messages, res.MessageBytes, res.SQSCalls = stats.Messages, stats.Bytes, stats.Calls
	res.IgnoredColumns, res.Profile = info.IgnoredColumns, info.Profile
	if declaredGzip != info.Compressed && info.Format != "" && entry == nil {
		log.Warn("compression differs from the name or Content-Encoding; the content decides",
			"declaredGzip", declaredGzip, "gzip", info.Compressed)
	}

	var oerr *parse.ObjectError
	if perr != nil && !errors.As(perr, &oerr) {
		// The object could not be read, or the queue failed: retry.
		return res, errors.Join(perr, serr)
	}
	if serr != nil {
		return res, serr
	}
	for _, f := range stats.Failures {
		coll.Accepted -= int64(f.Points)
		coll.RejectRange(f.FirstIndex, int64(f.Points), CategoryNotQueued, notQueuedReason(f))
	}
	if oerr != nil {
		res.Status, res.ErrorCategory, res.Error = report.Failed, oerr.Category, oerr.Reason
	} else if len(stats.Failures) > 0 {
		res.Status, res.ErrorCategory = report.Failed, CategoryNotQueued
		res.Error = fmt.Sprintf("the queue refused %d message(s) holding %d points; they are listed as rejected", len(stats.Failures), stats.FailedPoints)
		log.Error("the queue refused messages", "messages", len(stats.Failures), "points", stats.FailedPoints,
			"code", stats.Failures[0].Code, "message", stats.Failures[0].Message)
	} else if coll.Accepted == 0 && coll.Rejected > 0 {
		// Read to its end, yet nothing in it was usable: a monitor must
		// tell this from a file that was stored.
		res.Status = report.Rejected
	}
	return res, nil
}

func notQueuedReason(f queue.Failure) string {
	return fmt.Sprintf("not queued: SQS refused the message holding this and %d more points (positions %d to %d): %s: %s",
		f.Points-1, f.FirstIndex, f.LastIndex, f.Code, f.Message)
}

func budget(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// objectReader reads an object's body and, when the connection fails
// mid-way, resumes with a ranged GetObject of the same version (or ETag)
// from where it stopped, up to ReadRetries times.
type objectReader struct {
	ctx     context.Context
	h       *Handler
	in      *s3.GetObjectInput
	body    io.ReadCloser
	off     int64
	retries int
	log     *slog.Logger
	err     error // the first failure ReadAt met (see fail)
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		if r.body == nil {
			in := *r.in
			in.Range = aws.String(fmt.Sprintf("bytes=%d-", r.off))
			out, err := r.h.S3.GetObject(r.ctx, &in)
			if err != nil {
				return 0, fmt.Errorf("resume object read at byte %d: %w", r.off, err)
			}
			r.body = out.Body
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		_ = r.body.Close()
		r.body = nil
		maxRetries := r.h.ReadRetries
		if maxRetries == 0 {
			maxRetries = 3
		}
		if r.retries >= maxRetries || r.ctx.Err() != nil {
			return n, err
		}
		r.retries++
		r.log.Warn("object read failed; resuming", "offset", r.off, "retry", r.retries, "error", err.Error())
		sleep := r.h.Sleep
		if sleep == nil {
			sleep = backoff.Sleep
		}
		if serr := sleep(r.ctx, time.Duration(r.retries)*200*time.Millisecond); serr != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *objectReader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}

// emitObjectMetrics logs the metrics of one finished object in CloudWatch's
// embedded metric format: Lambda ships the line to the log group and
// CloudWatch extracts the metric from it, which needs no PutMetricData call
// (nor its IAM grant) on the ingestion path.
func (h *Handler) emitObjectMetrics(st report.Status) {
	if h.MetricNamespace == "" {
		return
	}
	rejected := 0
	if st == report.Rejected {
		rejected = 1
	}
	h.log().Info("metrics",
		slog.Any("_aws", map[string]any{
			"Timestamp": h.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  h.MetricNamespace,
				"Dimensions": [][]string{{}},
				"Metrics":    []map[string]string{{"Name": naming.MetricRejectedObjects, "Unit": "Count"}},
			}},
		}),
		slog.Int(naming.MetricRejectedObjects, rejected))
}
