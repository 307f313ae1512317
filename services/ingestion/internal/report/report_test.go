package report

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func TestCollectorBudget(t *testing.T) {
	c := NewCollector(10 * (entryOverhead + 20))
	for i := range 1000 {
		cat := "invalid price"
		if i%3 == 0 {
			cat = "invalid symbol"
		}
		c.Reject(int64(i), cat, strings.Repeat("r", 20))
	}
	c.Accept(5)
	if c.Rejected != 1000 || c.Accepted != 5 {
		t.Fatalf("counts %d %d", c.Accepted, c.Rejected)
	}
	if len(c.Rejections) != 10 || c.Omitted != 990 {
		t.Fatalf("listed %d, omitted %d; want 10 and 990", len(c.Rejections), c.Omitted)
	}
	for i, r := range c.Rejections {
		if r.Index != int64(i) {
			t.Fatalf("listed rejection %d has index %d: the first ones are kept in order", i, r.Index)
		}
	}
	var sum int64
	for _, n := range c.Reasons {
		sum += n
	}
	if sum != c.Rejected || c.Reasons["invalid symbol"] != 334 {
		t.Fatalf("reasons %v do not account for %d rejections", c.Reasons, c.Rejected)
	}
}

func TestCollectorClipsReasons(t *testing.T) {
	c := NewCollector(1 << 20)
	c.Reject(1, "x", strings.Repeat("é", 1000))
	if r := c.Rejections[0].Reason; len(r) > MaxReasonBytes || !strings.HasSuffix(r, "...") || !strings.HasPrefix(r, "é") {
		t.Fatalf("reason of %d bytes: %q", len(r), r)
	}
	// After the first omission nothing more is listed, even if it would fit,
	// so the list is always a prefix.
	c = NewCollector(entryOverhead + 10)
	c.Reject(1, "x", "0123456789")
	c.Reject(2, "x", strings.Repeat("y", 50))
	c.Reject(3, "x", "")
	if len(c.Rejections) != 1 || c.Omitted != 2 {
		t.Fatalf("listed %v omitted %d", c.Rejections, c.Omitted)
	}
}

func TestRejectRange(t *testing.T) {
	c := NewCollector(1 << 20)
	c.RejectRange(10, 500, "not queued", "refused")
	c.RejectRange(10, 0, "not queued", "nothing")
	if c.Rejected != 500 || c.Reasons["not queued"] != 500 || len(c.Rejections) != 1 || c.Rejections[0].Index != 10 {
		t.Fatalf("%+v", c)
	}
}

// recordingDB records requests and answers from canned functions.
type recordingDB struct {
	updates []*dynamodb.UpdateItemInput
	puts    []*dynamodb.PutItemInput
	gets    int
	update  func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	put     func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	item    map[string]types.AttributeValue
}

func (d *recordingDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.updates = append(d.updates, in)
	return d.update(in)
}

func (d *recordingDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.puts = append(d.puts, in)
	return d.put(in)
}

func (d *recordingDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.gets++
	return &dynamodb.GetItemOutput{Item: d.item}, nil
}

var obj = Object{Bucket: "raw-bucket", Key: "in/2024 06 01.csv", ETag: "d41d8cd98f00b204e9800998ecf8427e"}

