//go:build mage

// Magefile of the market-data pipeline. Run `go run mage.go -l` for the list
// of targets; `go run mage.go test` is what CI runs.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/motoserver"
)

// Default target when none is given.
var Default = Test

const (
	// allTags compiles every file: the magefile (mage), the moto
	// integration tests (integration) and the end-to-end tests (e2e).
	allTags  = "mage,integration,e2e"
	buildDir = "build"
	synthDir = "build/synth"
	// fuzzTime bounds each fuzz target in `test`; override with FUZZTIME.
	fuzzTime = "10s"
)

// Build compiles every service into build/<service>/bootstrap.zip for AWS Lambda (linux/arm64) and into build/local/<service>/bootstrap for this machine.
func Build() error {
	for _, svc := range naming.Services {
		bin := filepath.Join(buildDir, svc, "bootstrap")
		if err := goBuild(svc, bin, "linux", "arm64"); err != nil {
			return err
		}
		if err := zipBootstrap(bin, naming.ArtifactZip(buildDir, svc)); err != nil {
			return err
		}
		if err := goBuild(svc, naming.LocalBinary(buildDir, svc), runtime.GOOS, runtime.GOARCH); err != nil {
			return err
		}
		fmt.Printf("built %s (%s)\n", naming.ArtifactZip(buildDir, svc), sizeOf(naming.ArtifactZip(buildDir, svc)))
	}
	return nil
}

// goBuild builds a service reproducibly: CGO off, -trimpath, no build id,
// and -tags lambda.norpc (provided.al2023 needs no RPC shim).
func goBuild(svc, out, goos, goarch string) error {
	env := map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
	return sh.RunWith(env, "go", "build", "-C", filepath.Join("services", svc), "-trimpath", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", absPath(out), ".")
}

// Synth runs the four stacks offline under Pulumi mocks in deploy order and writes build/synth/<layer>.json (STACK picks the stack name, default dev).
func Synth() error {
	mg.Deps(Build)
	return sh.RunV("go", "run", "./tools/synth", "-stack", stack(), "-build-dir", buildDir, "-out", synthDir)
}

// Lint checks formatting (gofmt) and runs go vet in every module.
func Lint() error {
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("gofmt needed on:\n%s", out)
	}
	return eachModule(func(dir string) error {
		return runIn(dir, map[string]string{"GOWORK": "off"}, "go", "vet", "-tags", allTags, "./...")
	})
}

// Test runs everything CI runs: lint, build, synth, then every module's unit and moto integration tests, the fuzz targets for a bounded time, and the end-to-end tests of the local pipeline.
func Test() {
	mg.SerialDeps(Lint, Build, Synth, Check.Modules, Check.Fuzz, Check.Pipeline)
}

// Check groups the parts of `test` so each can be run alone.
type Check mg.Namespace

// Modules runs `go test` with the integration tag in every module (each with GOWORK=off, so each builds on its own) against a moto server started for the run.
func (Check) Modules() error {
	return withMoto(func(endpoint string) error {
		return eachModule(func(dir string) error {
			return runIn(dir, map[string]string{"MOTO_ENDPOINT": endpoint, "GOWORK": "off"},
				"go", "test", "-count=1", "-tags", "integration,mage", "-timeout", "15m", "./...")
		})
	})
}

