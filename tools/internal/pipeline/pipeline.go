// Package pipeline assembles the local pipeline: moto (behind a counting
// proxy), the emulated account provisioned from the synth, each function's
// real bootstrap under the Runtime Interface Emulator, the triggers wired
// from the synth, and the REST API served locally.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/apigw"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
	"github.com/marketanalytics/pipeline/tools/internal/countproxy"
	"github.com/marketanalytics/pipeline/tools/internal/lambdarun"
	"github.com/marketanalytics/pipeline/tools/internal/provision"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
	"github.com/marketanalytics/pipeline/tools/internal/triggers"
	"github.com/marketanalytics/pipeline/tools/motoserver"
)

// RIEPackage is the Runtime Interface Emulator's command, pinned in
// tools/go.mod by a tool directive.
const RIEPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Config says where the inputs are and how to run.
type Config struct {
	// SynthDir holds build/synth/<layer>.json; BuildDir holds
	// local/<service>/bootstrap (`go run mage.go build`).
	SynthDir, BuildDir string
	// RepoDir is the repository root (default: found from the working directory).
	RepoDir string
	// Instances is the number of emulators per function (default 2).
	Instances int
	// Triggers tunes the glue's clock (schedule period, retry delays).
	Triggers triggers.Options
	// FreshMoto starts a private moto even when MOTO_ENDPOINT is set.
	FreshMoto bool
	// MotoEndpoint, when set, is a moto the pipeline borrows and empties
	// first (moto's own reset), for tests that each want an empty
	// account without starting a server each.
	MotoEndpoint string
	// FastQuery loads motoserver's DynamoDB Query shim into a private moto
	// (same answers, cost independent of the table's size).
	FastQuery bool
	// LogDir receives moto.log, glue.log and <function>.log (default BuildDir/local/logs).
	LogDir string
	// Progress receives one line per start-up step (default discarded).
	Progress io.Writer
}

// Pipeline is a running local pipeline.
type Pipeline struct {
	Plan  *synthread.Plan
	Moto  *motoserver.Server
	Proxy *countproxy.Proxy
	// AWS are clients for the caller "client" (loaders, tests).
	AWS *awsx.Clients
	// Endpoint is the proxy endpoint of the caller "client".
	Endpoint    string
	Functions   map[string]*lambdarun.Pool // by service
	Glue        *triggers.Glue
	APIs        []*apigw.API
	Provisioned *provision.Result
	LogDir      string

	// LambdaEndpoint serves Lambda's Invoke API for the local functions
	// (the ops tools' asynchronous invocations).
	LambdaEndpoint string

	stopOnce sync.Once
	closers  []func()
	logFiles []*os.File
}

