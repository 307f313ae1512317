// Package arns builds the ARNs of the resources the pipeline creates, the
// one place their formats are written. It builds with the SDK's aws/arn
// (arn.ARN{...}.String()) rather than by hand, so every ARN has the
// arn:partition:service:region:account:resource shape arn.Parse accepts.
package arns

import "github.com/aws/aws-sdk-go-v2/aws/arn"

// Partition is the AWS partition of every ARN the pipeline builds.
const Partition = "aws"

// build is the ARN of resource in service, region and account (either may
// be empty where the service leaves it out, as S3 and IAM do).
func build(service, region, account, resource string) string {
	return arn.ARN{Partition: Partition, Service: service, Region: region, AccountID: account, Resource: resource}.String()
}

// Bucket is the ARN of an S3 bucket (S3 ARNs carry no region or account).
func Bucket(name string) string { return build("s3", "", "", name) }

// Table is the ARN of a DynamoDB table.
func Table(region, account, name string) string {
	return build("dynamodb", region, account, "table/"+name)
}

// Queue is the ARN of an SQS queue.
func Queue(region, account, name string) string { return build("sqs", region, account, name) }

// EventBus is the ARN of an EventBridge bus.
func EventBus(region, account, name string) string {
	return build("events", region, account, "event-bus/"+name)
}

// Rule is the ARN of an EventBridge rule; a rule on a custom bus has the
// bus's name in its ARN, one on the default bus ("" or "default") not.
func Rule(region, account, bus, name string) string {
	if bus != "" && bus != "default" {
		name = bus + "/" + name
	}
	return build("events", region, account, "rule/"+name)
}

// Role is the ARN of an IAM role (IAM is global: no region).
func Role(account, name string) string { return build("iam", "", account, "role/"+name) }

// User is the ARN of an IAM user.
func User(account, name string) string { return build("iam", "", account, "user/"+name) }

// LogGroup is the ARN of a CloudWatch Logs group.
func LogGroup(region, account, name string) string {
	return build("logs", region, account, "log-group:"+name)
}

// Function is the ARN of a Lambda function.
func Function(region, account, name string) string {
	return build("lambda", region, account, "function:"+name)
}

// EventSourceMapping is the ARN of a Lambda event source mapping.
func EventSourceMapping(region, account, id string) string {
	return build("lambda", region, account, "event-source-mapping:"+id)
}

// FunctionInvoke is the URI API Gateway invokes a Lambda function by (a
// Lambda proxy integration's uri): an apigateway ARN whose account field
// names the integrated service ("lambda") and whose resource is the Lambda
// Invoke API path of the function's ARN.
func FunctionInvoke(region, functionArn string) string {
	return build("apigateway", region, "lambda", "path/2015-03-31/functions/"+functionArn+"/invocations")
}

// RestAPI is the ARN of an API Gateway REST API (a control-plane path).
func RestAPI(region, id string) string { return build("apigateway", region, "", "/restapis/"+id) }

// Stage is the ARN of a stage of a REST API.
func Stage(region, apiID, stage string) string {
	return build("apigateway", region, "", "/restapis/"+apiID+"/stages/"+stage)
}

// Execute is the execute-api ARN of a REST API, to which a Lambda
// permission's source ARN appends /<stage>/<method>/<path>; path may be
// empty or start with "/".
func Execute(region, account, apiID, path string) string {
	return build("execute-api", region, account, apiID+path)
}

// Topic is the ARN of an SNS topic.
func Topic(region, account, name string) string { return build("sns", region, account, name) }

// Alarm is the ARN of a CloudWatch alarm.
func Alarm(region, account, name string) string {
	return build("cloudwatch", region, account, "alarm:"+name)
}

// Dashboard is the ARN of a CloudWatch dashboard (dashboards are global: no
// region).
func Dashboard(account, name string) string {
	return build("cloudwatch", "", account, "dashboard/"+name)
}
