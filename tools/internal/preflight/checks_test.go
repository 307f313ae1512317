package preflight

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/marketanalytics/pipeline/tools/deploydiag"
)

// responseError is what the SDK returns for an HTTP error status.
func responseError(status int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New(http.StatusText(status)),
	}}
}

type fakeSTS struct{ err error }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("210987654321"), Arn: aws.String("arn:aws:iam::210987654321:user/deployer")}, nil
}

type fakeS3 struct {
	err    error
	bucket string // the bucket asked for
}

func (f *fakeS3) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	f.bucket = aws.ToString(in.Bucket)
	return &s3.HeadBucketOutput{}, f.err
}

type fakeLambda struct {
	total, unreserved int32
	err               error
	held              map[string]int32 // reserved concurrency of existing functions
}

func (f fakeLambda) GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{
		ConcurrentExecutions: f.total, UnreservedConcurrentExecutions: aws.Int32(f.unreserved),
	}}, nil
}

func (f fakeLambda) GetFunctionConcurrency(_ context.Context, in *lambda.GetFunctionConcurrencyInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error) {
	n, ok := f.held[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, &lambdatypes.ResourceNotFoundException{Message: aws.String("Function not found")}
	}
	return &lambda.GetFunctionConcurrencyOutput{ReservedConcurrentExecutions: aws.Int32(n)}, nil
}

type fakeAPIGW struct {
	role string
	err  error
}

func (f fakeAPIGW) GetAccount(context.Context, *apigateway.GetAccountInput, ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := &apigateway.GetAccountOutput{}
	if f.role != "" {
		out.CloudwatchRoleArn = aws.String(f.role)
	}
	return out, nil
}

type fakePulumi struct {
	versionErr, whoamiErr, stackErr error
	deployed                        map[string]int // layer → resources; absent: no stack
}

func (f fakePulumi) Version(context.Context) (string, error) { return "v3.200.0", f.versionErr }
func (f fakePulumi) Whoami(context.Context) (string, error) {
	return "User: alice Backend URL: https://app.pulumi.com/alice", f.whoamiErr
}
func (f fakePulumi) Stack(_ context.Context, layer, _ string) (deploydiag.StackInfo, error) {
	if f.stackErr != nil {
		return deploydiag.StackInfo{}, f.stackErr
	}
	n, ok := f.deployed[layer]
	return deploydiag.StackInfo{Exists: ok, Resources: n}, nil
}

func basePlan() Plan {
	return Plan{
		Bucket: "market-data-dev",
		Functions: []Function{
			{Name: "DataAggregator-dev", MemoryMB: 3008}, {Name: "DataIngestion-dev", MemoryMB: 3008}, {Name: "DataProcessor-dev", MemoryMB: 3008},
		},
		QueueMaxConcurrency: 10, QueueFunction: "DataProcessor-dev",
	}
}

// healthy is a checker on which every check passes.
func healthy() Checker {
	return Checker{
		Stack: "dev", Region: "us-east-1", Plan: basePlan(),
		Pulumi: fakePulumi{deployed: map[string]int{}},
		AWS: AWS{STS: fakeSTS{}, S3: &fakeS3{err: responseError(404)},
			Lambda: fakeLambda{total: 1000, unreserved: 1000}, APIGW: fakeAPIGW{}},
	}
}

func find(t *testing.T, rs Results, check string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no result for %q in %+v", check, rs)
	return Result{}
}

func TestHealthyAccountPasses(t *testing.T) {
	rs := healthy().Run(context.Background())
	for _, r := range rs {
		if r.Status != Pass {
			t.Errorf("%s: %s %s (%s)", r.Check, r.Status, r.Detail, r.Fix)
		}
	}
	if rs.Failed() {
		t.Error("Failed() on a healthy account")
	}
}

