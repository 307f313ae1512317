package report

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Status is the state of an object version's ingestion.
type Status string

// Statuses (see marketdata.IngestionReport).
const (
	InProgress Status = marketdata.ReportInProgress
	Completed  Status = marketdata.ReportCompleted
	Failed     Status = marketdata.ReportFailed
	Rejected   Status = marketdata.ReportRejected
)

// Attribute names the claim's and redelivery's expressions use: dynamodbav
// tags of marketdata.IngestionReport (a test applies the expressions and
// decodes the result with that type).
const (
	attrStatus       = "status"
	attrOwner        = "owner"
	attrLeaseUntil   = "leaseUntil"
	attrAttempts     = "attempts"
	attrRedeliveries = "redeliveries"
	attrBucket       = "bucket"
	attrKey          = "objectKey"
	attrVersionID    = "versionId"
	attrETag         = "eTag"
	attrOrigin       = "origin"
	attrStartedAt    = "startedAt"
)

// Object identifies one S3 object version.
type Object struct {
	Bucket, Key, VersionID, ETag string
}

// ContentID is what tells one report of a key from another: the ETag, which
// for a single-part upload to this SSE-S3 bucket is the content's MD5, so
// an identical re-upload (which on a versioned bucket gets a new version id)
// finds the first upload's report and is not read again. The version id
// stands in only for an event without an ETag. The ETag of a multipart
// upload depends on its part sizes, so the same bytes uploaded in other
// parts are read again: harmless, since the points' range keys do not
// depend on the version or the ETag (see Origin).
func (o Object) ContentID() string { return marketdata.ReportContent(o.ETag, o.VersionID) }

// Origin names the object in queue messages and raw point items, and is
// what each point's range key hashes with the point's content and position
// (marketdata.AppendSortKey). It is the bucket and key without the version:
// a point is the same point in every version that has the same record at
// the same position, so re-uploading a file never stores it twice, and a
// changed file adds only the records it does not share with the earlier
// versions (the data contract in README.md). The exact version is what the
// object is read by (VersionID), never part of a point's identity.
func (o Object) Origin() string { return "s3://" + o.Bucket + "/" + o.Key }

// Result is the outcome of ingesting an object version.
type Result struct {
	Status        Status
	Format        string
	Compressed    bool
	ObjectBytes   int64
	DataBytes     int64
	Collector     *Collector
	Messages      int64
	MessageBytes  int64
	SQSCalls      int64
	ErrorCategory string
	Error         string
	// IgnoredColumns are the CSV columns that name no field.
	IgnoredColumns []string
	// Profile is the ingestion profile the object was read with.
	Profile string
	// ArchivedFile is the file read inside a zipped object.
	ArchivedFile string
}

// Store keeps report items in one table.
type Store struct {
	DB    DB
	Table string
}

// Claim is what claiming a report found.
type Claim struct {
	// Claimed is true when this invocation now owns the object version.
	Claimed bool
	// Attempts is the number of claims so far, this one included.
	Attempts int64
	// Existing describes the item that prevented the claim.
	Status     Status
	Owner      string
	LeaseUntil time.Time
	FinishedAt string
	// VersionID is the version the existing report read: another one than
	// the event's means an identical re-upload, not a re-delivered event.
	VersionID string
}

func (s *Store) key(o Object) map[string]types.AttributeValue {
	h, r := marketdata.ReportKey(o.Bucket, o.Key, o.ContentID())
	return map[string]types.AttributeValue{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: h},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: r},
	}
}

