// Package lambdarun runs the pipeline's functions locally: each function's
// real bootstrap under the AWS Lambda Runtime Interface Emulator (RIE), with
// the environment, memory and timeout the synthesized compute stack gives it.
package lambdarun

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

// Function is one function as the compute stack declares it.
type Function struct {
	Name    string
	ARN     string
	Service string // directory under services/ (from the code archive's path)
	// Env is the function's environment variables, as synthesized.
	Env      map[string]string
	MemoryMB int
	Timeout  time.Duration
	// LogFormat and LogGroup come from loggingConfig (Lambda exports them
	// to the runtime as AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_GROUP_NAME).
	LogFormat, LogGroup string
	// DeadLetterARN is the function's dead-letter target for asynchronous
	// invocations that exhaust their retries ("" when none).
	DeadLetterARN string
	// Async is the event-invoke config (retries and maximum event age of
	// asynchronous invocations); Lambda's defaults when the stack sets none.
	Async AsyncConfig
}

// AsyncConfig is how Lambda retries an asynchronous invocation.
type AsyncConfig struct {
	MaxRetries int
	MaxAge     time.Duration
}

// Lambda's defaults for asynchronous invocations and function settings.
var (
	DefaultAsync   = AsyncConfig{MaxRetries: 2, MaxAge: 6 * time.Hour}
	defaultMemory  = 128
	defaultTimeout = 3 * time.Second
)

// Functions reads every aws:lambda/function:Function of p.
func Functions(p *synthread.Plan) ([]Function, error) {
	var out []Function
	for _, r := range p.OfType("aws:lambda/function:Function") {
		f := Function{
			Name:     r.Str("name"),
			ARN:      r.Str("arn"),
			MemoryMB: r.Int("memorySize", defaultMemory),
			Timeout:  time.Duration(r.Int("timeout", int(defaultTimeout/time.Second))) * time.Second,
			Env:      map[string]string{},
			Async:    DefaultAsync,
		}
		if f.Name == "" || f.ARN == "" {
			return nil, fmt.Errorf("%s has no name or arn", r)
		}
		archive := synthread.Str(r.Map("code"), "archive")
		if archive == "" {
			return nil, fmt.Errorf("%s has no code archive", r)
		}
		f.Service = filepath.Base(filepath.Dir(archive))
		if _, err := (naming.Names{}).FunctionFor(f.Service); err != nil {
			return nil, fmt.Errorf("%s: code archive %s is not a service's package: %w", r, archive, err)
		}
		for k, v := range synthread.Obj(r.Map("environment"), "variables") {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: environment variable %s is not a string", r, k)
			}
			f.Env[k] = s
		}
		if lc := r.Map("loggingConfig"); lc != nil {
			f.LogFormat, f.LogGroup = synthread.Str(lc, "logFormat"), synthread.Str(lc, "logGroup")
		}
		f.DeadLetterARN = synthread.Str(r.Map("deadLetterConfig"), "targetArn")
		for _, c := range p.OfType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig") {
			if fn := c.Str("functionName"); fn == f.Name || fn == f.ARN {
				f.Async = AsyncConfig{
					MaxRetries: c.Int("maximumRetryAttempts", DefaultAsync.MaxRetries),
					MaxAge:     time.Duration(c.Int("maximumEventAgeInSeconds", int(DefaultAsync.MaxAge/time.Second))) * time.Second,
				}
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RuntimeEnv is the environment the function's process gets: what Lambda
// itself sets (name, memory, timeout, log settings, region, credentials),
// the synthesized variables, and endpoint as AWS_ENDPOINT_URL so the SDK
// talks to the local account.
func (f Function) RuntimeEnv(awsEnv map[string]string) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(f.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     fmt.Sprint(int(f.Timeout / time.Second)),
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"TZ":                              ":UTC",
	}
	if f.LogFormat != "" {
		env["AWS_LAMBDA_LOG_FORMAT"] = f.LogFormat
	}
	if f.LogGroup != "" {
		env["AWS_LAMBDA_LOG_GROUP_NAME"] = f.LogGroup
	}
	for k, v := range awsEnv {
		env[k] = v
	}
	for k, v := range f.Env {
		env[k] = v
	}
	return env
}