func TestClaim(t *testing.T) {
	now := time.UnixMilli(1_717_243_200_000)
	lease := now.Add(15 * time.Minute)
	done := map[string]types.AttributeValue{
		attrStatus:   &types.AttributeValueMemberS{Value: string(Completed)},
		attrOwner:    &types.AttributeValueMemberS{Value: "req-1"},
		"finishedAt": &types.AttributeValueMemberS{Value: "2024-06-01T12:00:00Z"},
		attrAttempts: &types.AttributeValueMemberN{Value: "1"},
	}
	for _, tc := range []struct {
		name        string
		update      func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
		getItem     map[string]types.AttributeValue
		wantClaimed bool
		wantStatus  Status
		wantGets    int
		wantErr     bool
	}{
		{"first delivery claims", func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{attrAttempts: &types.AttributeValueMemberN{Value: "1"}}}, nil
		}, nil, true, "", 0, false},
		{"completed version is not claimed", func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return nil, &types.ConditionalCheckFailedException{Item: done}
		}, nil, false, Completed, 0, false},
		{"old item read when the error lacks it", func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return nil, &types.ConditionalCheckFailedException{}
		}, done, false, Completed, 1, false},
		{"other errors fail", func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return nil, errors.New("throttled")
		}, nil, false, "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := &recordingDB{update: tc.update, item: tc.getItem}
			s := &Store{DB: db, Table: "t"}
			c, err := s.Claim(context.Background(), obj, "req-2", now, lease)
			if (err != nil) != tc.wantErr || c.Claimed != tc.wantClaimed || c.Status != tc.wantStatus || db.gets != tc.wantGets {
				t.Fatalf("claim %+v, error %v", c, err)
			}
			in := db.updates[0]
			hash, rng := marketdata.ReportKey(obj.Bucket, obj.Key, obj.ETag)
			if in.Key[marketdata.AttrSymbol].(*types.AttributeValueMemberS).Value != hash ||
				in.Key[marketdata.AttrTimestamp].(*types.AttributeValueMemberN).Value != rng {
				t.Fatalf("key %v", in.Key)
			}
			if !strings.HasPrefix(hash, marketdata.ReportPrefix+"s3://raw-bucket/in/2024 06 01.csv") {
				t.Fatalf("hash key %q", hash)
			}
			cond := aws.ToString(in.ConditionExpression)
			if !strings.Contains(cond, "attribute_not_exists(#st)") || !strings.Contains(cond, "#owner = :owner OR #lease < :now") {
				t.Fatalf("condition %q", cond)
			}
			if v := in.ExpressionAttributeValues[":lease"].(*types.AttributeValueMemberN).Value; v != strconv.FormatInt(lease.UnixMilli(), 10) {
				t.Fatalf("lease %s", v)
			}
			if v := in.ExpressionAttributeValues[":exp"].(*types.AttributeValueMemberN).Value; v != strconv.FormatInt(marketdata.ExpiresAt(now), 10) {
				t.Fatalf("expiresAt %s", v)
			}
			if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
				t.Fatal("claim does not ask for the old item")
			}
		})
	}
}

func TestFinish(t *testing.T) {
	now := time.UnixMilli(1_717_243_200_000)
	c := NewCollector(1 << 20)
	c.Accept(7)
	c.Reject(3, "invalid price", "invalid price -1")
	c.Reject(9, "invalid price", "invalid price 0")
	res := Result{Status: Completed, Format: "csv", Compressed: true, ObjectBytes: 100, DataBytes: 400, Collector: c,
		Messages: 1, MessageBytes: 900, SQSCalls: 1}
	db := &recordingDB{put: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return &dynamodb.PutItemOutput{}, nil }}
	s := &Store{DB: db, Table: "t"}
	if err := s.Finish(context.Background(), obj, "req-1", 2, now.Add(-time.Second), now, res); err != nil {
		t.Fatal(err)
	}
	item := db.puts[0].Item
	hash, rng := marketdata.ReportKey(obj.Bucket, obj.Key, obj.ETag)
	if !reflect.DeepEqual(item[marketdata.AttrSymbol], &types.AttributeValueMemberS{Value: hash}) ||
		!reflect.DeepEqual(item[marketdata.AttrTimestamp], &types.AttributeValueMemberN{Value: rng}) {
		t.Errorf("key %v %v", item[marketdata.AttrSymbol], item[marketdata.AttrTimestamp])
	}
	var got marketdata.IngestionReport
	if err := attributevalue.UnmarshalMap(item, &got); err != nil {
		t.Fatal(err)
	}
	want := marketdata.IngestionReport{
		Status: "COMPLETED", Owner: "req-1", Attempts: 2, Bucket: obj.Bucket, ObjectKey: obj.Key, ETag: obj.ETag,
		Origin:    "s3://raw-bucket/in/2024 06 01.csv",
		StartedAt: now.Add(-time.Second).UTC().Format(time.RFC3339Nano), FinishedAt: now.UTC().Format(time.RFC3339Nano),
		Format: "csv", Compressed: true, ObjectBytes: 100, DataBytes: 400, Records: 9, Accepted: 7, Rejected: 2,
		Messages: 1, MessageBytes: 900, SQSCalls: 1,
		Rejections:      []marketdata.Rejection{{Index: 3, Reason: "invalid price -1"}, {Index: 9, Reason: "invalid price 0"}},
		RejectionCounts: map[string]int64{"invalid price": 2}, TimestampUnits: map[string]int64{}, ExpiresAt: marketdata.ExpiresAt(now),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report\n got %+v\nwant %+v", got, want)
	}
	if cond := aws.ToString(db.puts[0].ConditionExpression); cond != "#st = :inprog AND #owner = :owner" {
		t.Errorf("condition %q", cond)
	}

	db.put = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return nil, &types.ConditionalCheckFailedException{}
	}
	if err := s.Finish(context.Background(), obj, "req-1", 2, now, now, res); !errors.Is(err, ErrLostClaim) {
		t.Fatalf("Finish after losing the claim: %v", err)
	}
}

