package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Result lists what was provisioned, for the summary.
type Result struct {
	Provisioned []string // "<type> <name>"
	Skipped     []string // "<type>: <reason>"
	// QueueURLs maps queue ARNs (as in the synth) to their local URLs.
	QueueURLs map[string]string
}

// Apply provisions every Provisioned resource of p through c. Queues are
// created before any redrive policy refers to them, and buckets before their
// configuration; otherwise the synth's order is kept.
func Apply(ctx context.Context, c *awsx.Clients, p *synthread.Plan) (*Result, error) {
	skipped, err := Check(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Skipped: skipped, QueueURLs: map[string]string{}}
	// Phase order: containers first, then what configures them.
	phases := [][]string{
		{"aws:s3/bucketV2:BucketV2", "aws:dynamodb/table:Table", "aws:sqs/queue:Queue", "aws:cloudwatch/eventBus:EventBus"},
		{"aws:s3/bucketVersioningV2:BucketVersioningV2",
			"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
			"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
			"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
			"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
			"aws:sqs/queuePolicy:QueuePolicy", "aws:cloudwatch/eventRule:EventRule"},
	}
	pr := &provisioner{c: c, res: res}
	done := map[string]bool{}
	for i, types := range phases {
		for _, r := range p.Resources() {
			if !contains(types, r.Type) {
				continue
			}
			if err := pr.apply(ctx, r); err != nil {
				return nil, fmt.Errorf("provision %s: %w", r, err)
			}
			res.Provisioned = append(res.Provisioned, r.Type+" "+r.Name)
			done[r.URN] = true
		}
		if i == 0 {
			// Redrive policies inline on queues need every queue to exist.
			for _, r := range p.OfType("aws:sqs/queue:Queue") {
				if err := pr.queueRedrive(ctx, r); err != nil {
					return nil, fmt.Errorf("provision %s: %w", r, err)
				}
			}
		}
	}
	for _, r := range p.Resources() {
		c, err := Classify(r)
		if err != nil {
			return nil, err
		}
		if c.Kind == Provisioned && !done[r.URN] {
			return nil, fmt.Errorf("provision %s: classified as provisioned but no phase handles it", r)
		}
	}
	return res, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

type provisioner struct {
	c   *awsx.Clients
	res *Result
}

// known fails on an input property the local pipeline neither applies nor
// ignores on purpose, so a new setting in a stack is not silently dropped.
func known(r *synthread.Resource, props ...string) error {
	var unknown []string
	for k := range r.Inputs {
		if k == "tags" || k == "tagsAll" || k == "region" {
			continue
		}
		if !contains(props, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("input properties %s are not applied locally; handle or ignore them on purpose in tools/internal/provision",
			strings.Join(unknown, ", "))
	}
	return nil
}

// objects returns the list property key of r, every element an object; an
// element of another kind is an error rather than an empty setting.
func objects(r *synthread.Resource, key string) ([]map[string]any, error) {
	var out []map[string]any
	for i, x := range r.List(key) {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %T, want an object", key, i, x)
		}
		out = append(out, m)
	}
	return out, nil
}

// flag returns the boolean m["enabled"] (false when absent); path names it
// in the error when it is not a boolean.
func flag(m map[string]any, path string) (bool, error) {
	v, ok := m["enabled"]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s is %v, want a boolean", path, v)
	}
	return b, nil
}

