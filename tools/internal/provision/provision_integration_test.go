//go:build integration

package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// uniquePlan loads the fixture synth with the "dev" suffix replaced by a
// unique one, so the test can share a moto server with other tests.
func uniquePlan(t *testing.T) (*synthread.Plan, string) {
	t.Helper()
	sfx := fmt.Sprintf("it%d", time.Now().UnixNano()%1e9)
	dir := t.TempDir()
	for _, f := range []string{"storage", "messaging", "compute", "api"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/synth", f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f+".json"), []byte(strings.ReplaceAll(string(b), "-dev", "-"+sfx)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := synthread.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p, sfx
}

func TestApplyProvisionsWhatTheSynthDeclares(t *testing.T) {
	endpoint := os.Getenv("MOTO_ENDPOINT")
	if endpoint == "" {
		t.Fatal("MOTO_ENDPOINT is not set: run `go run mage.go test`, or start moto_server and set it")
	}
	ctx := context.Background()
	p, sfx := uniquePlan(t)
	c := awsx.New(endpoint)
	res, err := Apply(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	bucket, _ := p.Output("storage", "bucketName")
	tableName, _ := p.Output("storage", "tableName")
	if !strings.HasSuffix(bucket, sfx) {
		t.Fatalf("bucket %q does not carry the test suffix", bucket)
	}

	v, err := c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || v.Status != "Enabled" {
		t.Errorf("versioning %v %v", v.Status, err)
	}
	enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Errorf("encryption %+v %v", enc, err)
	}
	lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	want := p.OfType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")[0].List("rules")
	if len(lc.Rules) != len(want) {
		t.Errorf("%d lifecycle rules, want %d", len(lc.Rules), len(want))
	}
	var expDays, noncurrent, abort int32
	for _, r := range lc.Rules {
		if r.Expiration != nil && r.Expiration.Days != nil {
			expDays = *r.Expiration.Days
		}
		if r.NoncurrentVersionExpiration != nil {
			noncurrent = *r.NoncurrentVersionExpiration.NoncurrentDays
		}
		if r.AbortIncompleteMultipartUpload != nil {
			abort = *r.AbortIncompleteMultipartUpload.DaysAfterInitiation
		}
	}
	if expDays != 30 || noncurrent != 30 || abort < 1 {
		t.Errorf("lifecycle: expiration %d, noncurrent %d, abort multipart %d", expDays, noncurrent, abort)
	}
	pab, err := c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("public access block %+v %v", pab, err)
	}
	tags, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil || len(tags.TagSet) != 2 {
		t.Errorf("bucket tags %+v %v", tags, err)
	}

	tbl, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tableName)})
	if err != nil {
		t.Fatal(err)
	}
	ks := tbl.Table.KeySchema
	if len(ks) != 2 || aws.ToString(ks[0].AttributeName) != "symbol" || aws.ToString(ks[1].AttributeName) != "timestamp" ||
		tbl.Table.BillingModeSummary == nil || tbl.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("table %+v", tbl.Table)
	}
	pitr, err := c.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(tableName)})
	if err != nil || pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "ENABLED" {
		t.Errorf("point-in-time recovery %+v %v", pitr, err)
	}
	ttl, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tableName)})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != "ENABLED" || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Errorf("ttl %+v %v", ttl, err)
	}

	qarn, _ := p.Output("messaging", "queueArn")
	dlqArn, _ := p.Output("messaging", "dlqArn")
	q, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(res.QueueURLs[qarn]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	a := q.Attributes
	var rp struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	if err := json.Unmarshal([]byte(a["RedrivePolicy"]), &rp); err != nil {
		t.Errorf("processing queue redrive policy %q: %v", a["RedrivePolicy"], err)
	}
	if a["VisibilityTimeout"] != "300" || a["MaximumMessageSize"] != strconv.Itoa(limits.QueueMaxMessageBytes) || a["MessageRetentionPeriod"] != "345600" ||
		rp.DeadLetterTargetArn != dlqArn || rp.MaxReceiveCount.String() != "3" {
		t.Errorf("processing queue attributes %v", a)
	}
	d, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(res.QueueURLs[dlqArn]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil || d.Attributes["MessageRetentionPeriod"] != "1209600" || d.Attributes["MaximumMessageSize"] != strconv.Itoa(limits.QueueMaxMessageBytes) {
		t.Errorf("DLQ attributes %v %v", d.Attributes, err)
	}
	// The DLQ's RedriveAllowPolicy is passed to CreateQueue with the other
	// attributes, but moto 5.2.5 does not keep that attribute (its sqs
	// module never mentions it), so it cannot be read back here; the
	// messaging stack's tests assert the policy.

	bus, _ := p.Output("messaging", "eventBusName")
	if _, err := c.Events.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Errorf("event bus %s: %v", bus, err)
	}
	for _, r := range p.OfType("aws:cloudwatch/eventRule:EventRule") {
		in := &eventbridge.DescribeRuleInput{Name: aws.String(r.Str("name"))}
		if b := r.Str("eventBusName"); b != "" {
			in.EventBusName = aws.String(b)
		}
		got, err := c.Events.DescribeRule(ctx, in)
		if err != nil {
			t.Errorf("rule %s: %v", r.Str("name"), err)
			continue
		}
		if aws.ToString(got.ScheduleExpression) != r.Str("scheduleExpression") || (r.Str("eventPattern") != "" && got.EventPattern == nil) {
			t.Errorf("rule %s: schedule %q pattern %v", r.Str("name"), aws.ToString(got.ScheduleExpression), got.EventPattern)
		}
	}
	if len(res.Skipped) == 0 {
		t.Error("no resource type listed as skipped on purpose")
	}
}