// Start brings the whole local pipeline up. On error everything started so
// far is stopped again.
func Start(ctx context.Context, cfg Config) (p *Pipeline, err error) {
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	step := func(format string, args ...any) { fmt.Fprintf(progress, "local: "+format+"\n", args...) }
	if cfg.RepoDir == "" {
		if cfg.RepoDir, err = motoserver.RepoRoot(); err != nil {
			return nil, err
		}
	}
	if cfg.Instances < 1 {
		cfg.Instances = 2
	}
	if cfg.LogDir == "" {
		cfg.LogDir = filepath.Join(cfg.BuildDir, "local", "logs")
	}
	pl, err := synthread.Load(cfg.SynthDir)
	if err != nil {
		return nil, err
	}
	if _, err := provision.Check(pl); err != nil {
		return nil, err
	}
	fns, err := lambdarun.Functions(pl)
	if err != nil {
		return nil, err
	}
	for _, f := range fns {
		bin := naming.LocalBinary(cfg.BuildDir, f.Service)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("function %s needs %s: run `go run mage.go build` first (%v)", f.Name, bin, err)
		}
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return nil, err
	}
	p = &Pipeline{Plan: pl, Functions: map[string]*lambdarun.Pool{}, LogDir: cfg.LogDir}
	defer func() {
		if err != nil {
			p.Stop()
			p = nil
		}
	}()

	step("building the Lambda Runtime Interface Emulator")
	rie, err := BuildRIE(ctx, cfg.RepoDir, filepath.Join(cfg.BuildDir, "tools"))
	if err != nil {
		return p, err
	}

	motoLog, err := p.logFile("moto")
	if err != nil {
		return p, err
	}
	step("starting moto (%s)", motoserver.Requirement)
	// S3Events always: without it moto's S3 events carry no versionId, and
	// an object overwritten or deleted before it is read would fail locally
	// where it succeeds on AWS. A moto the caller lends (MotoEndpoint) is
	// started with it by the caller (the e2e tests do).
	p.Moto, err = motoserver.Start(motoserver.Options{RepoDir: cfg.RepoDir, Log: motoLog, Fresh: cfg.FreshMoto,
		Endpoint: cfg.MotoEndpoint, FastQuery: cfg.FastQuery, S3Events: true})
	if err != nil {
		return p, err
	}
	if cfg.MotoEndpoint != "" {
		if err := p.Moto.Reset(); err != nil {
			return p, err
		}
	} else if p.Moto.Borrowed() {
		step("warning: moto at %s (%s) may run without motoserver's s3events shim: then its S3 events carry no versionId, and an object overwritten or deleted before it is read fails here (not on AWS)", p.Moto.Endpoint(), motoserver.EndpointEnv)
	}
	p.closers = append(p.closers, p.Moto.Stop)
	p.Proxy, err = countproxy.New(p.Moto.Endpoint())
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, p.Proxy.Close)
	if p.Endpoint, err = p.Proxy.Listen("client"); err != nil {
		return p, err
	}
	p.AWS = awsx.New(p.Endpoint)
	glueEndpoint, err := p.Proxy.Listen("glue")
	if err != nil {
		return p, err
	}
	glueAWS := awsx.New(glueEndpoint)

	step("provisioning moto from %s", cfg.SynthDir)
	if p.Provisioned, err = provision.Apply(ctx, glueAWS, pl); err != nil {
		return p, err
	}

	local := map[string]*triggers.Function{}
	apiFns := map[string]*apigw.Function{}
	for _, f := range fns {
		endpoint, err := p.Proxy.Listen(f.Service)
		if err != nil {
			return p, err
		}
		logw, err := p.logFile(f.Name)
		if err != nil {
			return p, err
		}
		step("starting %s (%s, %d MB, timeout %s) under %d emulators", f.Name, naming.LocalBinary(cfg.BuildDir, f.Service), f.MemoryMB, f.Timeout, cfg.Instances)
		pool, err := lambdarun.Start(ctx, f, lambdarun.PoolOptions{
			RIE: rie, Bootstrap: naming.LocalBinary(cfg.BuildDir, f.Service), Instances: cfg.Instances,
			AWSEnv: awsx.Env(endpoint), Log: logw,
		})
		if err != nil {
			return p, err
		}
		p.Functions[f.Service] = pool
		p.closers = append(p.closers, pool.Stop)
		local[f.ARN] = &triggers.Function{Function: f, Invoker: pool, Concurrency: cfg.Instances}
		apiFns[f.ARN] = &apigw.Function{Name: f.Name, ARN: f.ARN, Service: f.Service, Invoker: pool}
	}

	glueLog, err := p.logFile("glue")
	if err != nil {
		return p, err
	}
	topts := cfg.Triggers
	if topts.Log == nil {
		topts.Log = glueLog
	} else {
		topts.Log = io.MultiWriter(topts.Log, glueLog)
	}
	step("wiring the triggers from the synth")
	if p.Glue, err = triggers.Wire(ctx, pl, glueAWS, local, topts); err != nil {
		return p, err
	}
	p.closers = append(p.closers, p.Glue.Stop)
	if p.LambdaEndpoint, err = p.serveInvokeAPI(); err != nil {
		return p, err
	}

	if p.APIs, err = apigw.Load(pl, apiFns); err != nil {
		return p, err
	}
	for _, api := range p.APIs {
		if err := api.Serve("127.0.0.1:0", func(format string, args ...any) { fmt.Fprintf(glueLog, "api: "+format+"\n", args...) }); err != nil {
			return p, err
		}
		p.closers = append(p.closers, api.Close)
	}
	return p, nil
}