func tags(r *synthread.Resource) map[string]string {
	out := map[string]string{}
	for k, v := range synthread.Obj(r.Inputs, "tags") {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func (p *provisioner) apply(ctx context.Context, r *synthread.Resource) error {
	switch r.Type {
	case "aws:s3/bucketV2:BucketV2":
		return p.bucket(ctx, r)
	case "aws:s3/bucketVersioningV2:BucketVersioningV2":
		return p.versioning(ctx, r)
	case "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
		return p.encryption(ctx, r)
	case "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
		return p.lifecycle(ctx, r)
	case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
		if err := known(r, "bucket", "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"); err != nil {
			return err
		}
		_, err := p.c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: aws.String(r.Str("bucket")),
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(r.Bool("blockPublicAcls")), BlockPublicPolicy: aws.Bool(r.Bool("blockPublicPolicy")),
				IgnorePublicAcls: aws.Bool(r.Bool("ignorePublicAcls")), RestrictPublicBuckets: aws.Bool(r.Bool("restrictPublicBuckets")),
			},
		})
		return err
	case "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
		if err := known(r, "bucket", "rule"); err != nil {
			return err
		}
		_, err := p.c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket: aws.String(r.Str("bucket")),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{
				ObjectOwnership: s3types.ObjectOwnership(synthread.Str(r.Map("rule"), "objectOwnership")),
			}}},
		})
		return err
	case "aws:dynamodb/table:Table":
		return p.table(ctx, r)
	case "aws:sqs/queue:Queue":
		return p.queue(ctx, r)
	case "aws:sqs/queuePolicy:QueuePolicy":
		if err := known(r, "queueUrl", "policy"); err != nil {
			return err
		}
		return p.setQueueAttr(ctx, r.Str("queueUrl"), "Policy", r.Str("policy"))
	case "aws:cloudwatch/eventBus:EventBus":
		if err := known(r, "name", "description"); err != nil {
			return err
		}
		in := &eventbridge.CreateEventBusInput{Name: aws.String(r.Str("name"))}
		if d := r.Str("description"); d != "" {
			in.Description = aws.String(d)
		}
		for k, v := range tags(r) {
			in.Tags = append(in.Tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err := p.c.Events.CreateEventBus(ctx, in)
		return err
	case "aws:cloudwatch/eventRule:EventRule":
		if err := known(r, "name", "description", "eventBusName", "eventPattern", "scheduleExpression", "state", "isEnabled"); err != nil {
			return err
		}
		in := &eventbridge.PutRuleInput{Name: aws.String(r.Str("name"))}
		if v := r.Str("eventBusName"); v != "" {
			in.EventBusName = aws.String(v)
		}
		if v := r.Str("eventPattern"); v != "" {
			in.EventPattern = aws.String(v)
		}
		if v := r.Str("scheduleExpression"); v != "" {
			in.ScheduleExpression = aws.String(v)
		}
		if v := r.Str("description"); v != "" {
			in.Description = aws.String(v)
		}
		if v := r.Str("state"); v != "" {
			in.State = ebtypes.RuleState(v)
		}
		for k, v := range tags(r) {
			in.Tags = append(in.Tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err := p.c.Events.PutRule(ctx, in)
		return err
	}
	return fmt.Errorf("no provisioner for %s", r.Type)
}

func (p *provisioner) bucket(ctx context.Context, r *synthread.Resource) error {
	// forceDestroy only matters to `pulumi destroy`.
	if err := known(r, "bucket", "forceDestroy"); err != nil {
		return err
	}
	name := r.Str("bucket")
	if _, err := p.c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return err
	}
	if t := tags(r); len(t) > 0 {
		var set []s3types.Tag
		for k, v := range t {
			set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err := p.c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: set}})
		return err
	}
	return nil
}

func (p *provisioner) versioning(ctx context.Context, r *synthread.Resource) error {
	if err := known(r, "bucket", "versioningConfiguration"); err != nil {
		return err
	}
	status := synthread.Str(r.Map("versioningConfiguration"), "status")
	if status == "" {
		return fmt.Errorf("no versioningConfiguration.status")
	}
	_, err := p.c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(r.Str("bucket")),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(status)},
	})
	return err
}

func (p *provisioner) encryption(ctx context.Context, r *synthread.Resource) error {
	if err := known(r, "bucket", "rules"); err != nil {
		return err
	}
	list, err := objects(r, "rules")
	if err != nil {
		return err
	}
	var rules []s3types.ServerSideEncryptionRule
	for _, m := range list {
		def := synthread.Obj(m, "applyServerSideEncryptionByDefault")
		rule := s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryption(synthread.Str(def, "sseAlgorithm")),
		}}
		if k := synthread.Str(def, "kmsMasterKeyId"); k != "" {
			rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(k)
		}
		if b, ok := m["bucketKeyEnabled"].(bool); ok {
			rule.BucketKeyEnabled = aws.Bool(b)
		}
		rules = append(rules, rule)
	}
	_, err = p.c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket:                            aws.String(r.Str("bucket")),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: rules},
	})
	return err
}

func (p *provisioner) lifecycle(ctx context.Context, r *synthread.Resource) error {
	if err := known(r, "bucket", "rules"); err != nil {
		return err
	}
	list, err := objects(r, "rules")
	if err != nil {
		return err
	}
	var rules []s3types.LifecycleRule
	for _, m := range list {
		rule := s3types.LifecycleRule{ID: aws.String(synthread.Str(m, "id")), Status: s3types.ExpirationStatus(synthread.Str(m, "status"))}
		if f := synthread.Obj(m, "filter"); f != nil {
			rule.Filter = &s3types.LifecycleRuleFilter{Prefix: aws.String(synthread.Str(f, "prefix"))}
		}
		if e := synthread.Obj(m, "expiration"); e != nil {
			rule.Expiration = &s3types.LifecycleExpiration{}
			if d := synthread.Int(e, "days", 0); d > 0 {
				rule.Expiration.Days = aws.Int32(int32(d))
			}
			if b, ok := e["expiredObjectDeleteMarker"].(bool); ok {
				rule.Expiration.ExpiredObjectDeleteMarker = aws.Bool(b)
			}
		}
		if n := synthread.Obj(m, "noncurrentVersionExpiration"); n != nil {
			rule.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(synthread.Int(n, "noncurrentDays", 0)))}
		}
		if a := synthread.Obj(m, "abortIncompleteMultipartUpload"); a != nil {
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(synthread.Int(a, "daysAfterInitiation", 0)))}
		}
		rules = append(rules, rule)
	}
	_, err = p.c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(r.Str("bucket")),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	})
	return err
}

