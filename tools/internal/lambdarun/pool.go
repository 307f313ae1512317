package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/marketanalytics/pipeline/tools/motoserver"
)

// FunctionError is an invocation the function itself failed (an error
// returned by the handler, a panic, a crash or a timeout), as Lambda reports
// it with X-Amz-Function-Error.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Pool runs n emulator processes of one function. The RIE handles one
// invocation at a time, as a Lambda execution environment does, so n bounds
// the function's local concurrency.
type Pool struct {
	Function Function
	idle     chan *instance
	all      []*instance
	stop     sync.Once
	invokes  sync.WaitGroup
}

type instance struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

// PoolOptions say how to start a pool.
type PoolOptions struct {
	RIE       string // the aws-lambda-rie executable
	Bootstrap string // the function's executable, built for this machine
	Instances int
	// AWSEnv is the endpoint, region and credentials (see awsx.Env).
	AWSEnv map[string]string
	// Log receives the emulator's and the function's output.
	Log io.Writer
	// LogLevel is the emulator's own log level (default "error").
	LogLevel string
}

// Start starts the pool's emulators and waits until they listen. The
// function initialises on its first invocation, as in Lambda.
func Start(ctx context.Context, f Function, o PoolOptions) (*Pool, error) {
	for _, p := range []string{o.RIE, o.Bootstrap} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
	}
	if o.Instances < 1 {
		o.Instances = 1
	}
	if o.LogLevel == "" {
		o.LogLevel = "error"
	}
	p := &Pool{Function: f, idle: make(chan *instance, o.Instances)}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LOG_LEVEL=" + o.LogLevel}
	for k, v := range f.RuntimeEnv(o.AWSEnv) {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	for i := 0; i < o.Instances; i++ {
		in, err := startInstance(o, env)
		if err != nil {
			p.Stop()
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		p.all = append(p.all, in)
		p.idle <- in
	}
	for _, in := range p.all {
		if err := waitListening(ctx, in); err != nil {
			p.Stop()
			return nil, fmt.Errorf("function %s: emulator at %s: %w", f.Name, in.url, err)
		}
	}
	return p, nil
}

func startInstance(o PoolOptions, env []string) (*instance, error) {
	rieAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.RIE, "--log-level", o.LogLevel,
		"--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, o.Bootstrap)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.RIE, err)
	}
	in := &instance{url: "http://" + rieAddr + "/2015-03-31/functions/function/invocations", cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(in.done) }()
	return in, nil
}

func freeAddr() (string, error) {
	port, err := motoserver.FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

func waitListening(ctx context.Context, in *instance) error {
	host := strings.TrimPrefix(in.url, "http://")
	host = host[:strings.IndexByte(host, '/')]
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-in.done:
			return errors.New("the emulator exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}

// Invoke runs one synchronous invocation and returns the function's response
// payload. A failed invocation returns a *FunctionError.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.invokes.Add(1)
	defer p.invokes.Done()
	var in *instance
	select {
	case in = <-p.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { p.idle <- in }()
	select {
	case <-in.done:
		return nil, fmt.Errorf("function %s: its emulator has exited", p.Function.Name)
	default:
	}
	// The emulator enforces the function's timeout; allow for its reply.
	ctx, cancel := context.WithTimeout(ctx, p.Function.Timeout+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	setRequestID(ctx, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", p.Function.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", p.Function.Name, err)
	}
	if fe := functionError(resp.StatusCode, body); fe != nil {
		return body, fe
	}
	return body, nil
}

// functionError recognises the emulator's answers for a failed invocation:
// a non-200 status, the timeout message, or an error object from the
// runtime's /error call.
func functionError(status int, body []byte) *FunctionError {
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	}
	var fe FunctionError
	isErr := json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" && !bytes.Contains(body, []byte(`"statusCode"`))
	if status != http.StatusOK {
		if !isErr {
			fe = FunctionError{Type: "Runtime.Error", Message: fmt.Sprintf("emulator answered %d: %s", status, bytes.TrimSpace(body))}
		}
		return &fe
	}
	if isErr {
		return &fe
	}
	return nil
}

// Stop ends every emulator (and so the function processes) of the pool.
func (p *Pool) Stop() {
	p.stop.Do(func() {
		for _, in := range p.all {
			syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
		}
		for _, in := range p.all {
			select {
			case <-in.done:
			case <-time.After(3 * time.Second):
				syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
				<-in.done
			}
		}
	})
}
