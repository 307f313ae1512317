package motoserver

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func repoDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestStartStop starts a real moto server from the project venv, checks that
// it answers, and that Stop leaves nothing listening.
func TestStartStop(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	repo := repoDir()
	srv, err := Start(Options{RepoDir: repo})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Borrowed() {
		t.Fatal("server is borrowed although MOTO_ENDPOINT is empty")
	}
	resp, err := http.Get(srv.Endpoint() + "/moto-api/data.json")
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Stop()
	srv.Stop() // idempotent
	if _, err := http.Get(srv.Endpoint() + "/moto-api/data.json"); err == nil {
		t.Fatal("moto still answers after Stop")
	}
	if _, err := os.Stat(filepath.Join(repo, ".venv", stampName)); err != nil {
		t.Fatalf("venv stamp missing: %v", err)
	}
}

// TestBorrowAndFresh: MOTO_ENDPOINT is borrowed (Stop leaves it running)
// unless Fresh asks for a private server.
func TestBorrowAndFresh(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	own, err := Start(Options{RepoDir: repoDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Stop()
	t.Setenv(EndpointEnv, own.Endpoint()+"/")

	borrowed, err := Start(Options{RepoDir: repoDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !borrowed.Borrowed() || borrowed.Endpoint() != own.Endpoint() {
		t.Fatalf("borrowed %v at %s, want the MOTO_ENDPOINT server %s", borrowed.Borrowed(), borrowed.Endpoint(), own.Endpoint())
	}
	borrowed.Stop()
	if _, err := http.Get(own.Endpoint() + "/moto-api/data.json"); err != nil {
		t.Fatalf("Stop of a borrowed server stopped it: %v", err)
	}

	fresh, err := Start(Options{RepoDir: repoDir(), Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Stop()
	if fresh.Borrowed() || fresh.Endpoint() == own.Endpoint() {
		t.Fatalf("Fresh gave %s (borrowed %v), want a new server", fresh.Endpoint(), fresh.Borrowed())
	}
}

// TestReset: Reset empties the account of a borrowed server, through moto's
// own reset endpoint.
func TestReset(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	own, err := Start(Options{RepoDir: repoDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Stop()
	borrowed, err := Start(Options{Endpoint: own.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if !borrowed.Borrowed() {
		t.Fatal("Options.Endpoint was not borrowed")
	}
	ctx := context.Background()
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(own.Endpoint()) })
	queues := func() []string {
		out, err := client.ListQueues(ctx, &sqs.ListQueuesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.QueueUrls
	}
	if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("reset-me")}); err != nil {
		t.Fatal(err)
	}
	if len(queues()) == 0 {
		t.Fatal("the queue was not created")
	}
	if err := borrowed.Reset(); err != nil {
		t.Fatal(err)
	}
	if q := queues(); len(q) != 0 {
		t.Fatalf("queues %v survived Reset", q)
	}
}

// TestBorrowedUnreachable: a MOTO_ENDPOINT nobody answers is a clear error.
func TestBorrowedUnreachable(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EndpointEnv, "http://127.0.0.1:"+itoa(port))
	if _, err := Start(Options{RepoDir: repoDir(), StartTimeout: time.Second}); err == nil {
		t.Fatal("Start borrowed an endpoint that does not answer")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