// A report with the largest listed rejections and the longest key stays far
// below DynamoDB's 400 KB item limit.
func TestReportItemSize(t *testing.T) {
	c := NewCollector(100 << 10)
	reason := strings.Repeat("x", 2000)
	for i := range 200_000 {
		c.Reject(int64(i), "category "+strconv.Itoa(i%20), reason)
	}
	long := Object{Bucket: strings.Repeat("b", 63), Key: strings.Repeat("k", 1024), VersionID: strings.Repeat("v", 32), ETag: strings.Repeat("e", 32)}
	db := &recordingDB{put: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return &dynamodb.PutItemOutput{}, nil }}
	s := &Store{DB: db, Table: "t"}
	if err := s.Finish(context.Background(), long, "req", 1, time.Now(), time.Now(),
		Result{Status: Failed, Collector: c, Error: strings.Repeat("e", 5000)}); err != nil {
		t.Fatal(err)
	}
	if size := itemSize(db.puts[0].Item); size > 200_000 {
		t.Fatalf("report item of %d bytes", size)
	} else {
		t.Logf("largest report item: %d bytes (DynamoDB limit 400 KB)", size)
	}
}

// itemSize approximates DynamoDB's item size: names plus values, with a few
// bytes per list or map element.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 1
	case *types.AttributeValueMemberBOOL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value)
	}
	return 0
}

// The report item carries the timestamp units read and the CSV columns
// ignored, and a REJECTED status as given.
func TestFinishUnitsAndIgnoredColumns(t *testing.T) {
	now := time.UnixMilli(1_717_243_200_000)
	for _, tc := range []struct {
		name    string
		units   map[string]int64
		ignored []string
		status  Status
	}{
		{"units and ignored columns", map[string]int64{"s": 2, "ms": 1}, []string{"venue", ""}, Completed},
		{"all rejected, nothing read", nil, nil, Rejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(1 << 10)
			for u, n := range tc.units {
				for range n {
					c.AcceptPoint(u)
				}
			}
			db := &recordingDB{put: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return &dynamodb.PutItemOutput{}, nil }}
			s := &Store{DB: db, Table: "t"}
			res := Result{Status: tc.status, Collector: c, IgnoredColumns: tc.ignored}
			if err := s.Finish(context.Background(), obj, "req-1", 1, now, now, res); err != nil {
				t.Fatal(err)
			}
			item := db.puts[0].Item
			var got marketdata.IngestionReport
			if err := attributevalue.UnmarshalMap(item, &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != string(tc.status) {
				t.Fatalf("status %q, want %s", got.Status, tc.status)
			}
			// Always written, empty when nothing was read.
			if _, ok := item["timestampUnits"].(*types.AttributeValueMemberM); !ok || len(got.TimestampUnits) != len(tc.units) {
				t.Fatalf("timestampUnits = %#v, want %v", item["timestampUnits"], tc.units)
			}
			for u, n := range tc.units {
				if got.TimestampUnits[u] != n {
					t.Fatalf("timestampUnits[%s] = %d, want %d", u, got.TimestampUnits[u], n)
				}
			}
			// Only written when a column was ignored.
			if _, ok := item["ignoredColumns"]; ok != (len(tc.ignored) > 0) {
				t.Fatalf("ignoredColumns = %v for %q", item["ignoredColumns"], tc.ignored)
			}
			if !slices.Equal(got.IgnoredColumns, tc.ignored) {
				t.Fatalf("ignoredColumns = %q, want %q", got.IgnoredColumns, tc.ignored)
			}
		})
	}
}

