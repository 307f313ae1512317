// Package compute is the compute layer of the pipeline (project
// market-data-compute): the three Lambda functions with their execution
// roles, log groups and error metrics, and the triggers that connect them to
// the storage and messaging layers (S3 notification, SQS event source mapping,
// two EventBridge rules).
//
// The three functions differ only in the values of their functionSpec
// (functions.go); one code path builds each of them.
package compute

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// Project config keys this layer reads (besides common.ConfigEnvironmentSuffix,
// common.ConfigStorageStack and common.ConfigMessagingStack), with their
// defaults. Pulumi.yaml declares the same keys and defaults.
const (
	// ConfigMemorySize is the memory of each function in MB.
	ConfigMemorySize = "memorySize"
	// ConfigBuildDir is the directory `go run mage.go build` writes the
	// function packages to; relative paths are resolved against the project
	// directory (where Pulumi.yaml is).
	ConfigBuildDir = "buildDir"

	// ReservedConcurrencySuffix makes a service's reserved-concurrency key
	// (ingestionReservedConcurrency, ...). The default NoReservedConcurrency
	// (-1, the provider's own "unreserved") sets nothing: the function draws
	// on the account's unreserved pool. 0 would stop the function, so the
	// program refuses it.
	ReservedConcurrencySuffix = "ReservedConcurrency"
	NoReservedConcurrency     = -1

	DefaultMemorySize = 3072
	DefaultBuildDir   = "../../build"

	// Lambda's own bounds for memorySize.
	minMemorySize = 128
	maxMemorySize = 10240
)

// settings is this layer's resolved config.
type settings struct {
	memorySize int
	// reserved maps a service to its reserved concurrency; absent = none.
	reserved map[string]int
	// packages maps a service to the absolute path of its deployment zip.
	packages map[string]string
}

// lowerLayers are the outputs of the storage and messaging stacks this layer uses.
type lowerLayers struct {
	bucketName, bucketArn, tableName, tableArn         pulumi.StringOutput
	queueURL, queueArn, dlqArn, eventBusName, eventBus pulumi.StringOutput
	alarmTopic                                         pulumi.StringOutput
}

// Program is the compute layer's Pulumi program.
func Program(ctx *pulumi.Context) (common.Outputs, error) {
	// The rules' ARNs must be those the messaging layer admits to the DLQ,
	// which it computes for naming.Region.
	n, err := common.NamesInRegion(ctx)
	if err != nil {
		return nil, err
	}
	s, err := readSettings(ctx)
	if err != nil {
		return nil, err
	}
	up, err := referenceLowerLayers(ctx, n)
	if err != nil {
		return nil, err
	}
	account, err := accountID(ctx)
	if err != nil {
		return nil, err
	}

	fns := map[string]*function{}
	outs := common.Outputs{outputs.EnvironmentSuffix: pulumi.String(n.Suffix())}
	for _, spec := range functionSpecs {
		fn, err := newFunction(ctx, n, s, up, account, spec)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", spec.service, err)
		}
		fns[spec.service] = fn
		fn.export(outs)
	}

	if err := objectCreatedTrigger(ctx, up, account, fns["ingestion"]); err != nil {
		return nil, err
	}
	if err := queueTrigger(ctx, up, fns["processor"]); err != nil {
		return nil, err
	}
	if err := ruleTriggers(ctx, n, up, fns["aggregator"]); err != nil {
		return nil, err
	}
	if err := newAlarms(ctx, n, up, fns, outs); err != nil {
		return nil, err
	}
	return outs, nil
}

// readSettings reads and checks the layer's config. The function packages
// must exist before anything is registered, so a missing build fails the
// program with a clear message instead of a half-planned stack.
func readSettings(ctx *pulumi.Context) (settings, error) {
	cfg := config.New(ctx, "")
	mem, err := cfg.TryInt(ConfigMemorySize)
	switch {
	case errors.Is(err, config.ErrMissingVar):
		mem = DefaultMemorySize
	case err != nil:
		return settings{}, fmt.Errorf("config %s: %w", ConfigMemorySize, err)
	}
	if mem < minMemorySize || mem > maxMemorySize {
		return settings{}, fmt.Errorf("config %s: %d MB is outside Lambda's %d–%d MB", ConfigMemorySize, mem, minMemorySize, maxMemorySize)
	}

	buildDir := cfg.Get(ConfigBuildDir)
	if buildDir == "" {
		buildDir = DefaultBuildDir
	}
	if !filepath.IsAbs(buildDir) {
		buildDir = filepath.Join(ctx.RootDirectory(), buildDir)
	}
	buildDir, err = filepath.Abs(buildDir)
	if err != nil {
		return settings{}, fmt.Errorf("config %s: %w", ConfigBuildDir, err)
	}

	s := settings{memorySize: mem, packages: map[string]string{}, reserved: map[string]int{}}
	for _, service := range naming.Services {
		key := ReservedConcurrencyKey(service)
		v, err := cfg.TryInt(key)
		switch {
		case errors.Is(err, config.ErrMissingVar), err == nil && v == NoReservedConcurrency:
			continue
		case err != nil:
			return settings{}, fmt.Errorf("config %s: %w", key, err)
		case v < 1:
			return settings{}, fmt.Errorf("config %s: %d: want at least 1 (0 stops the function), or %d for none", key, v, NoReservedConcurrency)
		case service == "processor" && v < queueMaxConcurrency:
			// Lambda throttles the event source mapping's pollers when the
			// function's reserved concurrency is below their maximum.
			return settings{}, fmt.Errorf("config %s: %d is below the SQS trigger's maximum concurrency %d", key, v, queueMaxConcurrency)
		}
		s.reserved[service] = v
	}
	for _, service := range naming.Services {
		zip := naming.ArtifactZip(buildDir, service)
		if _, err := os.Stat(zip); err != nil {
			return settings{}, fmt.Errorf("function package %s not found: run `go run mage.go build` first (or set config %s): %w",
				zip, ConfigBuildDir, err)
		}
		s.packages[service] = zip
	}
	return s, nil
}

// referenceLowerLayers reads the storage and messaging stacks' outputs, once
// both were deployed with this stack's environment suffix.
func referenceLowerLayers(ctx *pulumi.Context, n naming.Names) (lowerLayers, error) {
	layers, err := common.ReferenceLowerLayers(ctx, n, naming.ProjectStorage, naming.ProjectMessaging)
	if err != nil {
		return lowerLayers{}, err
	}
	storage, messaging := layers[0], layers[1]
	return lowerLayers{
		bucketName:   storage.String(outputs.BucketName),
		bucketArn:    storage.String(outputs.BucketArn),
		tableName:    storage.String(outputs.TableName),
		tableArn:     storage.String(outputs.TableArn),
		queueURL:     messaging.String(outputs.QueueURL),
		queueArn:     messaging.String(outputs.QueueArn),
		dlqArn:       messaging.String(outputs.DLQArn),
		eventBusName: messaging.String(outputs.EventBusName),
		eventBus:     messaging.String(outputs.EventBusArn),
		alarmTopic:   messaging.String(outputs.AlarmTopicArn),
	}, nil
}

// accountID is the account deployed to; it scopes the execution roles' trust
// and the S3 invoke permission.
func accountID(ctx *pulumi.Context) (string, error) {
	id, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("caller identity: %w", err)
	}
	return id.AccountId, nil
}

// ReservedConcurrencyKey is the config key of a service's reserved concurrency.
func ReservedConcurrencyKey(service string) string { return service + ReservedConcurrencySuffix }