// Claim marks the object's content IN_PROGRESS for owner (the Lambda
// request id) until leaseUntil, unless it is already COMPLETED, REJECTED or
// FAILED, or IN_PROGRESS under another owner whose lease has not expired.
// Lambda retries an invocation under the same request id, so a retry after a
// crash or a timeout takes its own claim over at once. A FAILED report is
// claimed again by another version of the same content: re-uploading is how
// a user retries a file whose version vanished or that the queue refused,
// while a re-delivered event of the failed version stays a no-op.
func (s *Store) Claim(ctx context.Context, o Object, owner string, now, leaseUntil time.Time) (Claim, error) {
	names := map[string]string{
		"#st": attrStatus, "#owner": attrOwner, "#lease": attrLeaseUntil, "#att": attrAttempts,
		"#b": attrBucket, "#k": attrKey, "#o": attrOrigin, "#start": attrStartedAt, "#exp": marketdata.AttrExpiresAt,
	}
	values := map[string]types.AttributeValue{
		":inprog": &types.AttributeValueMemberS{Value: string(InProgress)},
		":owner":  &types.AttributeValueMemberS{Value: owner},
		":lease":  num(leaseUntil.UnixMilli()),
		":now":    num(now.UnixMilli()),
		":one":    num(1),
		":b":      &types.AttributeValueMemberS{Value: o.Bucket},
		":k":      &types.AttributeValueMemberS{Value: o.Key},
		":o":      &types.AttributeValueMemberS{Value: o.Origin()},
		":start":  &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		":exp":    num(marketdata.ExpiresAt(now)),
	}
	set := "SET #st = :inprog, #owner = :owner, #lease = :lease, #b = :b, #k = :k, #o = :o, #start = :start, #exp = :exp"
	cond := "attribute_not_exists(#st) OR (#st = :inprog AND (#owner = :owner OR #lease < :now))"
	if o.VersionID != "" {
		names["#v"] = attrVersionID
		values[":v"] = &types.AttributeValueMemberS{Value: o.VersionID}
		values[":failed"] = &types.AttributeValueMemberS{Value: string(Failed)}
		set += ", #v = :v"
		cond += " OR (#st = :failed AND #v <> :v)"
	}
	if o.ETag != "" {
		names["#e"] = attrETag
		values[":e"] = &types.AttributeValueMemberS{Value: o.ETag}
		set += ", #e = :e"
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.Table),
		Key:                                 s.key(o),
		UpdateExpression:                    aws.String(set + " ADD #att :one"),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		var now marketdata.IngestionReport
		if err := attributevalue.UnmarshalMap(out.Attributes, &now); err != nil {
			return Claim{}, fmt.Errorf("read claimed ingestion report: %w", err)
		}
		return Claim{Claimed: true, Attempts: now.Attempts}, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return Claim{}, fmt.Errorf("claim ingestion report: %w", err)
	}
	item := ccf.Item
	if item == nil { // not every implementation returns the old item
		got, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: s.key(o), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return Claim{}, fmt.Errorf("read ingestion report: %w", err)
		}
		item = got.Item
	}
	var old marketdata.IngestionReport
	if err := attributevalue.UnmarshalMap(item, &old); err != nil {
		return Claim{}, fmt.Errorf("read ingestion report: %w", err)
	}
	return Claim{
		Attempts:   old.Attempts,
		Status:     Status(old.Status),
		Owner:      old.Owner,
		LeaseUntil: time.UnixMilli(old.LeaseUntil),
		FinishedAt: old.FinishedAt,
		VersionID:  old.VersionID,
	}, nil
}

// ErrLostClaim means another invocation took the object version over.
var ErrLostClaim = errors.New("the ingestion report is no longer owned by this invocation")

// Finish writes the final report, replacing the IN_PROGRESS item, provided
// owner still holds it.
func (s *Store) Finish(ctx context.Context, o Object, owner string, attempts int64, started, now time.Time, r Result) error {
	item, err := attributevalue.MarshalMap(finalReport(o, owner, attempts, started, now, r))
	if err != nil {
		return fmt.Errorf("encode ingestion report: %w", err)
	}
	maps.Copy(item, s.key(o))
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.Table),
		Item:                      item,
		ConditionExpression:       aws.String("#st = :inprog AND #owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#st": attrStatus, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inprog": &types.AttributeValueMemberS{Value: string(InProgress)}, ":owner": &types.AttributeValueMemberS{Value: owner}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLostClaim
	}
	if err != nil {
		return fmt.Errorf("write ingestion report: %w", err)
	}
	return nil
}

// NoteRedelivery counts a re-delivered event on a finished report.
func (s *Store) NoteRedelivery(ctx context.Context, o Object) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       s.key(o),
		UpdateExpression:          aws.String("ADD #r :one"),
		ConditionExpression:       aws.String("attribute_exists(#st)"),
		ExpressionAttributeNames:  map[string]string{"#r": attrRedeliveries, "#st": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	})
	if err != nil {
		return fmt.Errorf("count redelivery: %w", err)
	}
	return nil
}

// finalReport is the report item of o's ingestion by owner, finished at now.
func finalReport(o Object, owner string, attempts int64, started, now time.Time, r Result) marketdata.IngestionReport {
	c := r.Collector
	if c == nil {
		c = NewCollector(0)
	}
	units := c.Units
	if units == nil {
		units = map[string]int64{} // written as an empty map, not NULL
	}
	return marketdata.IngestionReport{
		Status: string(r.Status), Owner: owner, Attempts: attempts,
		Bucket: o.Bucket, ObjectKey: o.Key, VersionID: o.VersionID, ETag: o.ETag, Origin: o.Origin(),
		StartedAt: started.UTC().Format(time.RFC3339Nano), FinishedAt: now.UTC().Format(time.RFC3339Nano),
		Format: r.Format, Profile: r.Profile, Compressed: r.Compressed, ArchivedFile: r.ArchivedFile, ObjectBytes: r.ObjectBytes, DataBytes: r.DataBytes,
		Records: c.Accepted + c.Rejected, Accepted: c.Accepted, Rejected: c.Rejected,
		Messages: r.Messages, MessageBytes: r.MessageBytes, SQSCalls: r.SQSCalls,
		Rejections: c.Rejections, RejectionsOmitted: c.Omitted, RejectionCounts: c.Reasons,
		TimestampUnits: units, IgnoredColumns: r.IgnoredColumns,
		Error: apiresp.Clip(r.Error, 1024), ErrorCategory: r.ErrorCategory, ExpiresAt: marketdata.ExpiresAt(now),
	}
}

// Read returns the report of o (for tests and tools); found is false when
// there is none.
func (s *Store) Read(ctx context.Context, o Object) (rep marketdata.IngestionReport, found bool, err error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: s.key(o), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		return rep, false, err
	}
	if err := attributevalue.UnmarshalMap(out.Item, &rep); err != nil {
		return rep, true, fmt.Errorf("read ingestion report: %w", err)
	}
	return rep, true, nil
}

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
