package apigw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func signed(t *testing.T, key, secret, region, service string, at time.Time, body string) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5400/prod/ingest?x=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	creds, _ := credentials.NewStaticCredentialsProvider(key, secret, "").Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestVerifySigV4(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	body := `{"points":[]}`
	tests := []struct {
		name    string
		req     *http.Request
		body    string
		wantErr error
	}{
		{"valid", signed(t, "testing", "testing", "us-east-1", "execute-api", now, body), body, nil},
		{"unsigned", func() *http.Request { r, _ := http.NewRequest("POST", "http://h/prod/ingest", nil); return r }(), body, ErrMissingAuth},
		{"wrong secret", signed(t, "testing", "other", "us-east-1", "execute-api", now, body), body, ErrSignature},
		{"unknown key", signed(t, "AKIAOTHER", "testing", "us-east-1", "execute-api", now, body), body, ErrBadKey},
		{"other body", signed(t, "testing", "testing", "us-east-1", "execute-api", now, body), `{"points":[1]}`, ErrSignature},
		{"expired", signed(t, "testing", "testing", "us-east-1", "execute-api", now.Add(-20*time.Minute), body), body, ErrExpired},
		{"other service", signed(t, "testing", "testing", "us-east-1", "s3", now, body), body, nil},
		{"tampered header", func() *http.Request {
			r := signed(t, "testing", "testing", "us-east-1", "execute-api", now, body)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), body, ErrSignature},
		{"tampered query", func() *http.Request {
			r := signed(t, "testing", "testing", "us-east-1", "execute-api", now, body)
			r.URL.RawQuery = "x=2"
			return r
		}(), body, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Host = tt.req.URL.Host
			err := VerifySigV4(tt.req, []byte(tt.body), "us-east-1", now)
			switch {
			case tt.name == "other service":
				if err == nil {
					t.Fatal("a signature for another service was accepted")
				}
			case tt.wantErr == nil && err != nil:
				t.Fatalf("valid signature refused: %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}