// Fuzz runs every Fuzz* target of every module for FUZZTIME (default 10s) each.
func (Check) Fuzz() error {
	d := os.Getenv("FUZZTIME")
	if d == "" {
		d = fuzzTime
	}
	return eachModule(func(dir string) error {
		targets, err := fuzzTargets(dir)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := runIn(dir, map[string]string{"GOWORK": "off"}, "go", "test", "-run", "^$",
				"-fuzz", "^"+t.name+"$", "-fuzztime", d, t.pkg); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pipeline runs the end-to-end tests: the real Lambda binaries under the Runtime Interface Emulator against moto, wired from build/synth.
func (Check) Pipeline() error {
	mg.Deps(Synth)
	return runIn("tools", map[string]string{"GOWORK": "off"}, "go", "test", "-count=1", "-tags", "e2e",
		"-timeout", "30m", "./...")
}

// benchTargets are the throughput goals (points/s on one core) of the
// benchmarks that have one, by benchmark name without the -N suffix.
var benchTargets = map[string]float64{
	"BenchmarkParseCSV":              2_000_000,
	"BenchmarkParseNDJSON":           1_000_000,
	"BenchmarkDecodeAndMarshal/warm": 1_000_000,
	"BenchmarkDecodeAndMarshal/cold": 1_000_000,
	"BenchmarkAggregate":             10_000_000,
}

// Bench runs the services' benchmarks on one core and prints their figures as a table, with the throughput goal and whether it was met.
func Bench() error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "service\tbenchmark\tpoints/s\tgoal\tmet\tother figures")
	for _, svc := range naming.Services {
		var buf bytes.Buffer
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-cpu", "1", "-count", "1", "./...")
		cmd.Dir, cmd.Stdout, cmd.Stderr = filepath.Join("services", svc), &buf, os.Stderr
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if err := cmd.Run(); err != nil {
			os.Stdout.Write(buf.Bytes())
			return fmt.Errorf("bench %s: %w", svc, err)
		}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			name, metrics, ok := benchLine(sc.Text())
			if !ok {
				continue
			}
			rate, goal, met, other := metrics["points/s"], "", "", []string{}
			if g, ok := benchTargets[name]; ok {
				goal, met = fmt.Sprintf("%.0f", g), "no"
				if rate >= g {
					met = "yes"
				}
			}
			for unit, v := range metrics {
				if unit != "points/s" {
					other = append(other, fmt.Sprintf("%.0f %s", v, unit))
				}
			}
			sort.Strings(other)
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\n", svc, name, rate, goal, met, strings.Join(other, ", "))
		}
	}
	return tw.Flush()
}

// benchLine parses a `go test -bench` result line into the benchmark name
// (without the -N GOMAXPROCS suffix) and its metrics by unit.
func benchLine(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	metrics := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		metrics[f[i+1]] = v
	}
	return name, metrics, true
}

// Local runs the whole pipeline on this machine (moto and the real Lambda binaries under the Runtime Interface Emulator, wired from build/synth); flags follow the target, as in `go run mage.go local --points 1000000` (with the mage binary: LOCAL_ARGS="--points 1000000" mage local).
func Local() error {
	mg.Deps(Synth)
	args := []string{"run", "./tools/cmd/local", "--synth-dir", synthDir, "--build-dir", buildDir}
	if raw := os.Getenv("MAGE_LOCAL_ARGS"); raw != "" {
		var extra []string
		if err := json.Unmarshal([]byte(raw), &extra); err != nil {
			return err
		}
		args = append(args, extra...)
	} else if raw := os.Getenv("LOCAL_ARGS"); raw != "" {
		args = append(args, strings.Fields(raw)...)
	}
	return sh.RunV("go", args...)
}

// Preview shows what `pulumi preview` would change in each layer for STACK (default dev), in deploy order.
func Preview() error {
	mg.Deps(Build)
	if err := requireDeployTools(); err != nil {
		return err
	}
	for _, layer := range naming.Layers {
		if err := pulumi(layer, "preview", "--diff"); err != nil {
			return err
		}
	}
	return nil
}

// Deploy builds the services and runs `pulumi up` for storage, messaging, compute and api, in that order, for STACK (default dev).
func Deploy() error {
	mg.Deps(Build)
	if err := requireDeployTools(); err != nil {
		return err
	}
	for _, layer := range naming.Layers {
		if err := pulumi(layer, "up", "--yes"); err != nil {
			return err
		}
	}
	fmt.Printf("deployed stack %s; prove it end to end with: STACK=%s go run mage.go smoke\n", stack(), stack())
	return nil
}

// Destroy runs `pulumi destroy` for api, compute, messaging and storage, in that order, for STACK (default dev).
func Destroy() error {
	if err := requireDeployTools(); err != nil {
		return err
	}
	for i := len(naming.Layers) - 1; i >= 0; i-- {
		if err := pulumi(naming.Layers[i], "destroy", "--yes"); err != nil {
			return err
		}
	}
	return nil
}

// Smoke proves a pipeline end to end: known trades through S3 and a signed POST /ingest, aggregates compared exactly, the ingestion report, the DLQ, cleanup. Against the deployed STACK (default dev) with your AWS credentials, or with `go run mage.go smoke --local` against a local pipeline started for the run (with the mage binary: SMOKE_ARGS=--local mage smoke).
func Smoke() error {
	args, err := targetArgs("MAGE_SMOKE_ARGS", "SMOKE_ARGS")
	if err != nil {
		return err
	}
	local := false
	for _, a := range args {
		local = local || a == "--local" || a == "-local"
	}
	if local {
		mg.Deps(Synth)
		args = append([]string{"--synth-dir", synthDir, "--build-dir", buildDir}, args...)
	} else {
		if err := requireDeployTools(); err != nil {
			return err
		}
		args = append([]string{"--stack", stack()}, args...)
	}
	return sh.RunV("go", append([]string{"run", "./tools/cmd/smoke"}, args...)...)
}

