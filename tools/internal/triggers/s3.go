package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// wireBucketNotifications wires each bucket notification's Lambda
// destinations. moto cannot invoke a local process, but it does deliver S3
// notifications to SQS with AWS's event matching and key filters. So each
// Lambda destination becomes a queue destination (same events, same
// filters) on an internal queue, which the glue drains into the function as
// an asynchronous invocation with the S3 event as its payload — exactly the
// event document Lambda would receive, versionId and sequencer included when
// moto runs motoserver's s3events shim (the pipeline's private moto does).
//
// As in AWS, a destination without a lambda Permission for s3.amazonaws.com
// and this bucket is refused (S3 validates it when the notification is put).
func (g *Glue) wireBucketNotifications(ctx context.Context) error {
	for _, r := range g.plan.OfType("aws:s3/bucketNotification:BucketNotification") {
		if len(r.List("queues")) > 0 || len(r.List("topics")) > 0 || r.Bool("eventbridge") {
			return fmt.Errorf("%s: only Lambda destinations are wired locally", r)
		}
		bucket := r.Str("bucket")
		bucketArn := "arn:aws:s3:::" + bucket
		cfg := &s3types.NotificationConfiguration{}
		type drain struct {
			fn  *Function
			url string
		}
		var drains []drain
		for i, x := range r.List("lambdaFunctions") {
			m, _ := x.(map[string]any)
			fn, err := g.function(synthread.Str(m, "lambdaFunctionArn"))
			if err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
			allowed, err := g.permitted(fn, "s3.amazonaws.com", bucketArn)
			if err != nil {
				return err
			}
			if !allowed {
				return fmt.Errorf("%s: S3 would refuse this notification: no lambda Permission lets s3.amazonaws.com invoke %s for %s",
					r, fn.Name, bucketArn)
			}
			id := synthread.Str(m, "id")
			if id == "" {
				id = fmt.Sprintf("lambda-%d", i)
			}
			url, arn, err := g.internalQueue(ctx, "s3-"+bucket+"-"+id)
			if err != nil {
				return err
			}
			qc := s3types.QueueConfiguration{Id: aws.String(id), QueueArn: aws.String(arn)}
			for _, e := range synthread.Strings(anyList(m["events"])) {
				qc.Events = append(qc.Events, s3types.Event(e))
			}
			var rules []s3types.FilterRule
			if p := synthread.Str(m, "filterPrefix"); p != "" {
				rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNamePrefix, Value: aws.String(p)})
			}
			if s := synthread.Str(m, "filterSuffix"); s != "" {
				rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(s)})
			}
			if len(rules) > 0 {
				qc.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
			}
			cfg.QueueConfigurations = append(cfg.QueueConfigurations, qc)
			drains = append(drains, drain{fn, url})
			g.Wired = append(g.Wired, fmt.Sprintf("s3://%s %v%s → %s (asynchronous; %d retries, then %s)",
				bucket, qc.Events, filterText(rules), fn.Name, fn.Async.MaxRetries, orNone(fn.DeadLetterARN)))
		}
		if _, err := g.aws.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(bucket), NotificationConfiguration: cfg,
		}); err != nil {
			return fmt.Errorf("%s: put notification: %w", r, err)
		}
		for _, d := range drains {
			d := d
			g.go_(func() { g.drainS3(d.fn, d.url, bucket) })
		}
	}
	return nil
}

func anyList(v any) []any { l, _ := v.([]any); return l }

func filterText(rules []s3types.FilterRule) string {
	s := ""
	for _, r := range rules {
		s += fmt.Sprintf(" %s=%q", r.Name, aws.ToString(r.Value))
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "dropped"
	}
	return s
}

// drainS3 turns the internal queue's S3 events into asynchronous
// invocations. The message is deleted once Lambda has "accepted" the event:
// from then on the asynchronous retries and the dead-letter queue apply.
func (g *Glue) drainS3(fn *Function, url, bucket string) {
	for g.ctx.Err() == nil {
		out, err := g.aws.SQS.ReceiveMessage(g.ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			if g.ctx.Err() == nil {
				g.logf("s3://%s notifications: receive: %v", bucket, err)
				g.sleep(time.Second)
			}
			continue
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			var probe struct {
				Event   string `json:"Event"`
				Records []any  `json:"Records"`
			}
			if err := json.Unmarshal([]byte(body), &probe); err != nil || probe.Event == "s3:TestEvent" || len(probe.Records) == 0 {
				// S3 sends a test event to a queue destination when it
				// is configured; Lambda destinations never see it.
			} else {
				g.stats.S3Events.Add(1)
				g.invokeAsync(fn, []byte(body), "s3://"+bucket, nil)
			}
			if _, err := g.aws.SQS.DeleteMessage(g.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil && g.ctx.Err() == nil {
				g.logf("s3://%s notifications: delete: %v", bucket, err)
			}
		}
	}
}
