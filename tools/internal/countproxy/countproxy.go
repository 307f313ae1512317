// Package countproxy is a reverse proxy in front of moto that counts AWS API
// requests by caller, service and operation. Each caller (a function, the
// glue, the loader) gets its own listener, so the counts say who called what
// without touching the request.
package countproxy

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Key identifies a counter.
type Key struct {
	Caller, Service, Operation string
}

// Proxy forwards to one upstream and counts.
type Proxy struct {
	upstream *url.URL
	rp       *httputil.ReverseProxy

	mu      sync.Mutex
	counts  map[Key]int64
	units   map[Key]float64 // billed units, see Units
	servers []*http.Server
}

// New returns a proxy to upstream (e.g. moto's endpoint).
func New(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: u, counts: map[Key]int64{}, units: map[Key]float64{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Keep the client's Host header: SigV4 signatures cover it.
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		// A caller that gives up (a stopping poller) is not an error worth a line.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return p, nil
}

// Listen starts a listener on a free loopback port for caller and returns
// its endpoint URL.
func (p *Proxy) Listen(caller string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc, op := Classify(r)
		k := Key{caller, svc, op}
		p.mu.Lock()
		p.counts[k]++
		p.mu.Unlock()
		if !needsBodies(svc, op) {
			p.rp.ServeHTTP(w, r)
			p.addUnits(k, 1)
			return
		}
		req := readBody(r)
		cw := &countingWriter{ResponseWriter: w}
		// Deferred: the proxy panics (http.ErrAbortHandler) when the
		// caller hangs up mid-answer, and the request was still made.
		defer func() { p.addUnits(k, units(svc, op, req, cw.n)) }()
		p.rp.ServeHTTP(cw, r)
	})}
	p.mu.Lock()
	p.servers = append(p.servers, srv)
	p.mu.Unlock()
	go srv.Serve(l)
	return "http://" + l.Addr().String(), nil
}

// Close stops every listener.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.servers {
		s.Close()
	}
}

// Counts returns a copy of the counters.
func (p *Proxy) Counts() map[Key]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Reset zeroes the counters.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[Key]int64{}
	p.units = map[Key]float64{}
}

func (p *Proxy) addUnits(k Key, n float64) {
	p.mu.Lock()
	p.units[k] += n
	p.mu.Unlock()
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

// Classify names the AWS service and operation of a request: the service
// from the SigV4 credential scope, the operation from X-Amz-Target (JSON
// protocols), the Action parameter (query protocol), the Smithy RPC v2 path,
// or the method and path shape (S3's REST protocol).
func Classify(r *http.Request) (service, operation string) {
	service = "unknown"
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return service, t[strings.LastIndexByte(t, '.')+1:]
	}
	if i := strings.Index(r.URL.Path, "/operation/"); i >= 0 {
		return service, r.URL.Path[i+len("/operation/"):]
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return service, a
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err == nil {
			if v, err := url.ParseQuery(string(b)); err == nil && v.Get("Action") != "" {
				return service, v.Get("Action")
			}
		}
	}
	if service == "s3" {
		return service, s3Operation(r)
	}
	return service, r.Method
}

func s3Operation(r *http.Request) string {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	object := len(parts) == 2 && parts[1] != ""
	q := r.URL.Query()
	switch {
	case object && r.Method == http.MethodGet:
		return "GetObject"
	case object && r.Method == http.MethodHead:
		return "HeadObject"
	case object && r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case object && r.Method == http.MethodPut:
		return "PutObject"
	case object && r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case object && r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case object && r.Method == http.MethodDelete:
		return "DeleteObject"
	case r.Method == http.MethodGet && q.Has("versions"):
		return "ListObjectVersions"
	case r.Method == http.MethodGet:
		return "ListObjects"
	}
	return r.Method + " bucket"
}

// Table renders counts per caller and service (and operation), scaled to
// "per million points" when points > 0.
func Table(counts map[Key]int64, points int64) string {
	keys := make([]Key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Operation < b.Operation
	})
	var b strings.Builder
	fmt.Fprintf(&b, "  %-12s %-10s %-26s %10s", "caller", "service", "operation", "requests")
	if points > 0 {
		fmt.Fprintf(&b, " %14s", "per 1M points")
	}
	b.WriteByte('\n')
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-12s %-10s %-26s %10d", k.Caller, k.Service, k.Operation, counts[k])
		if points > 0 {
			fmt.Fprintf(&b, " %14.0f", float64(counts[k])*1e6/float64(points))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
