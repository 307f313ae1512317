//go:build integration

package preflight

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/tools/motoserver"
)

// TestAgainstMoto runs the checks moto serves (STS GetCallerIdentity, S3
// HeadBucket, API Gateway GetAccount) through the real SDK clients NewAWS
// builds. moto 5.2.5 has no Lambda account settings, so that client stays
// a fake. A private server: the test sets the account-level API Gateway
// role, which other tests must not see.
func TestAgainstMoto(t *testing.T) {
	srv, err := motoserver.Start(motoserver.Options{RepoDir: filepath.Join("..", "..", ".."), Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	ctx := context.Background()
	clients, region, err := NewAWS(ctx, srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	clients.Lambda = fakeLambda{total: 1000, unreserved: 1000}
	plan := basePlan()
	plan.Bucket = fmt.Sprintf("market-data-it%d", time.Now().UnixNano()%1e9)
	plan.AccessLogging = true
	c := Checker{Stack: "dev", Region: region, Plan: plan, Pulumi: fakePulumi{deployed: map[string]int{}}, AWS: clients}

	expect := func(step, check string, status Status, has string) {
		t.Helper()
		r := find(t, c.Run(ctx), check)
		if r.Status != status || !strings.Contains(r.Detail, has) {
			t.Errorf("%s: %s = %s %q (fix %q); want %s with %q", step, check, r.Status, r.Detail, r.Fix, status, has)
		}
	}
	expect("fresh account", CheckAccount, Pass, "123456789012")
	expect("fresh account", CheckRegion, Pass, "us-east-1")
	expect("fresh account", CheckBucket, Pass, plan.Bucket+" is free")
	expect("fresh account, role reused", CheckAPIGWRole, Fail, "no API Gateway CloudWatch role")
	c.Plan.APIGatewayRole = "MarketDataAPIGatewayLogs-dev"
	expect("fresh account, role created", CheckAPIGWRole, Pass, "creates MarketDataAPIGatewayLogs-dev")

	if _, err := clients.S3.(*s3.Client).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &plan.Bucket}); err != nil {
		t.Fatal(err)
	}
	expect("bucket created", CheckBucket, Pass, "this account's")

	setRole := func(role string) {
		t.Helper()
		if _, err := clients.APIGW.(*apigateway.Client).UpdateAccount(ctx, &apigateway.UpdateAccountInput{
			PatchOperations: []apigwtypes.PatchOperation{{Op: apigwtypes.OpReplace, Path: aws.String("/cloudwatchRoleArn"), Value: aws.String(role)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	const role = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"
	setRole(role)
	expect("another role set, role created", CheckAPIGWRole, Fail, "already has "+role)
	c.Plan.APIGatewayRole = ""
	expect("another role set, role reused", CheckAPIGWRole, Pass, role)
	setRole("arn:aws:iam::123456789012:role/MarketDataAPIGatewayLogs-dev")
	c.Plan.APIGatewayRole = "MarketDataAPIGatewayLogs-dev"
	expect("the stack's role set, role created", CheckAPIGWRole, Pass, "the api stack's own")
}
