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
	"github.com/marketanalytics/pipeline/tools/internal/plan"
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
func Apply(ctx context.Context, c *awsx.Clients, p *plan.Plan) (*Result, error) {
	skipped, err := Check(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Skipped: skipped, QueueURLs: map[string]string{}}
	// Phase order: containers first, then what configures them.
	phases := [][]string{
		{"aws:s3/bucketV2:BucketV2", "aws:dynamodb/table:Table", "aws:sqs/queue:Queue", "aws:cloudcontrol/resource:Resource", "aws:cloudwatch/eventBus:EventBus"},
		{"aws:s3/bucketVersioningV2:BucketVersioningV2",
			"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
			"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
			"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
			"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
			"aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redrivePolicy:RedrivePolicy",
			"aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "aws:cloudwatch/eventRule:EventRule"},
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
			for _, r := range pr.ccRedrive {
				if err := pr.setQueueAttr(ctx, "/"+r.queue, "RedrivePolicy", r.policy); err != nil {
					return nil, fmt.Errorf("provision %s: %w", r.res, err)
				}
			}
		}
	}
	for _, r := range p.Resources() {
		if c, _ := Classify(r); c.Kind == Provisioned && !done[r.URN] {
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
	// ccRedrive are Cloud Control queues' redrive policies, applied once
	// every queue exists.
	ccRedrive []ccRedrive
}

type ccRedrive struct {
	res           *plan.Resource
	queue, policy string
}

// known fails on an input property the local pipeline neither applies nor
// ignores on purpose, so a new setting in a stack is not silently dropped.
func known(r *plan.Resource, props ...string) error {
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

func tags(r *plan.Resource) map[string]string {
	out := map[string]string{}
	for k, v := range plan.Obj(r.Inputs, "tags") {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func (p *provisioner) apply(ctx context.Context, r *plan.Resource) error {
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
				ObjectOwnership: s3types.ObjectOwnership(plan.Str(r.Map("rule"), "objectOwnership")),
			}}},
		})
		return err
	case "aws:dynamodb/table:Table":
		return p.table(ctx, r)
	case "aws:sqs/queue:Queue":
		return p.queue(ctx, r)
	case "aws:cloudcontrol/resource:Resource":
		return p.cloudControl(ctx, r)
	case "aws:sqs/queuePolicy:QueuePolicy":
		if err := known(r, "queueUrl", "policy"); err != nil {
			return err
		}
		return p.setQueueAttr(ctx, r.Str("queueUrl"), "Policy", r.Str("policy"))
	case "aws:sqs/redrivePolicy:RedrivePolicy":
		if err := known(r, "queueUrl", "redrivePolicy"); err != nil {
			return err
		}
		return p.setQueueAttr(ctx, r.Str("queueUrl"), "RedrivePolicy", r.Str("redrivePolicy"))
	case "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy":
		if err := known(r, "queueUrl", "redriveAllowPolicy"); err != nil {
			return err
		}
		return p.setQueueAttr(ctx, r.Str("queueUrl"), "RedriveAllowPolicy", r.Str("redriveAllowPolicy"))
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

func (p *provisioner) bucket(ctx context.Context, r *plan.Resource) error {
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

func (p *provisioner) versioning(ctx context.Context, r *plan.Resource) error {
	if err := known(r, "bucket", "versioningConfiguration"); err != nil {
		return err
	}
	status := plan.Str(r.Map("versioningConfiguration"), "status")
	if status == "" {
		return fmt.Errorf("no versioningConfiguration.status")
	}
	_, err := p.c.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(r.Str("bucket")),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(status)},
	})
	return err
}