// Stop stops everything in reverse order of start: the API, the triggers
// (waiting for deliveries in progress), the functions, the proxy, moto.
func (p *Pipeline) Stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() {
		for i := len(p.closers) - 1; i >= 0; i-- {
			p.closers[i]()
		}
		for _, f := range p.logFiles {
			f.Close()
		}
	})
}

func (p *Pipeline) logFile(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(p.LogDir, strings.ReplaceAll(name, "/", "_")+".log"))
	if err != nil {
		return nil, err
	}
	p.logFiles = append(p.logFiles, f)
	return f, nil
}

// BuildRIE builds the pinned Runtime Interface Emulator from the Go module
// proxy (tools/go.mod pins it) into dir, and returns its path. The Go build
// cache makes this fast after the first time.
func BuildRIE(ctx context.Context, repoDir, dir string) (string, error) {
	out, err := filepath.Abs(filepath.Join(dir, "aws-lambda-rie"))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, RIEPackage)
	cmd.Dir = filepath.Join(repoDir, "tools")
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", RIEPackage, err, b)
	}
	return out, nil
}

// Stack outputs and names the loaders need.

// Bucket is the raw-data bucket's name.
func (p *Pipeline) Bucket() string { s, _ := p.Plan.Output("storage", outputs.BucketName); return s }

// Table is the table's name.
func (p *Pipeline) Table() string { s, _ := p.Plan.Output("storage", outputs.TableName); return s }

// QueueURL returns the local URL of the queue whose ARN is the output key
// of the messaging layer (outputs.QueueArn or outputs.DLQArn).
func (p *Pipeline) QueueURL(arnKey string) (string, error) {
	arn, ok := p.Plan.Output("messaging", arnKey)
	if !ok {
		return "", fmt.Errorf("the messaging layer exports no %s", arnKey)
	}
	if u, ok := p.Provisioned.QueueURLs[arn]; ok {
		return u, nil
	}
	return "", fmt.Errorf("queue %s was not provisioned", arn)
}

// StageURL is the local invoke URL of the API's stage (the api layer's
// stage output), e.g. http://127.0.0.1:40123/prod.
func (p *Pipeline) StageURL() (string, error) {
	if len(p.APIs) == 0 {
		return "", errors.New("the synth declares no REST API")
	}
	stage, _ := p.Plan.Output("api", outputs.StageName)
	if stage == "" {
		stage = p.APIs[0].Stages[0]
	}
	return p.APIs[0].StageURL(stage), nil
}

// WaitIdle waits until the processing queue is empty (nothing visible or in
// flight) and the glue has nothing in progress, checked several times in a
// row so that a message being passed on is not missed.
func (p *Pipeline) WaitIdle(ctx context.Context, queueURLs ...string) error {
	quiet := 0
	for quiet < 3 {
		busy := p.Glue.Busy() > 0
		for _, u := range queueURLs {
			n, err := p.QueueDepth(ctx, u, true)
			if err != nil {
				return err
			}
			busy = busy || n > 0
		}
		if busy {
			quiet = 0
		} else {
			quiet++
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

// Describe lists what runs, for the summary.
func (p *Pipeline) Describe() string {
	var b strings.Builder
	how := "private"
	if p.Moto.Borrowed() {
		how = "borrowed from " + motoserver.EndpointEnv
	}
	fmt.Fprintf(&b, "moto %s (%s; requests counted through %s)\n", p.Moto.Endpoint(), how, p.Endpoint)
	svcs := make([]string, 0, len(p.Functions))
	for s := range p.Functions {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	for _, s := range svcs {
		f := p.Functions[s].Function
		fmt.Fprintf(&b, "function %s: %d MB, timeout %s, env %v\n", f.Name, f.MemoryMB, f.Timeout, f.Env)
	}
	for _, w := range p.Glue.Wired {
		fmt.Fprintf(&b, "trigger %s\n", w)
	}
	for _, w := range p.Glue.NotWired {
		fmt.Fprintf(&b, "NOT wired: %s\n", w)
	}
	for _, api := range p.APIs {
		for _, rt := range api.Routes {
			fmt.Fprintf(&b, "route %s %s (%s) → %s\n", rt.Method, rt.Path, rt.Authorization, rt.Function.Name)
		}
	}
	return b.String()
}