func (p *provisioner) table(ctx context.Context, r *synthread.Resource) error {
	// deletionProtectionEnabled only matters to deletion.
	if err := known(r, "name", "hashKey", "rangeKey", "attributes", "billingMode", "pointInTimeRecovery", "ttl",
		"deletionProtectionEnabled"); err != nil {
		return err
	}
	name := r.Str("name")
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingMode(r.Str("billingMode"))}
	attrs, err := objects(r, "attributes")
	if err != nil {
		return err
	}
	for _, m := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(synthread.Str(m, "name")), AttributeType: ddbtypes.ScalarAttributeType(synthread.Str(m, "type")),
		})
	}
	in.KeySchema = []ddbtypes.KeySchemaElement{{AttributeName: aws.String(r.Str("hashKey")), KeyType: ddbtypes.KeyTypeHash}}
	if rk := r.Str("rangeKey"); rk != "" {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
	}
	for k, v := range tags(r) {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := p.c.DynamoDB.CreateTable(ctx, in); err != nil {
		return err
	}
	if pitr := r.Map("pointInTimeRecovery"); pitr != nil {
		enabled, err := flag(pitr, "pointInTimeRecovery.enabled")
		if err != nil {
			return err
		}
		if _, err := p.c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        aws.String(name),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(enabled)},
		}); err != nil {
			return fmt.Errorf("point-in-time recovery: %w", err)
		}
	}
	if ttl := r.Map("ttl"); ttl != nil {
		enabled, err := flag(ttl, "ttl.enabled")
		if err != nil {
			return err
		}
		if attr := synthread.Str(ttl, "attributeName"); attr != "" {
			if _, err := p.c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(enabled)},
			}); err != nil {
				return fmt.Errorf("ttl: %w", err)
			}
		}
	}
	return nil
}

// queueAttributes maps the Queue resource's properties to SQS attributes.
var queueAttributes = map[string]string{
	"visibilityTimeoutSeconds":     "VisibilityTimeout",
	"messageRetentionSeconds":      "MessageRetentionPeriod",
	"maxMessageSize":               "MaximumMessageSize",
	"delaySeconds":                 "DelaySeconds",
	"receiveWaitTimeSeconds":       "ReceiveMessageWaitTimeSeconds",
	"sqsManagedSseEnabled":         "SqsManagedSseEnabled",
	"kmsMasterKeyId":               "KmsMasterKeyId",
	"kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
	"fifoQueue":                    "FifoQueue",
	"contentBasedDeduplication":    "ContentBasedDeduplication",
	"policy":                       "Policy",
	"redriveAllowPolicy":           "RedriveAllowPolicy",
}

func (p *provisioner) queue(ctx context.Context, r *synthread.Resource) error {
	props := []string{"name", "redrivePolicy"}
	for k := range queueAttributes {
		props = append(props, k)
	}
	if err := known(r, props...); err != nil {
		return err
	}
	attrs := map[string]string{}
	for prop, attr := range queueAttributes {
		v, ok := r.Inputs[prop]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			attrs[attr] = x
		case bool:
			attrs[attr] = strconv.FormatBool(x)
		case float64:
			attrs[attr] = strconv.FormatInt(int64(x), 10)
		default:
			return fmt.Errorf("property %s has unexpected value %v", prop, v)
		}
	}
	out, err := p.c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(r.Str("name")), Attributes: attrs, Tags: tags(r)})
	if err != nil {
		return err
	}
	if arn := r.Str("arn"); arn != "" {
		p.res.QueueURLs[arn] = aws.ToString(out.QueueUrl)
	}
	return nil
}

// queueRedrive applies a queue's inline redrive policy once every queue exists.
func (p *provisioner) queueRedrive(ctx context.Context, r *synthread.Resource) error {
	rp := r.Str("redrivePolicy")
	if rp == "" {
		return nil
	}
	var v struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(rp), &v); err != nil || v.DeadLetterTargetArn == "" || v.MaxReceiveCount == nil {
		return fmt.Errorf("redrivePolicy %q is not a valid redrive policy", rp)
	}
	return p.setQueueAttr(ctx, r.Str("url"), "RedrivePolicy", rp)
}

// setQueueAttr sets one attribute on the queue named by a synth URL (the
// queue name is its last path element, as in AWS).
func (p *provisioner) setQueueAttr(ctx context.Context, synthURL, attr, value string) error {
	url, err := p.localURL(ctx, synthURL)
	if err != nil {
		return err
	}
	_, err = p.c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(url), Attributes: map[string]string{attr: value},
	})
	return err
}

func (p *provisioner) localURL(ctx context.Context, synthURL string) (string, error) {
	i := strings.LastIndexByte(synthURL, '/')
	if synthURL == "" || i < 0 {
		return "", fmt.Errorf("queue URL %q has no queue name", synthURL)
	}
	out, err := p.c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(synthURL[i+1:])})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}