func (p *provisioner) encryption(ctx context.Context, r *plan.Resource) error {
	if err := known(r, "bucket", "rules"); err != nil {
		return err
	}
	var rules []s3types.ServerSideEncryptionRule
	for _, x := range r.List("rules") {
		m, _ := x.(map[string]any)
		def := plan.Obj(m, "applyServerSideEncryptionByDefault")
		rule := s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryption(plan.Str(def, "sseAlgorithm")),
		}}
		if k := plan.Str(def, "kmsMasterKeyId"); k != "" {
			rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(k)
		}
		if b, ok := m["bucketKeyEnabled"].(bool); ok {
			rule.BucketKeyEnabled = aws.Bool(b)
		}
		rules = append(rules, rule)
	}
	_, err := p.c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket:                            aws.String(r.Str("bucket")),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: rules},
	})
	return err
}

func (p *provisioner) lifecycle(ctx context.Context, r *plan.Resource) error {
	if err := known(r, "bucket", "rules"); err != nil {
		return err
	}
	var rules []s3types.LifecycleRule
	for _, x := range r.List("rules") {
		m, _ := x.(map[string]any)
		rule := s3types.LifecycleRule{ID: aws.String(plan.Str(m, "id")), Status: s3types.ExpirationStatus(plan.Str(m, "status"))}
		if f := plan.Obj(m, "filter"); f != nil {
			rule.Filter = &s3types.LifecycleRuleFilter{Prefix: aws.String(plan.Str(f, "prefix"))}
		}
		if e := plan.Obj(m, "expiration"); e != nil {
			rule.Expiration = &s3types.LifecycleExpiration{}
			if d := plan.Int(e, "days", 0); d > 0 {
				rule.Expiration.Days = aws.Int32(int32(d))
			}
			if b, ok := e["expiredObjectDeleteMarker"].(bool); ok {
				rule.Expiration.ExpiredObjectDeleteMarker = aws.Bool(b)
			}
		}
		if n := plan.Obj(m, "noncurrentVersionExpiration"); n != nil {
			rule.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(int32(plan.Int(n, "noncurrentDays", 0)))}
		}
		if a := plan.Obj(m, "abortIncompleteMultipartUpload"); a != nil {
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(plan.Int(a, "daysAfterInitiation", 0)))}
		}
		rules = append(rules, rule)
	}
	_, err := p.c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(r.Str("bucket")),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	})
	return err
}

