package stacktest

import (
	"reflect"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
)

// The resource types the layers register, as the recorder reports them.
const (
	TypeBucket            = "aws:s3/bucketV2:BucketV2"
	TypeBucketOwnership   = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	TypeBucketVersioning  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	TypeBucketEncryption  = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	TypeBucketPublicBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	TypeBucketPolicy      = "aws:s3/bucketPolicy:BucketPolicy"
	TypeBucketLifecycle   = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	TypeBucketNotify      = "aws:s3/bucketNotification:BucketNotification"
	TypeTable             = "aws:dynamodb/table:Table"

	TypeQueue        = "aws:sqs/queue:Queue"
	TypeQueuePolicy  = "aws:sqs/queuePolicy:QueuePolicy"
	TypeEventBus     = "aws:cloudwatch/eventBus:EventBus"
	TypeTopic        = "aws:sns/topic:Topic"
	TypeSubscription = "aws:sns/topicSubscription:TopicSubscription"

	TypeFunction     = "aws:lambda/function:Function"
	TypeRole         = "aws:iam/role:Role"
	TypeRolePolicy   = "aws:iam/rolePolicy:RolePolicy"
	TypeLogGroup     = "aws:cloudwatch/logGroup:LogGroup"
	TypeMetricFilter = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
	TypeInvokeConfig = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
	TypePermission   = "aws:lambda/permission:Permission"
	TypeMapping      = "aws:lambda/eventSourceMapping:EventSourceMapping"
	TypeRule         = "aws:cloudwatch/eventRule:EventRule"
	TypeTarget       = "aws:cloudwatch/eventTarget:EventTarget"
	TypeDashboard    = "aws:cloudwatch/dashboard:Dashboard"

	TypeRestAPI        = "aws:apigateway/restApi:RestApi"
	TypeResource       = "aws:apigateway/resource:Resource"
	TypeMethod         = "aws:apigateway/method:Method"
	TypeIntegration    = "aws:apigateway/integration:Integration"
	TypeValidator      = "aws:apigateway/requestValidator:RequestValidator"
	TypeModel          = "aws:apigateway/model:Model"
	TypeDeployment     = "aws:apigateway/deployment:Deployment"
	TypeStage          = "aws:apigateway/stage:Stage"
	TypeMethodSettings = "aws:apigateway/methodSettings:MethodSettings"
	TypeAccount        = "aws:apigateway/account:Account"

	TypeRolePolicyAttachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
)

// Types maps every resource type the layers register to its provider's
// Args struct, whose Tags field says whether AWS tags the type (see
// AssertClassified); nil marks Pulumi's StackReference, which AWS does not
// see. A layer that registers a type missing here fails its conformance
// test, so a new type makes its author name the SDK's Args for it.
var Types = map[string]interface{}{
	TypeBucket:            s3.BucketV2Args{},
	TypeBucketOwnership:   s3.BucketOwnershipControlsArgs{},
	TypeBucketVersioning:  s3.BucketVersioningV2Args{},
	TypeBucketEncryption:  s3.BucketServerSideEncryptionConfigurationV2Args{},
	TypeBucketPublicBlock: s3.BucketPublicAccessBlockArgs{},
	TypeBucketPolicy:      s3.BucketPolicyArgs{},
	TypeBucketLifecycle:   s3.BucketLifecycleConfigurationV2Args{},
	TypeBucketNotify:      s3.BucketNotificationArgs{},
	TypeTable:             dynamodb.TableArgs{},

	TypeQueue:        sqs.QueueArgs{},
	TypeQueuePolicy:  sqs.QueuePolicyArgs{},
	TypeEventBus:     cloudwatch.EventBusArgs{},
	TypeTopic:        sns.TopicArgs{},
	TypeSubscription: sns.TopicSubscriptionArgs{},
	TypeMetricAlarm:  cloudwatch.MetricAlarmArgs{},

	TypeFunction:     lambda.FunctionArgs{},
	TypeRole:         iam.RoleArgs{},
	TypeRolePolicy:   iam.RolePolicyArgs{},
	TypeLogGroup:     cloudwatch.LogGroupArgs{},
	TypeMetricFilter: cloudwatch.LogMetricFilterArgs{},
	TypeInvokeConfig: lambda.FunctionEventInvokeConfigArgs{},
	TypePermission:   lambda.PermissionArgs{},
	TypeMapping:      lambda.EventSourceMappingArgs{},
	TypeRule:         cloudwatch.EventRuleArgs{},
	TypeTarget:       cloudwatch.EventTargetArgs{},
	TypeDashboard:    cloudwatch.DashboardArgs{},

	TypeRestAPI:        apigateway.RestApiArgs{},
	TypeResource:       apigateway.ResourceArgs{},
	TypeMethod:         apigateway.MethodArgs{},
	TypeIntegration:    apigateway.IntegrationArgs{},
	TypeValidator:      apigateway.RequestValidatorArgs{},
	TypeModel:          apigateway.ModelArgs{},
	TypeDeployment:     apigateway.DeploymentArgs{},
	TypeStage:          apigateway.StageArgs{},
	TypeMethodSettings: apigateway.MethodSettingsArgs{},
	TypeAccount:        apigateway.AccountArgs{},

	TypeRolePolicyAttachment: iam.RolePolicyAttachmentArgs{},

	TypeStackReference: nil,
}

// NonTaggable are the types of Types that take no tags, as the SDK says
// (their Args have no Tags field), and the StackReference; sorted.
func NonTaggable() []string {
	var out []string
	for typ, args := range Types {
		if args == nil {
			out = append(out, typ)
			continue
		}
		if _, ok := reflect.TypeOf(args).FieldByName("Tags"); !ok {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}