// applyUpdate applies the SET and ADD clauses of an update expression (the
// forms the store writes) to item, as DynamoDB would.
func applyUpdate(t *testing.T, item map[string]types.AttributeValue, in *dynamodb.UpdateItemInput) {
	t.Helper()
	expr := aws.ToString(in.UpdateExpression)
	set, add, _ := strings.Cut(expr, " ADD ")
	if a, ok := strings.CutPrefix(expr, "ADD "); ok {
		set, add = "", a
	}
	for clause := range strings.SplitSeq(strings.TrimPrefix(set, "SET "), ", ") {
		if clause == "" {
			continue
		}
		name, value, ok := strings.Cut(clause, " = ")
		if !ok {
			t.Fatalf("SET clause %q", clause)
		}
		item[in.ExpressionAttributeNames[name]] = in.ExpressionAttributeValues[value]
	}
	for clause := range strings.SplitSeq(add, ", ") {
		if clause == "" {
			continue
		}
		name, value, _ := strings.Cut(clause, " ")
		attr := in.ExpressionAttributeNames[name]
		var sum int64
		if n, ok := item[attr].(*types.AttributeValueMemberN); ok {
			sum, _ = strconv.ParseInt(n.Value, 10, 64)
		}
		d, err := strconv.ParseInt(in.ExpressionAttributeValues[value].(*types.AttributeValueMemberN).Value, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		item[attr] = num(sum + d)
	}
}

// TestReportRoundTrip: the claim's and redelivery's update expressions and
// the final PutItem write what readers decode with marketdata.IngestionReport.
func TestReportRoundTrip(t *testing.T) {
	now := time.UnixMilli(1_717_243_200_000)
	lease := now.Add(15 * time.Minute)
	versioned := Object{Bucket: "b", Key: "k.csv", VersionID: "v1"}
	res := Result{Status: Failed, Format: "ndjson", Error: "gzip: invalid header", ErrorCategory: "corrupt"}
	tests := []struct {
		name string
		o    Object
		ops  func(s *Store) error
		want marketdata.IngestionReport
	}{
		{"claim of a version", versioned, func(s *Store) error {
			_, err := s.Claim(context.Background(), versioned, "req-1", now, lease)
			return err
		}, marketdata.IngestionReport{Status: marketdata.ReportInProgress, Owner: "req-1", LeaseUntil: lease.UnixMilli(), Attempts: 1,
			Bucket: "b", ObjectKey: "k.csv", VersionID: "v1", Origin: "s3://b/k.csv", StartedAt: now.UTC().Format(time.RFC3339Nano),
			ExpiresAt: marketdata.ExpiresAt(now)}},
		{"second claim of an ETag", obj, func(s *Store) error {
			for _, owner := range []string{"req-1", "req-2"} {
				if _, err := s.Claim(context.Background(), obj, owner, now, lease); err != nil {
					return err
				}
			}
			return nil
		}, marketdata.IngestionReport{Status: marketdata.ReportInProgress, Owner: "req-2", LeaseUntil: lease.UnixMilli(), Attempts: 2,
			Bucket: obj.Bucket, ObjectKey: obj.Key, ETag: obj.ETag, Origin: obj.Origin(), StartedAt: now.UTC().Format(time.RFC3339Nano),
			ExpiresAt: marketdata.ExpiresAt(now)}},
		{"failed report without a collector, then a redelivery", versioned, func(s *Store) error {
			if _, err := s.Claim(context.Background(), versioned, "req-1", now, lease); err != nil {
				return err
			}
			if err := s.Finish(context.Background(), versioned, "req-1", 1, now, now, res); err != nil {
				return err
			}
			return s.NoteRedelivery(context.Background(), versioned)
		}, marketdata.IngestionReport{Status: marketdata.ReportFailed, Owner: "req-1", Attempts: 1, Redeliveries: 1,
			Bucket: "b", ObjectKey: "k.csv", VersionID: "v1", Origin: "s3://b/k.csv", StartedAt: now.UTC().Format(time.RFC3339Nano),
			FinishedAt: now.UTC().Format(time.RFC3339Nano), Format: "ndjson", Error: res.Error, ErrorCategory: res.ErrorCategory,
			Rejections: []marketdata.Rejection{}, RejectionCounts: map[string]int64{}, TimestampUnits: map[string]int64{},
			ExpiresAt: marketdata.ExpiresAt(now)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			item := map[string]types.AttributeValue{}
			db := &recordingDB{}
			db.update = func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
				applyUpdate(t, item, in)
				return &dynamodb.UpdateItemOutput{Attributes: item}, nil
			}
			db.put = func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				item = in.Item
				return &dynamodb.PutItemOutput{}, nil
			}
			if err := tc.ops(&Store{DB: db, Table: "t"}); err != nil {
				t.Fatal(err)
			}
			var got marketdata.IngestionReport
			if err := attributevalue.UnmarshalMap(item, &got); err != nil {
				t.Fatal(err)
			}
			if err := marketdata.CheckAttributes[marketdata.IngestionReport](item); got.Final() && err != nil {
				t.Errorf("final report %v: %v", item, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("report\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
