package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// ObjectCreatedEvent is the S3 notification S3 sends for one new object
// version (one record, ObjectCreated:Put, the key URL-encoded as S3 does).
func ObjectCreatedEvent(region, bucket, key, versionID, etag string, size int64) ([]byte, error) {
	rec := events.S3EventRecord{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    region,
		EventName:    "ObjectCreated:Put",
		S3: events.S3Entity{
			SchemaVersion: "1.0",
			Bucket:        events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object: events.S3Object{
				Key: strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"), Size: size,
				ETag: strings.Trim(etag, `"`), VersionID: versionID,
			},
		},
	}
	return json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
}

// Replay re-ingests every object version under prefix: one ObjectCreated
// event per version, as an asynchronous invocation of the ingestion
// function. Versions whose ingestion report says completed are skipped
// unless force.
func (t *Target) Replay(ctx context.Context, w io.Writer, prefix string, force bool) (sent, skipped int, err error) {
	p := s3.NewListObjectVersionsPaginator(t.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(t.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return sent, skipped, fmt.Errorf("listing s3://%s/%s: %w", t.Bucket, prefix, err)
		}
		for _, v := range page.Versions {
			key, version := aws.ToString(v.Key), aws.ToString(v.VersionId)
			if version == "null" {
				version = "" // an unversioned object: ingestion reads it by ETag
			}
			etag := strings.Trim(aws.ToString(v.ETag), `"`)
			// The report is the content's (ReportContent); the event names
			// the exact version, as S3's do, so even a noncurrent version
			// is read. The points' range keys do not depend on the version.
			rep, err := report(ctx, t.DynamoDB, t.Table, t.Bucket, key, marketdata.ReportContent(etag, version))
			if err != nil {
				return sent, skipped, err
			}
			if !force && rep != nil && rep.Status == marketdata.ReportCompleted {
				fmt.Fprintf(w, "skipped s3://%s/%s (%s): its report says completed\n", t.Bucket, key, aws.ToString(v.VersionId))
				skipped++
				continue
			}
			ev, err := ObjectCreatedEvent(naming.Region, t.Bucket, key, version, aws.ToString(v.ETag), aws.ToInt64(v.Size))
			if err != nil {
				return sent, skipped, err
			}
			if err := t.invokeAsync(ctx, t.IngestionFunction, ev); err != nil {
				return sent, skipped, fmt.Errorf("replaying s3://%s/%s: %w", t.Bucket, key, err)
			}
			fmt.Fprintf(w, "replayed s3://%s/%s (version %s)\n", t.Bucket, key, version)
			sent++
		}
	}
	return sent, skipped, nil
}

// report returns the report item of an object content (key
// marketdata.ReportKey), or nil.
func report(ctx context.Context, db *dynamodb.Client, tableName, bucket, key, content string) (*marketdata.IngestionReport, error) {
	hash, rng := marketdata.ReportKey(bucket, key, content)
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(tableName),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: hash},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: rng},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the report of s3://%s/%s: %w", bucket, key, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	var r marketdata.IngestionReport
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return nil, fmt.Errorf("the report of s3://%s/%s: %w", bucket, key, err)
	}
	return &r, nil
}

// claimHeld says whether the object version of the S3 event in body has an
// ingestion report claimed (IN_PROGRESS) with a lease that has not expired:
// the invocation that failed holds it until then, and an ingestion of the
// same version skips it as "being ingested by another invocation".
func (t *Target) claimHeld(ctx context.Context, body string) (time.Time, bool, error) {
	var ev events.S3Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return time.Time{}, false, err
	}
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("object key %q: %w", rec.S3.Object.Key, err)
		}
		r, err := report(ctx, t.DynamoDB, t.Table, rec.S3.Bucket.Name, key,
			marketdata.ReportContent(strings.Trim(rec.S3.Object.ETag, `"`), rec.S3.Object.VersionID))
		if err != nil || r == nil {
			return time.Time{}, false, err
		}
		until := time.UnixMilli(r.LeaseUntil)
		if r.Status == marketdata.ReportInProgress && until.After(t.now()) {
			return until, true, nil
		}
	}
	return time.Time{}, false, nil
}