// targetArgs returns the arguments that followed a target on the command
// line (mage.go hands them over as a JSON array in jsonEnv), else the
// space-separated fieldsEnv.
func targetArgs(jsonEnv, fieldsEnv string) ([]string, error) {
	if raw := os.Getenv(jsonEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return nil, fmt.Errorf("%s: %w", jsonEnv, err)
		}
		return args, nil
	}
	return strings.Fields(os.Getenv(fieldsEnv)), nil
}

// Clean removes build/ (binaries, packages, synth output); the moto venv in .venv stays.
func Clean() error {
	return os.RemoveAll(buildDir)
}

// pulumi runs a pulumi command in a layer's directory, creating the stack on
// first use and pinning its region.
func pulumi(layer string, args ...string) error {
	dir := filepath.Join("stacks", layer)
	s := stack()
	if err := runIn(dir, nil, "pulumi", "stack", "select", "--create", s); err != nil {
		return err
	}
	if err := runIn(dir, nil, "pulumi", "config", "set", "aws:region", naming.Region, "--stack", s); err != nil {
		return err
	}
	return runIn(dir, nil, "pulumi", append(args, "--stack", s)...)
}

// requireDeployTools fails clearly when the Pulumi CLI or AWS credentials are missing.
func requireDeployTools() error {
	if _, err := exec.LookPath("pulumi"); err != nil {
		return errors.New("the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and run `pulumi login`")
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(v) != "" {
			return nil
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, f := range []string{".aws/credentials", ".aws/config"} {
			if _, err := os.Stat(filepath.Join(home, f)); err == nil {
				return nil
			}
		}
	}
	return errors.New("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (see README, Deploy to AWS)")
}

func stack() string {
	if s := os.Getenv("STACK"); s != "" {
		return s
	}
	return "dev"
}

// withMoto starts a moto server (or uses MOTO_ENDPOINT) for the duration of fn.
func withMoto(fn func(endpoint string) error) error {
	srv, err := motoserver.Start(motoserver.Options{RepoDir: absPath(".")})
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Println("moto server at", srv.Endpoint())
	return fn(srv.Endpoint())
}

// eachModule runs fn in every module directory listed in go.work, in order.
func eachModule(fn func(dir string) error) error {
	out, err := sh.Output("go", "work", "edit", "-json")
	if err != nil {
		return err
	}
	var work struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal([]byte(out), &work); err != nil {
		return err
	}
	dirs := make([]string, 0, len(work.Use))
	for _, u := range work.Use {
		dirs = append(dirs, u.DiskPath)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		start := time.Now()
		if err := fn(d); err != nil {
			return fmt.Errorf("module %s: %w", d, err)
		}
		if mg.Verbose() {
			fmt.Printf("module %s done in %s\n", d, time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

type fuzzTarget struct{ pkg, name string }

// fuzzTargets lists the Fuzz* functions of a module's packages.
func fuzzTargets(dir string) ([]fuzzTarget, error) {
	cmd := exec.Command("go", "test", "-tags", "mage", "-list", "^Fuzz", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list fuzz targets in %s: %w", dir, err)
	}
	var names, targets []fuzzTarget
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			names = append(names, fuzzTarget{name: f[0]})
		case len(f) >= 2 && (f[0] == "ok" || f[0] == "?"):
			for _, n := range names {
				targets = append(targets, fuzzTarget{pkg: f[1], name: n.name})
			}
			names = nil
		}
	}
	return targets, nil
}

func runIn(dir string, env map[string]string, cmd string, args ...string) error {
	fmt.Printf("[%s] %s %s\n", dir, cmd, strings.Join(args, " "))
	c := exec.Command(cmd, args...)
	c.Dir, c.Stdout, c.Stderr, c.Stdin = dir, os.Stdout, os.Stderr, os.Stdin
	c.Env = os.Environ()
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	return c.Run()
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// zipBootstrap writes a Lambda deployment package holding bin as an
// executable "bootstrap", byte-for-byte reproducible (fixed time and mode).
func zipBootstrap(bin, zipPath string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(zipPath, buf.Bytes(), 0o644)
}

func sizeOf(p string) string {
	st, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(st.Size())/(1<<20))
}
