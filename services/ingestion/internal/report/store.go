package report

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// Statuses. IN_PROGRESS is written before the first message is sent;
// COMPLETED when the object has been read to its end; REJECTED when it has
// been read to its end but every record was refused (nothing was queued); or
// FAILED at an error in its content. The final states are never left again.
const (
	InProgress Status = "IN_PROGRESS"
	Completed  Status = "COMPLETED"
	Failed     Status = "FAILED"
	Rejected   Status = "REJECTED"
)

// Attribute names of a report item (besides the key and marketdata.AttrExpiresAt).
const (
	AttrStatus            = "status"
	AttrOwner             = "owner"
	AttrLeaseUntil        = "leaseUntil"
	AttrAttempts          = "attempts"
	AttrRedeliveries      = "redeliveries"
	AttrBucket            = "bucket"
	AttrKey               = "objectKey"
	AttrVersionID         = "versionId"
	AttrETag              = "eTag"
	AttrOrigin            = "origin"
	AttrStartedAt         = "startedAt"
	AttrFinishedAt        = "finishedAt"
	AttrFormat            = "format"
	AttrCompressed        = "compressed"
	AttrObjectBytes       = "objectBytes"
	AttrDataBytes         = "dataBytes"
	AttrRecords           = "records"
	AttrAccepted          = "accepted"
	AttrRejected          = "rejected"
	AttrMessages          = "messages"
	AttrMessageBytes      = "messageBytes"
	AttrSQSCalls          = "sqsCalls"
	AttrRejections        = "rejections"
	AttrRejectionsOmitted = "rejectionsOmitted"
	AttrRejectionCounts   = "rejectionCounts"
	AttrError             = "error"
	AttrErrorCategory     = "errorCategory"
	AttrTimestampUnits    = "timestampUnits"
	AttrIgnoredColumns    = "ignoredColumns"
)

// Object identifies one S3 object version.
type Object struct {
	Bucket, Key, VersionID, ETag string
}

// VersionOrETag is what tells versions apart: the version id, or the ETag
// in an unversioned bucket.
func (o Object) VersionOrETag() string {
	if o.VersionID != "" {
		return o.VersionID
	}
	return o.ETag
}

// Origin names the object version in queue messages and raw point items.
func (o Object) Origin() string { return "s3://" + o.Bucket + "/" + o.Key + "#" + o.VersionOrETag() }

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
}

func (s *Store) key(o Object) map[string]types.AttributeValue {
	h, r := marketdata.ReportKey(o.Bucket, o.Key, o.VersionOrETag())
	return map[string]types.AttributeValue{
		marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: h},
		marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: r},
	}
}

