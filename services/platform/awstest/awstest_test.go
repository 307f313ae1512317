package awstest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
)

// fatalTB records the first Fatal and ends the goroutine as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestConfigWithoutEndpointFails(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	t.Setenv("AWS_ENDPOINT_URL", "http://unchanged")
	tb := &fatalTB{TB: t}
	returned := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		Config(tb)
		returned = true
	}()
	<-done
	if returned {
		t.Fatal("Config returned without MOTO_ENDPOINT")
	}
	if !strings.Contains(tb.msg, "MOTO_ENDPOINT is not set") || !strings.Contains(tb.msg, "moto_server") {
		t.Errorf("fatal message %q does not say what is missing and how to start moto", tb.msg)
	}
	if got := os.Getenv("AWS_ENDPOINT_URL"); got != "http://unchanged" {
		t.Errorf("AWS_ENDPOINT_URL changed to %q before failing", got)
	}
}

func TestConfigPointsAtMoto(t *testing.T) {
	const endpoint = "http://127.0.0.1:1" // nothing is called
	t.Setenv(EndpointEnv, endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "real-looking")
	t.Setenv("AWS_SESSION_TOKEN", "ambient")
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg := Config(t)
	if cfg.Region != naming.Region {
		t.Errorf("region %q, want %q", cfg.Region, naming.Region)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != endpoint {
		t.Errorf("base endpoint %v, want %s", cfg.BaseEndpoint, endpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "testing" || creds.SecretAccessKey != "testing" || creds.SessionToken != "" {
		t.Errorf("credentials %+v, want the fake ones without a session token", creds)
	}
	// Code under test that loads its own configuration sees the same.
	if got := os.Getenv("AWS_ENDPOINT_URL"); got != endpoint {
		t.Errorf("AWS_ENDPOINT_URL %q, want %q", got, endpoint)
	}
}

func TestNamesAreUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := Names()
		s := n.Suffix()
		if clean, err := naming.Suffix(s); err != nil || clean != s {
			t.Fatalf("suffix %q is not a valid suffix as is (%q, %v)", s, clean, err)
		}
		if !strings.HasPrefix(s, "it-") {
			t.Fatalf("suffix %q does not mark an integration test", s)
		}
		if seen[n.Table()] {
			t.Fatalf("table name %s twice", n.Table())
		}
		seen[n.Table()] = true
	}
}
