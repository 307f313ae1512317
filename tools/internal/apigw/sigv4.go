package apigw

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/marketanalytics/pipeline/tools/internal/awsx"
)

// Errors of SigV4 verification, with API Gateway's messages.
var (
	ErrMissingAuth = errors.New("Missing Authentication Token")
	ErrBadKey      = errors.New("The security token included in the request is invalid.")
	ErrSignature   = errors.New("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	ErrExpired     = errors.New("Signature expired")
	ErrMalformed   = errors.New("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters")
)

// maxSkew is how far a request's X-Amz-Date may be from now.
const maxSkew = 15 * time.Minute

// sigv4Auth is a parsed Authorization header.
type sigv4Auth struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseAuthorization(h string) (sigv4Auth, error) {
	const alg = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, alg) {
		return sigv4Auth{}, ErrMalformed
	}
	var a sigv4Auth
	for _, part := range strings.Split(strings.TrimPrefix(h, alg), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigv4Auth{}, ErrMalformed
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigv4Auth{}, ErrMalformed
			}
			a.accessKey, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return sigv4Auth{}, ErrMalformed
	}
	return a, nil
}

// VerifySigV4 checks r's Signature Version 4 signature (Authorization header
// form) for execute-api in region, signed with the local credentials: it
// rebuilds the request from exactly the headers the client signed and signs
// it again with aws-sdk-go-v2's signer, then compares the signatures.
func VerifySigV4(r *http.Request, body []byte, region string, now time.Time) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return ErrMissingAuth
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return err
	}
	if a.accessKey != awsx.AccessKeyID {
		return ErrBadKey
	}
	if a.service != "execute-api" || a.region != region {
		return fmt.Errorf("Credential should be scoped to a valid region and service (execute-api in %s), not %s/%s", region, a.region, a.service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return fmt.Errorf("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return ErrExpired
	}
	if t.Format("20060102") != a.date {
		return ErrSignature
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" && ph != "UNSIGNED-PAYLOAD" && ph != payloadHash {
		return ErrSignature
	}
	signed := map[string]bool{}
	for _, name := range a.signedHeaders {
		signed[name] = true
	}
	if !signed["host"] {
		return ErrSignature
	}
	re, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return ErrSignature
	}
	re.URL.Scheme, re.URL.Host, re.Host = "http", r.Host, r.Host
	re.ContentLength = 0
	re.Header = http.Header{}
	for name := range signed {
		switch name {
		case "host":
		case "content-length":
			re.ContentLength = r.ContentLength
		default:
			vs := r.Header.Values(name)
			if len(vs) == 0 {
				return ErrSignature
			}
			re.Header[http.CanonicalHeaderKey(name)] = vs
		}
	}
	creds, err := awsx.Credentials().Retrieve(context.Background())
	if err != nil {
		return err
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, payloadHash, a.service, a.region, t); err != nil {
		return ErrSignature
	}
	want, err := parseAuthorization(re.Header.Get("Authorization"))
	if err != nil {
		return ErrSignature
	}
	if strings.Join(want.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") ||
		!hmac.Equal([]byte(want.signature), []byte(a.signature)) {
		return ErrSignature
	}
	return nil
}