func TestChecks(t *testing.T) {
	withPlan := func(edit func(*Plan)) func(*Checker) {
		return func(c *Checker) { edit(&c.Plan) }
	}
	for _, tc := range []struct {
		name   string
		check  string
		edit   func(*Checker)
		status Status
		has    string // in the detail or the fix
	}{
		// Pulumi CLI, login, layers.
		{"no pulumi CLI", CheckPulumiCLI, func(c *Checker) {
			c.Pulumi = fakePulumi{versionErr: errors.New(`exec: "pulumi": executable file not found in $PATH`)}
		}, Fail, "install"},
		{"not logged in", CheckPulumiLogin, func(c *Checker) {
			c.Pulumi = fakePulumi{whoamiErr: errors.New("PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions")}
		}, Fail, "pulumi login"},
		{"full deploy on a fresh account", CheckLayers, func(c *Checker) {}, Pass, "storage not deployed yet"},
		{"compute alone with messaging missing", CheckLayers, func(c *Checker) {
			c.Layer, c.Pulumi = "compute", fakePulumi{deployed: map[string]int{"storage": 8, "messaging": 0}}
		}, Fail, "deploy messaging first"},
		{"compute alone with both below", CheckLayers, func(c *Checker) {
			c.Layer, c.Pulumi = "compute", fakePulumi{deployed: map[string]int{"storage": 8, "messaging": 8}}
		}, Pass, "messaging deployed (8 resources)"},
		{"storage alone", CheckLayers, func(c *Checker) { c.Layer = "storage" }, Pass, "lowest layer"},
		{"stack listing fails", CheckLayers, func(c *Checker) { c.Layer, c.Pulumi = "api", fakePulumi{stackErr: errors.New("no Pulumi.yaml")} }, Fail, "no Pulumi.yaml"},
		// Account and region.
		{"no credentials", CheckAccount, func(c *Checker) { c.AWS.STS = fakeSTS{err: errors.New("failed to retrieve credentials")} }, Fail, "AWS_PROFILE"},
		{"account id", CheckAccount, func(c *Checker) {}, Pass, "210987654321"},
		{"another region", CheckRegion, func(c *Checker) { c.Region = "eu-west-1" }, Warn, "AWS_REGION=us-east-1"},
		// Bucket.
		{"bucket free", CheckBucket, func(c *Checker) {}, Pass, "market-data-dev is free"},
		{"bucket ours", CheckBucket, func(c *Checker) { c.AWS.S3 = &fakeS3{} }, Pass, "this account's"},
		{"bucket someone else's", CheckBucket, func(c *Checker) { c.AWS.S3 = &fakeS3{err: responseError(403)} }, Fail, "environmentSuffix dev-<account id>"},
		{"bucket in another region", CheckBucket, func(c *Checker) { c.AWS.S3 = &fakeS3{err: responseError(301)} }, Fail, "environmentSuffix"},
		{"bucket check broken", CheckBucket, func(c *Checker) { c.AWS.S3 = &fakeS3{err: errors.New("dial tcp: timeout")} }, Fail, "dial tcp"},
		// Concurrency.
		{"fresh account of 10", CheckConcurrency, func(c *Checker) { c.AWS.Lambda = fakeLambda{total: 10, unreserved: 10} }, Warn, "Service Quotas"},
		{"mapping fits", CheckConcurrency, func(c *Checker) {}, Pass, "up to 10 processors"},
		{"no reservation", CheckReserved, func(c *Checker) {}, Pass, "none configured"},
		{"reservation leaves 100", CheckReserved, func(c *Checker) {
			c.AWS.Lambda = fakeLambda{total: 1000, unreserved: 1000}
			c.Plan.Functions[2].Reserved = 900
		}, Pass, "leaves 100 of 1000"},
		{"reservation leaves 99", CheckReserved, func(c *Checker) {
			c.AWS.Lambda = fakeLambda{total: 1000, unreserved: 1000}
			c.Plan.Functions[2].Reserved = 901
		}, Fail, "AWS keeps at least 100"},
		{"reservation on a fresh account", CheckReserved, func(c *Checker) {
			c.AWS.Lambda = fakeLambda{total: 10, unreserved: 10}
			c.Plan.Functions[2].Reserved = 5
		}, Fail, "Service Quotas"},
		{"reservation already held by our function", CheckReserved, func(c *Checker) {
			c.AWS.Lambda = fakeLambda{total: 1000, unreserved: 100, held: map[string]int32{"DataProcessor-dev": 900}}
			c.Plan.Functions[2].Reserved = 900
		}, Pass, "leaves 100 of 1000"},
		{"processor reservation below the mapping's maximum", CheckConcurrency, withPlan(func(p *Plan) { p.Functions[2].Reserved = 5 }), Warn, "reserve at least"},
		{"processor reservation covers the mapping", CheckConcurrency, withPlan(func(p *Plan) { p.Functions[2].Reserved = 10 }), Pass, "reserved for DataProcessor-dev"},
		{"account settings denied", CheckConcurrency, func(c *Checker) { c.AWS.Lambda = fakeLambda{err: responseError(403)} }, Fail, "lambda:GetAccountSettings"},
		// Memory.
		{"3072 MB", CheckMemory, withPlan(func(p *Plan) { p.Functions[0].MemoryMB = 3072 }), Warn, "pulumi config set memorySize 3008"},
		{"3008 MB", CheckMemory, func(c *Checker) {}, Pass, "at most 3008"},
		// API Gateway's CloudWatch role.
		{"access logging off", CheckAPIGWRole, func(c *Checker) { c.AWS.APIGW = fakeAPIGW{err: errors.New("must not be called")} }, Pass, "off"},
		{"reused, the account has one", CheckAPIGWRole, func(c *Checker) {
			c.Plan.AccessLogging, c.AWS.APIGW = true, fakeAPIGW{role: "arn:aws:iam::210987654321:role/apigw-logs"}
		}, Pass, "reused: arn:aws:iam::210987654321:role/apigw-logs"},
		{"reused, the account has none", CheckAPIGWRole, withPlan(func(p *Plan) { p.AccessLogging = true }), Fail, "createCloudWatchRole true"},
		{"created, the account has none", CheckAPIGWRole, withPlan(func(p *Plan) { p.AccessLogging, p.APIGatewayRole = true, "MarketDataAPIGatewayLogs-dev" }),
			Pass, "creates MarketDataAPIGatewayLogs-dev"},
		{"created, the account has ours", CheckAPIGWRole, func(c *Checker) {
			c.Plan.AccessLogging, c.Plan.APIGatewayRole = true, "MarketDataAPIGatewayLogs-dev"
			c.AWS.APIGW = fakeAPIGW{role: "arn:aws:iam::210987654321:role/MarketDataAPIGatewayLogs-dev"}
		}, Pass, "the api stack's own"},
		{"created, the account has another", CheckAPIGWRole, func(c *Checker) {
			c.Plan.AccessLogging, c.Plan.APIGatewayRole = true, "MarketDataAPIGatewayLogs-dev"
			c.AWS.APIGW = fakeAPIGW{role: "arn:aws:iam::210987654321:role/service-role/apigw-logs"}
		}, Fail, "createCloudWatchRole false"},
		{"created, another stack's role of the same kind", CheckAPIGWRole, func(c *Checker) {
			c.Plan.AccessLogging, c.Plan.APIGatewayRole = true, "MarketDataAPIGatewayLogs-dev"
			c.AWS.APIGW = fakeAPIGW{role: "arn:aws:iam::210987654321:role/MarketDataAPIGatewayLogs-staging"}
		}, Fail, "would replace it"},
		{"the account's role is not a role", CheckAPIGWRole, func(c *Checker) {
			c.Plan.AccessLogging, c.AWS.APIGW = true, fakeAPIGW{role: "apigw-logs"}
		}, Fail, "not an IAM role ARN"},
		{"logging on, GetAccount denied", CheckAPIGWRole, func(c *Checker) { c.Plan.AccessLogging, c.AWS.APIGW = true, fakeAPIGW{err: responseError(403)} }, Fail, "apigateway:GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy()
			c.Plan.Functions = append([]Function(nil), c.Plan.Functions...)
			tc.edit(&c)
			rs := c.Run(context.Background())
			r := find(t, rs, tc.check)
			if r.Status != tc.status || !strings.Contains(r.Detail+" "+r.Fix, tc.has) {
				t.Errorf("%s = %s %q (fix %q); want %s with %q", tc.check, r.Status, r.Detail, r.Fix, tc.status, tc.has)
			}
			if r.Status != Pass && r.Fix == "" {
				t.Errorf("%s: %s without a fix", tc.check, r.Status)
			}
			if rs.Failed() != (tc.status == Fail) {
				t.Errorf("Failed() = %v with %s %s", rs.Failed(), tc.check, tc.status)
			}
		})
	}
}

func TestBucketAskedIsThePlans(t *testing.T) {
	c := healthy()
	s := &fakeS3{err: responseError(404)}
	c.AWS.S3, c.Plan.Bucket = s, "market-data-dev-210987654321"
	c.Run(context.Background())
	if s.bucket != "market-data-dev-210987654321" {
		t.Errorf("HeadBucket %q", s.bucket)
	}
}

func TestNoAWSConfigFailsEveryAWSCheck(t *testing.T) {
	c := healthy()
	c.AWS = AWS{}
	c.Plan.AccessLogging = true
	rs := c.Run(context.Background())
	for _, name := range []string{CheckAccount, CheckBucket, CheckConcurrency, CheckAPIGWRole} {
		if r := find(t, rs, name); r.Status != Fail {
			t.Errorf("%s = %s without AWS clients", name, r.Status)
		}
	}
}

func TestPrint(t *testing.T) {
	var buf bytes.Buffer
	rs := Results{pass(CheckAccount, "123"), fail(CheckBucket, "set environmentSuffix", "taken")}
	if err := rs.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"PASS  AWS account", "FAIL  bucket name", "→ set environmentSuffix"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