func (p *provisioner) table(ctx context.Context, r *plan.Resource) error {
	// deletionProtectionEnabled only matters to deletion.
	if err := known(r, "name", "hashKey", "rangeKey", "attributes", "billingMode", "pointInTimeRecovery", "ttl",
		"deletionProtectionEnabled", "globalSecondaryIndexes", "streamEnabled", "streamViewType", "serverSideEncryption"); err != nil {
		return err
	}
	name := r.Str("name")
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingMode(r.Str("billingMode"))}
	for _, x := range r.List("attributes") {
		m, _ := x.(map[string]any)
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(plan.Str(m, "name")), AttributeType: ddbtypes.ScalarAttributeType(plan.Str(m, "type")),
		})
	}
	in.KeySchema = []ddbtypes.KeySchemaElement{{AttributeName: aws.String(r.Str("hashKey")), KeyType: ddbtypes.KeyTypeHash}}
	if rk := r.Str("rangeKey"); rk != "" {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, x := range r.List("globalSecondaryIndexes") {
		m, _ := x.(map[string]any)
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(plan.Str(m, "name")),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String(plan.Str(m, "hashKey")), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(plan.Str(m, "projectionType"))},
		}
		if rk := plan.Str(m, "rangeKey"); rk != "" {
			gsi.KeySchema = append(gsi.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if r.Bool("streamEnabled") {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(r.Str("streamViewType"))}
	}
	for k, v := range tags(r) {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := p.c.DynamoDB.CreateTable(ctx, in); err != nil {
		return err
	}
	if pitr := r.Map("pointInTimeRecovery"); pitr != nil {
		enabled, _ := pitr["enabled"].(bool)
		if _, err := p.c.DynamoDB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        aws.String(name),
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(enabled)},
		}); err != nil {
			return fmt.Errorf("point-in-time recovery: %w", err)
		}
	}
	if ttl := r.Map("ttl"); ttl != nil {
		enabled, _ := ttl["enabled"].(bool)
		if attr := plan.Str(ttl, "attributeName"); attr != "" {
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

func (p *provisioner) queue(ctx context.Context, r *plan.Resource) error {
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
func (p *provisioner) queueRedrive(ctx context.Context, r *plan.Resource) error {
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

// cfnQueueAttributes maps AWS::SQS::Queue properties (Cloud Control's
// desired state) to SQS attributes.
var cfnQueueAttributes = map[string]string{
	"VisibilityTimeout":             "VisibilityTimeout",
	"MessageRetentionPeriod":        "MessageRetentionPeriod",
	"MaximumMessageSize":            "MaximumMessageSize",
	"DelaySeconds":                  "DelaySeconds",
	"ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
	"SqsManagedSseEnabled":          "SqsManagedSseEnabled",
	"KmsMasterKeyId":                "KmsMasterKeyId",
	"KmsDataKeyReusePeriodSeconds":  "KmsDataKeyReusePeriodSeconds",
	"FifoQueue":                     "FifoQueue",
	"ContentBasedDeduplication":     "ContentBasedDeduplication",
	"RedriveAllowPolicy":            "RedriveAllowPolicy",
}

// cloudControl provisions a Cloud Control resource from its desired state
// (CloudFormation property names). Only the types the stacks use are known.
func (p *provisioner) cloudControl(ctx context.Context, r *plan.Resource) error {
	if err := known(r, "typeName", "desiredState", "roleArn"); err != nil {
		return err
	}
	var state map[string]any
	if err := json.Unmarshal([]byte(r.Str("desiredState")), &state); err != nil {
		return fmt.Errorf("desiredState: %w", err)
	}
	switch tn := r.Str("typeName"); tn {
	case "AWS::SQS::Queue":
		return p.cfnQueue(ctx, r, state)
	default:
		return fmt.Errorf("Cloud Control type %s is not provisioned locally; add it to tools/internal/provision", tn)
	}
}

func (p *provisioner) cfnQueue(ctx context.Context, r *plan.Resource, state map[string]any) error {
	name, _ := state["QueueName"].(string)
	if name == "" {
		return fmt.Errorf("AWS::SQS::Queue without QueueName")
	}
	attrs := map[string]string{}
	tags := map[string]string{}
	var redrive string
	for k, v := range state {
		switch k {
		case "QueueName":
			continue
		case "Tags":
			for _, x := range anyList(v) {
				m, _ := x.(map[string]any)
				tags[plan.Str(m, "Key")] = plan.Str(m, "Value")
			}
			continue
		case "RedrivePolicy":
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			redrive = string(b)
			continue
		}
		attr, ok := cfnQueueAttributes[k]
		if !ok {
			return fmt.Errorf("AWS::SQS::Queue property %s is not applied locally; handle it in tools/internal/provision", k)
		}
		switch x := v.(type) {
		case string:
			attrs[attr] = x
		case bool:
			attrs[attr] = strconv.FormatBool(x)
		case float64:
			attrs[attr] = strconv.FormatInt(int64(x), 10)
		case map[string]any:
			b, err := json.Marshal(x)
			if err != nil {
				return err
			}
			attrs[attr] = string(b)
		default:
			return fmt.Errorf("AWS::SQS::Queue property %s has unexpected value %v", k, v)
		}
	}
	out, err := p.c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs, Tags: tags})
	if err != nil {
		return err
	}
	var props map[string]any
	json.Unmarshal([]byte(r.Str("properties")), &props)
	arn := plan.Str(props, "Arn")
	if arn == "" {
		arn = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", p.c.Config.Region, awsx.Account, name)
	}
	p.res.QueueURLs[arn] = aws.ToString(out.QueueUrl)
	if redrive != "" {
		p.ccRedrive = append(p.ccRedrive, ccRedrive{res: r, queue: name, policy: redrive})
	}
	return nil
}

func anyList(v any) []any { l, _ := v.([]any); return l }
