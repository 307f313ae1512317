// Package storage is the storage layer of the market-data pipeline: the raw
// data bucket and the DynamoDB table that holds raw points, per-symbol state,
// aggregates and ingestion reports.
//
// It is the first layer; it references no other stack. Its outputs (bucket and
// table name and ARN) are read by the compute and api layers.
package storage

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// AbortIncompleteUploadDays is how long an unfinished multipart upload may
// linger before S3 discards its parts (which are billed but invisible).
const AbortIncompleteUploadDays = 1

// Lifecycle rule ids.
const (
	RuleExpire              = "expire-after-retention"
	RuleExpiredDeleteMarker = "remove-expired-delete-markers"
)

// Program creates the storage layer.
func Program(ctx *pulumi.Context) (common.Outputs, error) {
	names, err := common.NamesInRegion(ctx)
	if err != nil {
		return nil, err
	}
	bucket, err := newBucket(ctx, names)
	if err != nil {
		return nil, err
	}
	table, err := newTable(ctx, names)
	if err != nil {
		return nil, err
	}
	return common.Outputs{
		outputs.BucketName: bucket.Bucket,
		outputs.BucketArn:  bucket.Arn,
		outputs.TableName:  table.Name,
		outputs.TableArn:   table.Arn,

		outputs.EnvironmentSuffix: pulumi.String(names.Suffix()),
	}, nil
}

// newBucket creates the raw-data bucket and its configuration, one resource
// per concern (the non-deprecated v6 style).
func newBucket(ctx *pulumi.Context, names naming.Names) (*s3.BucketV2, error) {
	bucket, err := s3.NewBucketV2(ctx, "bucket", &s3.BucketV2Args{
		Bucket: pulumi.String(names.Bucket()),
		// A versioned bucket full of objects must still destroy with the stack.
		ForceDestroy: pulumi.Bool(true),
		Tags:         common.Tags(),
	})
	if err != nil {
		return nil, err
	}
	if err := secureBucket(ctx, bucket); err != nil {
		return nil, err
	}
	if err := retainData(ctx, bucket); err != nil {
		return nil, err
	}
	return bucket, nil
}

// secureBucket encrypts the bucket at rest and locks down access to it.
func secureBucket(ctx *pulumi.Context, bucket *s3.BucketV2) error {
	// SSE-S3. A bucket key only saves KMS requests, so it has no use here.
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "bucket-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
			},
		},
	}); err != nil {
		return err
	}
	// The access settings are written one after the other (ownership, public
	// access block, policy): S3 answers concurrent writes of them to one
	// bucket with "OperationAborted: A conflicting conditional operation is
	// currently in progress", a known race on create.
	//
	// ACLs disabled: the bucket owner owns every object (the S3 default for
	// new buckets since 2023, stated so that drift is visible).
	ownership, err := s3.NewBucketOwnershipControls(ctx, "bucket-ownership", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	})
	if err != nil {
		return err
	}
	publicAccess, err := s3.NewBucketPublicAccessBlock(ctx, "bucket-public-access-block", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, pulumi.DependsOn([]pulumi.Resource{ownership}))
	if err != nil {
		return err
	}
	_, err = s3.NewBucketPolicy(ctx, "bucket-policy", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: common.PolicyJSON(func(in *common.PolicyInputs) common.Policy {
			return BucketPolicy(in.Get("bucket"))
		}, pulumi.StringMap{"bucket": bucket.Arn}),
	}, pulumi.DependsOn([]pulumi.Resource{publicAccess}))
	return err
}

// retainData versions the bucket and expires what is older than the data
// retention period.
func retainData(ctx *pulumi.Context, bucket *s3.BucketV2) error {
	versioning, err := s3.NewBucketVersioningV2(ctx, "bucket-versioning", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	})
	if err != nil {
		return err
	}
	// Noncurrent-version rules only act once versioning is on.
	_, err = s3.NewBucketLifecycleConfigurationV2(ctx, "bucket-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  lifecycleRules(),
	}, pulumi.DependsOn([]pulumi.Resource{versioning}))
	return err
}

// BucketPolicy denies every request to the bucket and its objects that does
// not use TLS. Access itself is granted by the functions' IAM roles only.
func BucketPolicy(bucketArn string) common.Policy {
	return common.Policy{Statement: []common.Statement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]interface{}{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{bucketArn, bucketArn + "/*"},
		Condition: map[string]map[string]interface{}{"Bool": {"aws:SecureTransport": "false"}},
	}}}
}

// lifecycleRules keep raw files for the data retention period. On this
// versioned bucket, expiring a current version turns it into a noncurrent one
// (behind a delete marker), which is removed after the same period; the delete
// marker left alone is then removed by the second rule, since S3 does not
// accept ExpiredObjectDeleteMarker in the same Expiration as Days. Both rules
// carry an explicit empty-prefix filter (the whole bucket).
func lifecycleRules() s3.BucketLifecycleConfigurationV2RuleArray {
	wholeBucket := &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")}
	return s3.BucketLifecycleConfigurationV2RuleArray{
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String(RuleExpire),
			Status:     pulumi.String("Enabled"),
			Filter:     wholeBucket,
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(limits.DataRetentionDays)},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(limits.DataRetentionDays),
			},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(AbortIncompleteUploadDays),
			},
		},
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String(RuleExpiredDeleteMarker),
			Status:     pulumi.String("Enabled"),
			Filter:     wholeBucket,
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
		},
	}
}

// newTable creates the pipeline's single table. Every item kind shares the key
// schema (see shared/marketdata for the key patterns), so there is no index.
func newTable(ctx *pulumi.Context, names naming.Names) (*dynamodb.Table, error) {
	return dynamodb.NewTable(ctx, "table", &dynamodb.TableArgs{
		Name:        pulumi.String(names.Table()),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String(marketdata.AttrSymbol),
		RangeKey:    pulumi.String(marketdata.AttrTimestamp),
		Attributes: dynamodb.TableAttributeArray{
			&dynamodb.TableAttributeArgs{Name: pulumi.String(marketdata.AttrSymbol), Type: pulumi.String("S")},
			&dynamodb.TableAttributeArgs{Name: pulumi.String(marketdata.AttrTimestamp), Type: pulumi.String("N")},
		},
		PointInTimeRecovery: &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		// Off so that the stack destroys; point-in-time recovery (35 days of
		// restorable history) is the safety net against bad writes.
		DeletionProtectionEnabled: pulumi.Bool(false),
		// DynamoDB deletes an item once the epoch seconds in this attribute
		// have passed; the services set it on what expires with the data
		// retention period (raw points, state).
		Ttl: &dynamodb.TableTtlArgs{
			AttributeName: pulumi.String(marketdata.AttrExpiresAt),
			Enabled:       pulumi.Bool(true),
		},
		// Server-side encryption is left at the default, an AWS owned key.
		Tags: common.Tags(),
	})
}
