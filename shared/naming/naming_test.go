package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSuffix(t *testing.T) {
	long := strings.Repeat("release-candidate-", 5) // 90 characters
	tests := []struct {
		name, raw, want string
	}{
		{"stack name as is", "dev", "dev"},
		{"environmentSuffix override", "pr-1234", "pr-1234"},
		{"upper case is kept (only the bucket lower-cases)", "Prod", "Prod"},
		{"digits only", "42", "42"},
		{"slash and underscore become dashes", "feature/ABC_123", "feature-ABC-123"},
		{"runs of symbols collapse", "a..//__b", "a-b"},
		{"leading and trailing symbols are trimmed", "--dev--", "dev"},
		{"spaces", " qa  env ", "qa-env"},
		{"non-ASCII letters become dashes", "stäging", "st-ging"},
		{"exactly the maximum length is kept", strings.Repeat("a", MaxSuffixLen), strings.Repeat("a", MaxSuffixLen)},
		{"long names are cut and hashed", long, "release-candidate-releas-" + hash7(long)},
		// The cut ends on a dash, which is trimmed before the hash is appended.
		{"a cut ending on a dash is trimmed", "abcdefghijklmnopqrstuvw-xyz-0123456789", "abcdefghijklmnopqrstuvw-" + hash7("abcdefghijklmnopqrstuvw-xyz-0123456789")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Suffix(tt.raw)
			if err != nil {
				t.Fatalf("Suffix(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("Suffix(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if len(got) > MaxSuffixLen {
				t.Errorf("Suffix(%q) = %q is %d characters, more than %d", tt.raw, got, len(got), MaxSuffixLen)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`).MatchString(got) {
				t.Errorf("Suffix(%q) = %q is not [A-Za-z0-9-] with alphanumeric ends", tt.raw, got)
			}
			again, err := Suffix(got)
			if err != nil || again != got {
				t.Errorf("Suffix is not idempotent: Suffix(%q) = %q, %v", got, again, err)
			}
			n, err := New(tt.raw)
			if err != nil {
				t.Fatalf("New(%q): %v", tt.raw, err)
			}
			if n.Suffix() != tt.want {
				t.Errorf("New(%q).Suffix() = %q, want %q", tt.raw, n.Suffix(), tt.want)
			}
		})
	}
}

// hash7 is the short hash Suffix appends to a shortened suffix, computed here
// independently (sha256 of the raw name, first 7 hex digits).
func hash7(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])[:7]
}

func TestSuffixKeepsDistinctLongNamesDistinct(t *testing.T) {
	prefix := strings.Repeat("very-long-environment-name-", 3)
	seen := map[string]string{}
	for _, raw := range []string{prefix + "alpha", prefix + "beta", prefix + "gamma", strings.ToUpper(prefix) + "alpha", prefix + "alpha-"} {
		s, err := Suffix(raw)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[s]; dup {
			t.Errorf("Suffix(%q) = Suffix(%q) = %q", raw, other, s)
		}
		seen[s] = raw
		if !strings.EqualFold(s[:MaxSuffixLen-8], prefix[:MaxSuffixLen-8]) {
			t.Errorf("Suffix(%q) = %q does not keep the readable start %q", raw, s, prefix[:MaxSuffixLen-8])
		}
	}
	// Deterministic: the same raw name always gives the same suffix.
	a, _ := Suffix(prefix + "alpha")
	b, _ := Suffix(prefix + "alpha")
	if a != b {
		t.Errorf("Suffix is not deterministic: %q != %q", a, b)
	}
}

func TestSuffixRejectsNamesWithoutLettersOrDigits(t *testing.T) {
	for _, raw := range []string{"", "-", "---", "//__..", "   ", "ééé", "\t\n"} {
		if s, err := Suffix(raw); err == nil {
			t.Errorf("Suffix(%q) = %q, want an error", raw, s)
		}
		if _, err := New(raw); err == nil {
			t.Errorf("New(%q) succeeded, want an error", raw)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew(\"--\") did not panic")
		}
	}()
	MustNew("--")
}

func TestNamesForDev(t *testing.T) {
	n := MustNew("dev")
	tests := map[string]struct{ got, want string }{
		"bucket":            {n.Bucket(), "market-data-dev"},
		"table":             {n.Table(), "MarketDataState-dev"},
		"processing queue":  {n.ProcessingQueue(), "ProcessingQueue-dev"},
		"dead-letter queue": {n.DeadLetterQueue(), "ProcessingDLQ-dev"},
		"event bus":         {n.EventBus(), "MarketDataEvents-dev"},
		"ingestion":         {n.Ingestion(), "DataIngestion-dev"},
		"processor":         {n.Processor(), "DataProcessor-dev"},
		"aggregator":        {n.Aggregator(), "DataAggregator-dev"},
		"role":              {n.Role(n.Processor()), "DataProcessor-dev-role"},
		"log group":         {n.LogGroup(n.Processor()), "/aws/lambda/DataProcessor-dev"},
		"error metric":      {n.ErrorMetric(n.Processor()), "DataProcessor-dev-Errors"},
		"metric namespace":  {n.MetricNamespace(), "MarketAnalytics/Pipeline-dev"},
		"schedule rule":     {n.ScheduleRule(), "AggregatorSchedule-dev"},
		"events rule":       {n.EventsRule(), "AggregatorOnWindows-dev"},
		"api":               {n.API(), "MarketDataAPI-dev"},
		"api stage":         {n.APIStage(), "prod"},
		"api logs role":     {n.APIGatewayLogsRole(), "MarketDataAPIGatewayLogs-dev"},
		"schedule rule ARN": {n.ScheduleRuleARN("123456789012"),
			"arn:aws:events:us-east-1:123456789012:rule/AggregatorSchedule-dev"},
		"events rule ARN": {n.EventsRuleARN("123456789012"),
			"arn:aws:events:us-east-1:123456789012:rule/MarketDataEvents-dev/AggregatorOnWindows-dev"},
	}
	for name, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", name, tt.got, tt.want)
		}
	}
	if got, want := n.Functions(), []string{"DataIngestion-dev", "DataProcessor-dev", "DataAggregator-dev"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
}

func TestBucketIsLowerCaseOthersKeepCase(t *testing.T) {
	n := MustNew("Prod")
	if got := n.Bucket(); got != "market-data-prod" {
		t.Errorf("Bucket() = %q, want market-data-prod", got)
	}
	if got := n.Table(); got != "MarketDataState-Prod" {
		t.Errorf("Table() = %q, want MarketDataState-Prod", got)
	}
}

func TestFunctionFor(t *testing.T) {
	n := MustNew("dev")
	want := map[string]string{"ingestion": n.Ingestion(), "processor": n.Processor(), "aggregator": n.Aggregator()}
	if len(Services) != len(want) {
		t.Fatalf("Services = %v, want the three services %v", Services, want)
	}
	for _, svc := range Services {
		got, err := n.FunctionFor(svc)
		if err != nil || got != want[svc] {
			t.Errorf("FunctionFor(%q) = %q, %v; want %q", svc, got, err, want[svc])
		}
	}
	if got, err := n.FunctionFor("billing"); err == nil {
		t.Errorf("FunctionFor(billing) = %q, want an error", got)
	}
}

func TestArtifactPaths(t *testing.T) {
	if got, want := ArtifactZip("build", "processor"), filepath.Join("build", "processor", "bootstrap.zip"); got != want {
		t.Errorf("ArtifactZip = %q, want %q", got, want)
	}
	if got, want := LocalBinary("build", "processor"), filepath.Join("build", "local", "processor", "bootstrap"); got != want {
		t.Errorf("LocalBinary = %q, want %q", got, want)
	}
}

func TestTags(t *testing.T) {
	tags := Tags()
	want := map[string]string{"Environment": "Production", "Project": "MarketAnalytics"}
	if len(tags) != len(want) {
		t.Fatalf("Tags() = %v, want %v", tags, want)
	}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("Tags()[%q] = %q, want %q", k, tags[k], v)
		}
	}
	tags["Environment"] = "changed"
	tags["Extra"] = "x"
	if again := Tags(); again["Environment"] != "Production" || len(again) != 2 {
		t.Errorf("Tags() shares its map between calls: %v", again)
	}
}

func TestProjectsAndLayers(t *testing.T) {
	if got := strings.Join(Layers, ","); got != "storage,messaging,compute,api" {
		t.Errorf("Layers = %s, want the deploy order storage,messaging,compute,api", got)
	}
	projects := []string{ProjectStorage, ProjectMessaging, ProjectCompute, ProjectAPI}
	for i, p := range projects {
		if want := "market-data-" + Layers[i]; p != want {
			t.Errorf("project of layer %s = %q, want %q", Layers[i], p, want)
		}
	}
}

// AWS naming rules of every resource the pipeline names.
var (
	bucketRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	functionRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	roleRE        = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	queueRE       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	tableRE       = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	ruleRE        = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
	busRE         = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`) // AWS allows 256 and '/'; custom buses are kept to 64
	logGroupRE    = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	namespaceRE   = regexp.MustCompile(`^[.\-_/#:A-Za-z0-9 ]{1,255}$`)
	metricNameRE  = regexp.MustCompile(`^.{1,255}$`)
	apiStageRE    = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)
	restAPINameRE = regexp.MustCompile(`^[ -~]{1,1000}$`) // printable ASCII; AWS allows 1024
)

func TestDerivedNamesAreValidAWSNames(t *testing.T) {
	raws := []string{
		"dev", "a", "Prod", "PROD", "feature/ABC_123", "stäging", "pr-1234",
		strings.Repeat("x", MaxSuffixLen),
		strings.Repeat("Very-Long_Stack.Name/", 12),
		strings.Repeat("9", 300),
	}
	for _, raw := range raws {
		n, err := New(raw)
		if err != nil {
			t.Fatalf("New(%q): %v", raw, err)
		}
		check := func(kind string, re *regexp.Regexp, name string) {
			t.Helper()
			if !re.MatchString(name) {
				t.Errorf("suffix %q: %s name %q (%d characters) does not match %s", raw, kind, name, len(name), re)
			}
		}
		check("S3 bucket", bucketRE, n.Bucket())
		if strings.Contains(n.Bucket(), "..") || strings.HasPrefix(n.Bucket(), "xn--") || strings.HasSuffix(n.Bucket(), "-s3alias") {
			t.Errorf("bucket name %q uses a reserved form", n.Bucket())
		}
		check("DynamoDB table", tableRE, n.Table())
		check("SQS queue", queueRE, n.ProcessingQueue())
		check("SQS queue", queueRE, n.DeadLetterQueue())
		check("EventBridge bus", busRE, n.EventBus())
		check("EventBridge rule", ruleRE, n.ScheduleRule())
		check("EventBridge rule", ruleRE, n.EventsRule())
		check("CloudWatch namespace", namespaceRE, n.MetricNamespace())
		if strings.HasPrefix(n.MetricNamespace(), "AWS/") {
			t.Errorf("namespace %q is reserved for AWS", n.MetricNamespace())
		}
		check("REST API", restAPINameRE, n.API())
		check("API stage", apiStageRE, n.APIStage())
		check("IAM role", roleRE, n.APIGatewayLogsRole())
		for _, fn := range n.Functions() {
			check("Lambda function", functionRE, fn)
			check("IAM role", roleRE, n.Role(fn))
			check("log group", logGroupRE, n.LogGroup(fn))
			check("metric", metricNameRE, n.ErrorMetric(fn))
		}
	}
}
