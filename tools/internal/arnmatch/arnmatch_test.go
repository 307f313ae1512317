package arnmatch

import "testing"

func TestMatch(t *testing.T) {
	const api = "arn:aws:execute-api:us-east-1:123456789012:abc123"
	tests := []struct {
		pattern, arn string
		want         bool
	}{
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket2", false},
		{api + "/*/GET/aggregates/*", api + "/prod/GET/aggregates/AAPL", true},
		{api + "/*/GET/aggregates/*", api + "/prod/POST/aggregates/AAPL", false},
		{api + "/*/POST/ingest", api + "/prod/POST/ingest", true},
		{api + "/*/POST/ingest", api + "/prod/POST/ingest/more", false},
		{api + "/*/POST/ingest", "arn:aws:execute-api:us-east-1:123456789012:other/prod/POST/ingest", false},
		{"arn:aws:events:us-east-1:1:rule/a.b", "arn:aws:events:us-east-1:1:rule/aXb", false}, // dots are literal
		{"arn:aws:events:us-east-1:1:rule/a?b", "arn:aws:events:us-east-1:1:rule/aXb", true},
		{"arn:aws:events:us-east-1:*:rule/r", "arn:aws:events:us-east-1:123456789012:rule/r", true},
		// '*' stays inside its component.
		{"arn:aws:events:us-*:1:rule/r", "arn:aws:events:us-east-1:1:rule/r", true},
		{"arn:aws:events:us-*:1:rule/r", "arn:aws:events:us:east-1:1:rule/r", false},
		{"arn:aws:sqs:us-east-1:1:q", "not an arn", false},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.arn); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.arn, got, tt.want)
		}
	}
}

func TestCompileRefusesWhatIsNotAnARN(t *testing.T) {
	for _, bad := range []string{"", "*", "arn:aws:s3", "arn:aws:events:*:rule/r"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", bad)
		}
	}
}