// Claim marks the object version IN_PROGRESS for owner (the Lambda request
// id) until leaseUntil, unless it is already COMPLETED or FAILED, or IN_PROGRESS
// under another owner whose lease has not expired. Lambda retries an
// invocation under the same request id, so a retry after a crash or a
// timeout takes its own claim over at once.
func (s *Store) Claim(ctx context.Context, o Object, owner string, now, leaseUntil time.Time) (Claim, error) {
	names := map[string]string{
		"#st": AttrStatus, "#owner": AttrOwner, "#lease": AttrLeaseUntil, "#att": AttrAttempts,
		"#b": AttrBucket, "#k": AttrKey, "#o": AttrOrigin, "#start": AttrStartedAt, "#exp": marketdata.AttrExpiresAt,
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
	if o.VersionID != "" {
		names["#v"] = AttrVersionID
		values[":v"] = &types.AttributeValueMemberS{Value: o.VersionID}
		set += ", #v = :v"
	}
	if o.ETag != "" {
		names["#e"] = AttrETag
		values[":e"] = &types.AttributeValueMemberS{Value: o.ETag}
		set += ", #e = :e"
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.Table),
		Key:                                 s.key(o),
		UpdateExpression:                    aws.String(set + " ADD #att :one"),
		ConditionExpression:                 aws.String("attribute_not_exists(#st) OR (#st = :inprog AND (#owner = :owner OR #lease < :now))"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Claim{Claimed: true, Attempts: getNum(out.Attributes, AttrAttempts)}, nil
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
	return Claim{
		Attempts:   getNum(item, AttrAttempts),
		Status:     Status(getStr(item, AttrStatus)),
		Owner:      getStr(item, AttrOwner),
		LeaseUntil: time.UnixMilli(getNum(item, AttrLeaseUntil)),
		FinishedAt: getStr(item, AttrFinishedAt),
	}, nil
}

// ErrLostClaim means another invocation took the object version over.
var ErrLostClaim = errors.New("the ingestion report is no longer owned by this invocation")

// Finish writes the final report, replacing the IN_PROGRESS item, provided
// owner still holds it.
func (s *Store) Finish(ctx context.Context, o Object, owner string, attempts int64, started, now time.Time, r Result) error {
	item := s.key(o)
	str := func(name, v string) {
		if v != "" {
			item[name] = &types.AttributeValueMemberS{Value: v}
		}
	}
	str(AttrStatus, string(r.Status))
	str(AttrOwner, owner)
	str(AttrBucket, o.Bucket)
	str(AttrKey, o.Key)
	str(AttrVersionID, o.VersionID)
	str(AttrETag, o.ETag)
	str(AttrOrigin, o.Origin())
	str(AttrStartedAt, started.UTC().Format(time.RFC3339Nano))
	str(AttrFinishedAt, now.UTC().Format(time.RFC3339Nano))
	str(AttrFormat, r.Format)
	str(AttrError, Clip(r.Error, 1024))
	str(AttrErrorCategory, r.ErrorCategory)
	item[AttrCompressed] = &types.AttributeValueMemberBOOL{Value: r.Compressed}
	c := r.Collector
	if c == nil {
		c = NewCollector(0)
	}
	for name, v := range map[string]int64{
		AttrAttempts: attempts, AttrObjectBytes: r.ObjectBytes, AttrDataBytes: r.DataBytes,
		AttrRecords: c.Accepted + c.Rejected, AttrAccepted: c.Accepted, AttrRejected: c.Rejected,
		AttrMessages: r.Messages, AttrMessageBytes: r.MessageBytes, AttrSQSCalls: r.SQSCalls,
		AttrRejectionsOmitted: c.Omitted, marketdata.AttrExpiresAt: marketdata.ExpiresAt(now),
	} {
		item[name] = num(v)
	}
	list := make([]types.AttributeValue, len(c.Rejections))
	for i, rj := range c.Rejections {
		list[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"index":  num(rj.Index),
			"reason": &types.AttributeValueMemberS{Value: rj.Reason},
		}}
	}
	item[AttrRejections] = &types.AttributeValueMemberL{Value: list}
	counts := make(map[string]types.AttributeValue, len(c.Reasons))
	for k, v := range c.Reasons {
		counts[k] = num(v)
	}
	item[AttrRejectionCounts] = &types.AttributeValueMemberM{Value: counts}
	units := make(map[string]types.AttributeValue, len(c.Units))
	for k, v := range c.Units {
		units[k] = num(v)
	}
	item[AttrTimestampUnits] = &types.AttributeValueMemberM{Value: units}
	if len(r.IgnoredColumns) > 0 {
		cols := make([]types.AttributeValue, len(r.IgnoredColumns))
		for i, n := range r.IgnoredColumns {
			cols[i] = &types.AttributeValueMemberS{Value: n}
		}
		item[AttrIgnoredColumns] = &types.AttributeValueMemberL{Value: cols}
	}

	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.Table),
		Item:                      item,
		ConditionExpression:       aws.String("#st = :inprog AND #owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#st": AttrStatus, "#owner": AttrOwner},
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
		ExpressionAttributeNames:  map[string]string{"#r": AttrRedeliveries, "#st": AttrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	})
	if err != nil {
		return fmt.Errorf("count redelivery: %w", err)
	}
	return nil
}

// Read returns the report item of o (for tests and tools), or nil.
func (s *Store) Read(ctx context.Context, o Object) (map[string]types.AttributeValue, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: s.key(o), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// SortedReasons lists the categories of c by count, largest first (for logs).
func SortedReasons(c *Collector) []string {
	keys := make([]string, 0, len(c.Reasons))
	for k := range c.Reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c.Reasons[keys[i]] != c.Reasons[keys[j]] {
			return c.Reasons[keys[i]] > c.Reasons[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getNum(item map[string]types.AttributeValue, name string) int64 {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

func getStr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
