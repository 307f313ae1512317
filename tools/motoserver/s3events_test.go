package motoserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/tools/internal/awsx"
)

// s3Events uploads objects to a bucket (versioned or not) whose
// ObjectCreated notifications go to a queue, and returns the records of the
// events received, in upload order, with each upload's version id.
func s3Events(t *testing.T, endpoint string, versioned bool, bodies []string) ([]events.S3EventRecord, []string) {
	t.Helper()
	ctx := context.Background()
	c := awsx.New(endpoint)
	bucket := fmt.Sprintf("events-%t", versioned)
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if versioned {
		if _, err := c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			Id:       aws.String("ingest"),
			QueueArn: aws.String("arn:aws:sqs:us-east-1:" + awsx.Account + ":" + bucket),
			Events:   []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, b := range bodies {
		out, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a key/ticks.csv"), Body: strings.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, aws.ToString(out.VersionId))
	}
	var recs []events.S3EventRecord
	for deadline := time.Now().Add(10 * time.Second); len(recs) < len(bodies) && time.Now().Before(deadline); {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev events.S3Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, ev.Records...) // a test event has none
		}
	}
	if len(recs) != len(bodies) {
		t.Fatalf("%d events for %d uploads", len(recs), len(bodies))
	}
	return recs, versions
}

// TestS3EventsLikeAWS: with the s3events shim, moto's ObjectCreated events
// carry what AWS's carry for a versioned bucket (the version id the upload
// got, a sequencer that orders the events of a key, the size and the ETag),
// and nothing else changes: plain moto sends the same events without
// versionId and sequencer.
func TestS3EventsLikeAWS(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	plain, err := Start(Options{RepoDir: repoDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Stop()
	shim, err := Start(Options{RepoDir: repoDir(), S3Events: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shim.Stop()
	bodies := []string{"symbol,timestamp,price,volume\n", "symbol,timestamp,price,volume\nAAPL,1717243200000,1,1\n", "symbol,timestamp,price,volume\n"}
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("versioned=%t", versioned), func(t *testing.T) {
			want, _ := s3Events(t, plain.Endpoint(), versioned, bodies)
			got, versions := s3Events(t, shim.Endpoint(), versioned, bodies)
			prev := ""
			for i, r := range got {
				o := r.S3.Object
				if versioned && (o.VersionID == "" || o.VersionID != versions[i]) || !versioned && o.VersionID != "" {
					t.Errorf("event %d: versionId %q; the upload's is %q", i, o.VersionID, versions[i])
				}
				if o.Sequencer == "" || strings.Trim(o.Sequencer, "0123456789ABCDEF") != "" || len(o.Sequencer) != len(prev) && prev != "" || o.Sequencer <= prev {
					t.Errorf("event %d: sequencer %q after %q: want growing upper-case hex of one length", i, o.Sequencer, prev)
				}
				prev = o.Sequencer
				if o.Size != int64(len(bodies[i])) || o.ETag == "" || strings.Contains(o.ETag, `"`) {
					t.Errorf("event %d: size %d, eTag %q", i, o.Size, o.ETag)
				}
				w := want[i]
				if w.S3.Object.VersionID != "" || w.S3.Object.Sequencer != "" {
					t.Fatalf("plain moto now sends versionId/sequencer (%+v): the shim may be unneeded", w.S3.Object)
				}
				// Everything else is moto's own.
				r.S3.Object.VersionID, r.S3.Object.Sequencer = "", ""
				r.EventTime, w.EventTime = time.Time{}, time.Time{}
				if r.S3.Bucket.Name != w.S3.Bucket.Name || r.S3.Object != w.S3.Object || r.EventName != w.EventName || r.S3.ConfigurationID != w.S3.ConfigurationID {
					t.Errorf("event %d differs from plain moto's beyond versionId and sequencer:\n got %+v\nwant %+v", i, r, w)
				}
			}
		})
	}
}
