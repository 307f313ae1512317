//go:build mage

// Magefile of the market-data pipeline. Run `go run mage.go -l` for the list
// of targets; `go run mage.go test` is what CI runs.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/openapi"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/deploydiag"
	"github.com/marketanalytics/pipeline/tools/enginecheck"
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
	if err := sh.RunV("go", "run", "./tools/synth", "-stack", stack(), "-build-dir", buildDir, "-out", synthDir); err != nil {
		return err
	}
	return writeOpenAPI(openAPIFile)
}

// openAPIFile is where synth writes the API's OpenAPI 3 document.
var openAPIFile = filepath.Join(buildDir, "openapi.json")

// writeOpenAPI writes the OpenAPI document of the route table (package
// shared/openapi) to path.
func writeOpenAPI(path string) error {
	b, err := openapi.JSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

// Lint checks formatting (gofmt), lints the CI workflows (actionlint) and runs go vet in every module.
func Lint() error {
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("gofmt needed on:\n%s", out)
	}
	if err := lintWorkflows(workflowDir); err != nil {
		return err
	}
	return eachModule(func(dir string) error {
		return runIn(dir, map[string]string{"GOWORK": "off"}, "go", "vet", "-tags", allTags, "./...")
	})
}

// actionlint lints the GitHub Actions workflows, pinned (go run of a
// versioned package ignores this module, so it adds nothing to go.mod).
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// workflowDir holds the CI workflows.
const workflowDir = ".github/workflows"

// lintWorkflows runs actionlint on every workflow in dir.
func lintWorkflows(dir string) error {
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return fmt.Errorf("no workflow in %s", dir)
	}
	if err := sh.RunV("go", append([]string{"run", actionlint}, files...)...); err != nil {
		return fmt.Errorf("actionlint: %w", err)
	}
	return nil
}

// Test runs everything CI runs: lint, build, synth, then every module's unit and moto integration tests, the fuzz targets for a bounded time, and the end-to-end tests of the local pipeline.
func Test() {
	mg.SerialDeps(Lint, Build, Synth, Check.Modules, Check.Fuzz, Check.Pipeline, Check.Engine)
}

// Check groups the parts of `test` so each can be run alone.
type Check mg.Namespace

// Modules runs `go test` with the integration tag in every module (each with GOWORK=off, so each builds on its own) against a moto server started for the run, and every benchmark once (so `bench` never meets a broken one).
func (Check) Modules() error {
	return withMoto(func(endpoint string) error {
		return eachModule(func(dir string) error {
			return runIn(dir, map[string]string{"MOTO_ENDPOINT": endpoint, "GOWORK": "off"},
				"go", "test", "-count=1", "-tags", "integration,mage", "-timeout", "15m", "-bench", ".", "-benchtime", "1x", "./...")
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
			if err := fuzzOne(dir, t.pkg, t.name, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// fuzzOne fuzzes one target for d. Go 1.26's fuzz coordinator can fail a
// target at the end of a -fuzztime window with a bare "context deadline
// exceeded" when a loaded machine's worker misses the stop (golang/go#75804,
// fixed in Go 1.27): no input failed and none was written. Such a run, and
// only such a run, is repeated once; a second one fails.
func fuzzOne(dir, pkg, name, d string) error {
	for attempt := 1; ; attempt++ {
		fmt.Printf("[%s] go test -run ^$ -fuzz ^%s$ -fuzztime %s %s\n", dir, name, d, pkg)
		var out bytes.Buffer
		c := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+name+"$", "-fuzztime", d, pkg)
		c.Dir, c.Env = dir, append(os.Environ(), "GOWORK=off")
		c.Stdout, c.Stderr = io.MultiWriter(os.Stdout, &out), io.MultiWriter(os.Stderr, &out)
		err := c.Run()
		if err == nil || attempt == 2 || !fuzzDeadlineRace(out.String()) {
			return err
		}
		fmt.Printf("[%s] %s: the fuzz coordinator's deadline race (golang/go#75804), no failing input: once more\n", dir, name)
	}
}

// fuzzDeadlineRace reports whether a failed fuzz run's output is the
// coordinator's deadline race alone: "context deadline exceeded", and no
// failing input, panic or test failure of the target.
func fuzzDeadlineRace(out string) bool {
	if !strings.Contains(out, "context deadline exceeded") {
		return false
	}
	for _, real := range []string{"Failing input written to", "panic:", "_test.go:", "fuzzing process hung", "failure while testing seed corpus"} {
		if strings.Contains(out, real) {
			return false
		}
	}
	return true
}

// Pipeline runs the end-to-end tests: the real Lambda binaries under the Runtime Interface Emulator against moto, wired from build/synth.
func (Check) Pipeline() error {
	mg.Deps(Synth)
	// 45m: the backfill test alone (215,651 points, ~20k windows through
	// moto) takes 10–15 minutes on a 2-core machine.
	return runIn("tools", map[string]string{"GOWORK": "off"}, "go", "test", "-count=1", "-tags", "e2e",
		"-timeout", "45m", "./...")
}

// engineDir holds what check:engine builds and writes: the pinned CLI, the
// language host and the stand-in provider (bin), the file backend (state),
// the stack config files (config) and PULUMI_HOME (home).
const engineDir = "build/engine"

// Engine runs deploy, a per-layer `pulumi up` and destroy through the real Pulumi engine (the CLI and Go language host pinned in tools/pulumicli and tools/pulumilang, built into build/engine/bin) with a local file backend and a stand-in AWS provider (tools/fakeaws): outputs, idempotence, a one-setting update, two broken layers that must fail, and a complete destroy.
func (Check) Engine() error {
	mg.Deps(Synth)
	start := time.Now()
	bin, err := engineTools()
	if err != nil {
		return err
	}
	fmt.Printf("check:engine: tools ready in %s\n", time.Since(start).Round(time.Second))
	// `pulumi stack select --create` writes the passphrase salt into
	// stacks/<layer>/Pulumi.<stack>.yaml whatever --config-file says; a
	// developer's real file must never be overwritten, and the check's own
	// are removed when it ends.
	created, err := claimStackFiles(stack())
	if err != nil {
		return err
	}
	defer removeFiles(created)
	d, stop, err := engineDeployment(bin)
	if err != nil {
		return err
	}
	defer stop()
	c := &engineCheck{d: d, start: time.Now()}
	for _, s := range []struct {
		name string
		fn   func() error
	}{
		{"1 deploy (storage → messaging → compute → api)", c.deploy},
		{"2 stack outputs", c.outputs},
		{"3 second deploy changes nothing", c.redeploy},
		{"4 compute: memorySize 3008, pulumi up there alone", c.memorySize},
		{"5 a StackReference to a wrong output name fails", c.brokenStackReference},
		{"6 a mistyped config default fails", c.mistypedDefault},
		{"7 destroy (api → compute → messaging → storage)", c.destroy},
	} {
		t := time.Now()
		fmt.Printf("\n=== check:engine step %s\n", s.name)
		if err := s.fn(); err != nil {
			return fmt.Errorf("check:engine step %s: %w", s.name, err)
		}
		c.report = append(c.report, fmt.Sprintf("step %s: ok in %s", s.name, time.Since(t).Round(time.Second)))
	}
	fmt.Printf("\n=== check:engine passed in %s (tools %s)\n", time.Since(start).Round(time.Second), c.start.Sub(start).Round(time.Second))
	for _, line := range c.report {
		fmt.Println(line)
	}
	return nil
}

// claimStackFiles fails when a layer already has a Pulumi.<stack>.yaml (a
// developer's stack that the check would write over) and returns the paths
// the check will create.
func claimStackFiles(stack string) ([]string, error) {
	var paths []string
	for _, layer := range naming.Layers {
		p := filepath.Join(layerDir(layer), "Pulumi."+stack+".yaml")
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("check:engine would write over %s: run it with another STACK (e.g. STACK=enginecheck) or move the file", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func removeFiles(paths []string) {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(os.Stderr, "check:engine:", err)
		}
	}
}

// engineTools builds, or reuses when built from the same pinned version, the
// Pulumi CLI and Go language host, and builds the stand-in provider; it
// returns the directory holding the three.
func engineTools() (string, error) {
	bin := absPath(filepath.Join(engineDir, "bin"))
	pinned := []struct{ dir, module, pkg, exe string }{
		{"tools/pulumicli", "github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", "pulumi"},
		{"tools/pulumilang", "github.com/pulumi/pulumi/sdk/v3", "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go", "pulumi-language-go"},
	}
	off := map[string]string{"GOWORK": "off"}
	// The CLI is the engine release of the SDK the stacks are built with.
	sdk, err := sh.OutputWith(off, "go", "list", "-C", "stacks/common", "-m", "-f", "{{.Version}}", "github.com/pulumi/pulumi/sdk/v3")
	if err != nil {
		return "", err
	}
	for i, p := range pinned {
		out, err := sh.OutputWith(off, "go", "list", "-C", p.dir, "-m", "-f", "{{.Version}}", p.module)
		if err != nil {
			return "", err
		}
		if i == 0 && out != sdk {
			return "", fmt.Errorf("%s pins %s %s, but the stacks use sdk/v3 %s: pin the same version", p.dir, p.module, out, sdk)
		}
		exe, stamp := filepath.Join(bin, p.exe), filepath.Join(bin, p.exe+".version")
		if v, err := os.ReadFile(stamp); err == nil && string(v) == out {
			if _, err := os.Stat(exe); err == nil {
				fmt.Printf("check:engine: reusing %s %s\n", p.exe, out)
				continue
			}
		}
		t := time.Now()
		if err := runIn(p.dir, off, "go", "build", "-o", exe, p.pkg); err != nil {
			return "", err
		}
		fmt.Printf("check:engine: built %s %s in %s\n", p.exe, out, time.Since(t).Round(time.Second))
		if err := os.WriteFile(stamp, []byte(out), 0o644); err != nil {
			return "", err
		}
	}
	if err := runIn("tools/fakeaws", off, "go", "build", "-o", filepath.Join(bin, "fakeaws"), "./cmd/fakeaws"); err != nil {
		return "", err
	}
	return bin, nil
}

// engineDeployment starts the stand-in provider and returns the deployment
// check:engine runs: the CLI in bin, a fresh file backend, the provider
// attached for package aws, fake AWS credentials. stop ends the provider.
func engineDeployment(bin string) (deployment, func(), error) {
	dirs := map[string]string{}
	for _, d := range []string{"state", "config", "home"} { // fresh for every run
		dirs[d] = absPath(filepath.Join(engineDir, d))
		if err := os.RemoveAll(dirs[d]); err != nil {
			return deployment{}, nil, err
		}
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			return deployment{}, nil, err
		}
	}
	prov := exec.Command(filepath.Join(bin, "fakeaws"))
	prov.Stderr = os.Stderr
	stdin, err := prov.StdinPipe()
	if err != nil {
		return deployment{}, nil, err
	}
	stdout, err := prov.StdoutPipe()
	if err != nil {
		return deployment{}, nil, err
	}
	if err := prov.Start(); err != nil {
		return deployment{}, nil, err
	}
	// The provider serves until its stdin closes.
	stop := func() {
		stdin.Close()
		if err := prov.Wait(); err != nil {
			fmt.Fprintln(os.Stderr, "check:engine: fakeaws:", err)
		}
	}
	var port int
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "PORT %d", &port); err != nil || serr != nil {
		stop()
		return deployment{}, nil, fmt.Errorf("fakeaws did not report its port (%q): %v %v", line, err, serr)
	}
	return deployment{
		stack:     stack(),
		cli:       filepath.Join(bin, "pulumi"),
		configDir: dirs["config"],
		env: map[string]string{
			// The CLI finds the language host on PATH.
			"PATH":                     bin + string(os.PathListSeparator) + os.Getenv("PATH"),
			"PULUMI_BACKEND_URL":       "file://" + filepath.ToSlash(dirs["state"]),
			"PULUMI_HOME":              dirs["home"],
			"PULUMI_CONFIG_PASSPHRASE": "check-engine",
			// The engine treats an attached provider as installed: no
			// plugin download is attempted (nor possible here).
			"PULUMI_DEBUG_PROVIDERS":                      fmt.Sprintf("aws:%d", port),
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
			"PULUMI_SKIP_UPDATE_CHECK":                    "true",
			"AWS_ACCESS_KEY_ID":                           "AKIAENGINECHECKFAKE0",
			"AWS_SECRET_ACCESS_KEY":                       "engine-check-fake-secret",
		},
	}, stop, nil
}

// engineCheck is check:engine's run: the deployment and what each step saw.
type engineCheck struct {
	d      deployment
	start  time.Time
	report []string
	// deployed is each layer's state after the first deploy.
	deployed map[string]enginecheck.State
}

func (c *engineCheck) state(dir string) (enginecheck.State, error) {
	out, err := c.d.output(dir, "stack", "export")
	if err != nil {
		return enginecheck.State{}, err
	}
	return enginecheck.ParseExport(out)
}

func (c *engineCheck) lastUpdate(dir string) (enginecheck.Update, error) {
	out, err := c.d.output(dir, "stack", "history", "--json")
	if err != nil {
		return enginecheck.Update{}, err
	}
	return enginecheck.LastUpdate(out)
}

// each runs fn for every layer in deploy order with its state and last update.
func (c *engineCheck) each(fn func(layer string, st enginecheck.State, u enginecheck.Update) error) error {
	for _, layer := range naming.Layers {
		st, err := c.state(layerDir(layer))
		if err != nil {
			return err
		}
		u, err := c.lastUpdate(layerDir(layer))
		if err != nil {
			return err
		}
		if err := fn(layer, st, u); err != nil {
			return fmt.Errorf("%s: %w", layer, err)
		}
	}
	return nil
}

func (c *engineCheck) note(format string, args ...interface{}) {
	line := fmt.Sprintf(format, args...)
	fmt.Println(line)
	c.report = append(c.report, "  "+line)
}

// deploy runs the magefile's deploy; every layer must have created all its
// resources, with the ids the synth (same program, same fake) recorded.
func (c *engineCheck) deploy() error {
	if err := c.d.deploy(); err != nil {
		return err
	}
	c.deployed = map[string]enginecheck.State{}
	return c.each(func(layer string, st enginecheck.State, u enginecheck.Update) error {
		if err := u.OnlyOps("create"); err != nil {
			return err
		}
		ids, err := enginecheck.SynthIDs(synthDir, layer)
		if err != nil {
			return err
		}
		if diffs := enginecheck.CompareIDs(ids, st); len(diffs) > 0 {
			return fmt.Errorf("state differs from the synth:\n  %s", strings.Join(diffs, "\n  "))
		}
		c.deployed[layer] = st
		c.note("%s: %d resources (%s): %s", layer, len(st.Managed()), u, strings.Join(st.CountByType(), ", "))
		return nil
	})
}

// outputs reads each layer's `pulumi stack output --json`: the outputs the
// synth recorded, and the API URLs in the shape the README gives.
func (c *engineCheck) outputs() error {
	var api map[string]interface{}
	for _, layer := range naming.Layers {
		raw, err := c.d.output(layerDir(layer), "stack", "output", "--json", "--show-secrets")
		if err != nil {
			return err
		}
		var got map[string]interface{}
		if err := json.Unmarshal(raw, &got); err != nil {
			return fmt.Errorf("%s: stack output: %w", layer, err)
		}
		want, err := enginecheck.SynthOutputs(synthDir, layer)
		if err != nil {
			return err
		}
		if diffs := enginecheck.DiffOutputs(want, got); len(diffs) > 0 {
			return fmt.Errorf("%s outputs differ from the synth's:\n  %s", layer, strings.Join(diffs, "\n  "))
		}
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		c.note("%s: %d outputs: %s", layer, len(got), strings.Join(keys, ", "))
		api = got
	}
	wantURL := fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s%s", api[outputs.APIID], naming.Region,
		api[outputs.StageName], marketdata.APIIngestResource)
	if api[outputs.IngestURL] != wantURL {
		return fmt.Errorf("api %s = %v, want %s", outputs.IngestURL, api[outputs.IngestURL], wantURL)
	}
	c.note("api: %s = %s", outputs.IngestURL, wantURL)
	return nil
}

// redeploy runs the magefile's deploy again: every layer must report every
// resource the same, and its state must not have moved.
func (c *engineCheck) redeploy() error {
	if err := c.d.deploy(); err != nil {
		return err
	}
	return c.each(func(layer string, st enginecheck.State, u enginecheck.Update) error {
		if err := u.OnlyOps("same"); err != nil {
			return err
		}
		if added, removed, changed := enginecheck.Changed(c.deployed[layer], st); len(added)+len(removed)+len(changed) > 0 {
			return fmt.Errorf("state moved: added %v, removed %v, changed %v", added, removed, changed)
		}
		c.note("%s: %s", layer, u)
		return nil
	})
}

// lambdaFunction is the type of the functions, the only resources a memory
// change may touch.
const lambdaFunction = "aws:lambda/function:Function"

// memorySize sets memorySize 3008 in compute and runs `pulumi up` there
// alone, as the team owning compute would: exactly the functions change,
// in place, in that one input.
func (c *engineCheck) memorySize() error {
	const memory = 3008
	dir := layerDir("compute")
	if err := c.d.run(dir, "config", "set", "memorySize", strconv.Itoa(memory)); err != nil {
		return err
	}
	if err := c.d.run(dir, "up", "--yes"); err != nil {
		return err
	}
	st, err := c.state(dir)
	if err != nil {
		return err
	}
	u, err := c.lastUpdate(dir)
	if err != nil {
		return err
	}
	if err := u.OnlyOps("same", "update"); err != nil {
		return err
	}
	added, removed, changed := enginecheck.Changed(c.deployed["compute"], st)
	if len(added)+len(removed) > 0 || len(changed) != len(naming.Services) || u.ResourceChanges["update"] != len(naming.Services) {
		return fmt.Errorf("want the %d functions updated, got added %v, removed %v, changed %v (%s)", len(naming.Services), added, removed, changed, u)
	}
	for _, ch := range changed {
		r, _ := st.Get(ch.URN)
		if r.Type != lambdaFunction || strings.Join(ch.Keys, ",") != "memorySize" || r.Inputs["memorySize"] != float64(memory) {
			return fmt.Errorf("unexpected change of %s: %v (memorySize %v)", ch.URN, ch.Keys, r.Inputs["memorySize"])
		}
		c.note("compute: updated %s: %v", ch.URN, ch.Keys)
	}
	c.note("compute: %s", u)
	return nil
}

// brokenCopy copies a layer's project to a temporary directory under
// another project name (its stacks then live beside the real ones in the
// backend), with its go.mod replacements made absolute so it builds there.
func brokenCopy(layer string) (string, string, error) {
	tmp, err := os.MkdirTemp("", "check-engine-"+layer+"-")
	if err != nil {
		return "", "", err
	}
	src := layerDir(layer)
	if err := os.CopyFS(tmp, os.DirFS(src)); err != nil {
		return tmp, "", err
	}
	out, err := sh.OutputWith(map[string]string{"GOWORK": "off"}, "go", "mod", "edit", "-json", filepath.Join(src, "go.mod"))
	if err != nil {
		return tmp, "", err
	}
	var mod struct {
		Replace []struct{ Old, New struct{ Path string } }
	}
	if err := json.Unmarshal([]byte(out), &mod); err != nil {
		return tmp, "", err
	}
	for _, r := range mod.Replace {
		if !strings.HasPrefix(r.New.Path, ".") {
			continue
		}
		if err := sh.RunWith(map[string]string{"GOWORK": "off"}, "go", "mod", "edit", "-replace",
			r.Old.Path+"="+absPath(filepath.Join(src, r.New.Path)), filepath.Join(tmp, "go.mod")); err != nil {
			return tmp, "", err
		}
	}
	project, err := enginecheck.RenameProject(filepath.Join(tmp, "Pulumi.yaml"), "-broken")
	return tmp, project, err
}

// mustFail runs `pulumi up` in a broken copy the way deploy does; it must
// fail with a message matching want. The copy's stack is then removed, so
// the backend holds only the real stacks.
func (c *engineCheck) mustFail(dir, project string, want *regexp.Regexp) error {
	var buf bytes.Buffer
	d := c.d
	d.stdout = &buf
	err := d.pulumi(dir, "up", "--yes")
	if err == nil {
		return fmt.Errorf("pulumi up of %s succeeded", project)
	}
	msg := want.FindString(buf.String())
	if msg == "" {
		return fmt.Errorf("pulumi up of %s failed (%v) without a message matching %s", project, err, want)
	}
	c.note("%s: pulumi up failed as it must: %s", project, msg)
	// --force drops whatever the failed update created: the stand-in
	// provider holds nothing, so the backend's record is all there is. It
	// runs outside the copy, whose Pulumi.yaml may not load, naming the
	// stack in full ("organization" is the file backend's organization).
	// A copy whose Pulumi.yaml does not load never got a stack: nothing to
	// remove then.
	out, err := c.d.command(filepath.Dir(dir), "stack", "rm", "--yes", "--force", "--stack",
		"organization/"+project+"/"+c.d.stack).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "no stack named") {
		return fmt.Errorf("pulumi stack rm of %s: %w\n%s", project, err, out)
	}
	return nil
}

// brokenStackReference: a copy of api reading a compute output no layer
// exports must fail, naming the stack and the output.
func (c *engineCheck) brokenStackReference() error {
	dir, project, err := brokenCopy("api")
	defer os.RemoveAll(dir)
	if err != nil {
		return err
	}
	key, err := enginecheck.BreakStackReference(dir)
	if err != nil {
		return err
	}
	fmt.Printf("check:engine: %s reads outputs.%s + \"Typo\"\n", project, key)
	return c.mustFail(dir, project, regexp.MustCompile(`stack \S+ has no output "\w+Typo"`))
}

// mistypedDefault: a copy of compute whose integer config default is a
// string must be refused by the engine before the program runs.
func (c *engineCheck) mistypedDefault() error {
	dir, project, err := brokenCopy("compute")
	defer os.RemoveAll(dir)
	if err != nil {
		return err
	}
	key, err := enginecheck.MistypeConfigDefault(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return err
	}
	fmt.Printf("check:engine: %s declares a string default for integer %s\n", project, key)
	return c.mustFail(dir, project, regexp.MustCompile(`default value specified for configuration key '\S*`+key+`' is not of the expected type '\w+'`))
}

// destroy runs the magefile's destroy: every stack must end empty.
func (c *engineCheck) destroy() error {
	if err := c.d.destroy(); err != nil {
		return err
	}
	return c.each(func(layer string, st enginecheck.State, u enginecheck.Update) error {
		// The engine discards read resources (the StackReferences) rather
		// than deleting them; the empty state below proves nothing stays.
		if err := u.OnlyOps("delete", "discard"); err != nil {
			return err
		}
		if n := len(st.Resources); n != 0 {
			return fmt.Errorf("%d resources left after destroy", n)
		}
		c.note("%s: %s; state empty", layer, u)
		return nil
	})
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

// Each ingestion profile's parse+convert is held to 1 M points/s on one core
// (issue 13), as BenchmarkParseProfile/<profile>.
func init() {
	for _, p := range marketdata.Profiles {
		benchTargets["BenchmarkParseProfile/"+p] = 1_000_000
	}
}

// benchFile is where Bench writes every benchmark's figures, by
// "<service> <benchmark>" (tools/internal/cost reads them as such: the
// CPU time per point of each function).
var benchFile = filepath.Join(buildDir, "bench.json")

// benchRuns is how often Bench runs each benchmark; it reports the run of
// median points/s. One run of a benchmark that takes ~100 ms per iteration
// varies by ±20% on a 2-core machine, so a goal read off a single run would
// flip between met and not met.
const benchRuns = 3

// Bench runs the services' benchmarks on one core, each benchRuns times, and prints the run of median points/s as a table, with the throughput goal and whether it was met; it also writes them to build/bench.json for `cost`.
func Bench() error {
	all := map[string]map[string]float64{}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "service\tbenchmark\tpoints/s (median of %d)\tgoal\tmet\tother figures (that run)\n", benchRuns)
	for _, svc := range naming.Services {
		var buf bytes.Buffer
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-cpu", "1", "-count", strconv.Itoa(benchRuns), "./...")
		cmd.Dir, cmd.Stdout, cmd.Stderr = filepath.Join("services", svc), &buf, os.Stderr
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if err := cmd.Run(); err != nil {
			os.Stdout.Write(buf.Bytes())
			return fmt.Errorf("bench %s: %w", svc, err)
		}
		var names []string
		runs := map[string][]map[string]float64{}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			name, metrics, ok := benchLine(sc.Text())
			if !ok {
				continue
			}
			if runs[name] == nil {
				names = append(names, name)
			}
			runs[name] = append(runs[name], metrics)
		}
		for _, name := range names {
			metrics := medianRun(runs[name])
			all[svc+" "+name] = metrics
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
	if err := tw.Flush(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(benchFile, append(b, '\n'), 0o644)
}

// medianRun returns the run of median points/s (the lower middle one of an
// even count), whole, so that its other figures belong to the same run.
func medianRun(runs []map[string]float64) map[string]float64 {
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b map[string]float64) int { return cmp.Compare(a["points/s"], b["points/s"]) })
	return sorted[(len(sorted)-1)/2]
}

// Cost prints dollars per million points and per month, per AWS service, from the last `local` run's measured requests (build/local/requests.json), the last `bench` (build/bench.json), the functions' memory in the synth and us-east-1 list prices, with the floor (one DynamoDB write unit per point) and the ratio to it: `go run mage.go cost [--points-per-day N] [--symbols S]` (with the mage binary: COST_ARGS="--symbols 500" mage cost).
func Cost() error {
	args, err := targetArgs("MAGE_COST_ARGS", "COST_ARGS")
	if err != nil {
		return err
	}
	// The requests file's place is tools/internal/cost's (RequestsFile, under build/).
	args = append([]string{"run", "./tools/cmd/cost", "--bench", benchFile, "--synth-dir", synthDir}, args...)
	return sh.RunV("go", args...)
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

// Preview shows what `pulumi preview` would change in each layer for STACK (default dev), in deploy order; a layer is previewed only once the layers below it are deployed (its stack references read their outputs), and the first that is not says so and stops there. LAYER previews one layer.
func Preview() error {
	mg.Deps(Build)
	if err := requireDeployTools(); err != nil {
		return err
	}
	d := userDeployment()
	cli := deploydiag.CLI{Exe: "pulumi", LayerDir: layerDir}
	deployed := func(l string) (bool, error) {
		info, err := cli.Stack(context.Background(), l, stack())
		return info.Deployed(), err
	}
	layers, blocked, reason, err := deploydiag.Gate(naming.Layers, deployed)
	if err != nil {
		return err
	}
	selected, err := selectedLayers()
	if err != nil {
		return err
	}
	for _, layer := range selected {
		if !slices.Contains(layers, layer) {
			fmt.Printf("\npreview stops at %s: %s\n", blocked, reason)
			return nil
		}
		if err := d.pulumi(layerDir(layer), "preview", "--diff"); err != nil {
			return err
		}
	}
	return nil
}

// Preflight runs the read-only checks of a deployment of STACK (default dev) with your AWS credentials and Pulumi CLI, and prints PASS / WARN / FAIL with the fix for each: account and region, the bucket name, Lambda concurrency and memory, API Gateway's CloudWatch role, the Pulumi login and the layers below LAYER (when set). Deploy runs it first.
func Preflight() error {
	mg.Deps(Build)
	return sh.RunV("go", "run", "./tools/cmd/preflight", "-stack", stack(), "-layer", os.Getenv("LAYER"), "-build-dir", buildDir)
}

// Deploy builds the services, runs preflight and then `pulumi up` for storage, messaging, compute and api, in that order, for STACK (default dev); LAYER deploys one layer. A failed `pulumi up` whose cause is known (SQS's 60 s before a deleted queue's name is free, the 3008 MB memory cap of new accounts) is explained, and the SQS one waited out and retried once.
func Deploy() error {
	mg.Deps(Build)
	if err := requireDeployTools(); err != nil {
		return err
	}
	if err := Preflight(); err != nil {
		return fmt.Errorf("preflight failed, nothing deployed: %w", err)
	}
	layers, err := selectedLayers()
	if err != nil {
		return err
	}
	d := userDeployment()
	for _, layer := range layers {
		if err := d.up(layer); err != nil {
			return err
		}
	}
	fmt.Printf("deployed stack %s; prove it end to end with: STACK=%s go run mage.go smoke\n", stack(), stack())
	return nil
}

// sleep waits out a retryable failure (a test shortens it).
var sleep = time.Sleep

// up runs `pulumi up` for a layer; on failure, deploydiag explains the
// output, and a failure that passes with time (SQS's name reuse) is
// retried once after waiting.
func (d deployment) up(layer string) error {
	for attempt := 1; ; attempt++ {
		var out bytes.Buffer
		tee := d
		tee.stdout = &out
		if d.stdout != nil {
			tee.stdout = io.MultiWriter(d.stdout, &out)
		}
		err := tee.pulumi(layerDir(layer), "up", "--yes")
		if err == nil {
			return nil
		}
		diag := deploydiag.Diagnose(out.String())
		if diag == nil {
			return fmt.Errorf("pulumi up in stacks/%s: %w", layer, err)
		}
		fmt.Printf("\n%s: %s\n", layer, diag.Advice)
		if !diag.Retry || attempt > 1 {
			return fmt.Errorf("pulumi up in stacks/%s failed (%s): %s", layer, diag.Kind, diag.Advice)
		}
		fmt.Printf("waiting %s, then running pulumi up in stacks/%s once more\n", diag.Wait, layer)
		sleep(diag.Wait)
	}
}

// selectedLayers is LAYER alone when set, else every layer in deploy order.
func selectedLayers() ([]string, error) {
	l := os.Getenv("LAYER")
	if l == "" {
		return naming.Layers, nil
	}
	if !slices.Contains(naming.Layers, l) {
		return nil, fmt.Errorf("LAYER=%s: want one of %s", l, strings.Join(naming.Layers, ", "))
	}
	return []string{l}, nil
}

// Destroy runs `pulumi destroy` for api, compute, messaging and storage, in that order, for STACK (default dev).
func Destroy() error {
	if err := requireDeployTools(); err != nil {
		return err
	}
	return userDeployment().destroy()
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

// Chart writes build/charts/SYMBOL.html, an HTML page (inline SVG, nothing external) of the symbol's candlesticks and volume read through the signed API: `go run mage.go chart AAPL [--interval 1h] [--from T] [--to T] [--out F]` against the deployed STACK (default dev), or with `--endpoint URL` against a local pipeline's API (`mage local --serve` prints it); with the mage binary: CHART_ARGS="AAPL --interval 1h" mage chart.
func Chart() error {
	args, err := targetArgs("MAGE_CHART_ARGS", "CHART_ARGS")
	if err != nil {
		return err
	}
	endpoint := false
	for _, a := range args {
		endpoint = endpoint || strings.HasPrefix(strings.TrimLeft(a, "-"), "endpoint")
	}
	if !endpoint {
		if err := requireDeployTools(); err != nil {
			return err
		}
		args = append([]string{"--stack", stack()}, args...)
	}
	return sh.RunV("go", append([]string{"run", "./tools/cmd/chart"}, args...)...)
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

// deployment is where and how the pulumi commands of deploy and destroy
// run: the user's CLI, backend and stack config for `deploy`, a pinned CLI,
// a local backend and a stand-in provider for `check:engine`, which runs
// these same functions.
type deployment struct {
	stack string
	// cli is the pulumi executable ("pulumi": the one on PATH).
	cli string
	// stdout, when set, also receives the commands' output.
	stdout io.Writer
	// env is added to the environment of every pulumi command.
	env map[string]string
	// configDir, when set, holds the stack config files
	// (<configDir>/<project dir>/Pulumi.<stack>.yaml, passed as
	// --config-file) instead of the projects' folders, so a check never
	// writes over a developer's Pulumi.<stack>.yaml.
	configDir string
}

// userDeployment is the user's own: the pulumi on PATH, the backend they
// logged in to, the stack config in each project's folder.
func userDeployment() deployment { return deployment{stack: stack(), cli: "pulumi"} }

func layerDir(layer string) string { return filepath.Join("stacks", layer) }

// deploy runs `pulumi up` for each layer in deploy order.
func (d deployment) deploy() error {
	for _, layer := range naming.Layers {
		if err := d.up(layer); err != nil {
			return err
		}
	}
	return nil
}

// destroy runs `pulumi destroy` for each layer in reverse deploy order.
func (d deployment) destroy() error {
	for i := len(naming.Layers) - 1; i >= 0; i-- {
		if err := d.pulumi(layerDir(naming.Layers[i]), "destroy", "--yes"); err != nil {
			return err
		}
	}
	return nil
}

// pulumi runs a pulumi command in a project's directory, creating the stack
// on first use and pinning its region.
func (d deployment) pulumi(dir string, args ...string) error {
	if d.configDir != "" {
		if err := os.MkdirAll(filepath.Dir(d.configFile(dir)), 0o755); err != nil {
			return err
		}
	}
	if err := d.exec(dir, "stack", "select", "--create", d.stack); err != nil {
		return err
	}
	if err := d.run(dir, "config", "set", "aws:region", naming.Region); err != nil {
		return err
	}
	return d.run(dir, args...)
}

// run runs one pulumi command for the deployment's stack in dir.
func (d deployment) run(dir string, args ...string) error {
	return d.exec(dir, append(args, d.flags(dir, args[0])...)...)
}

// exec runs the CLI with args in dir, its output to stdout and d.stdout.
func (d deployment) exec(dir string, args ...string) error {
	fmt.Printf("[%s] pulumi %s\n", dir, strings.Join(args, " "))
	c := d.command(dir, args...)
	c.Stdout, c.Stderr, c.Stdin = os.Stdout, os.Stderr, os.Stdin
	if d.stdout != nil {
		c.Stdout, c.Stderr = io.MultiWriter(os.Stdout, d.stdout), io.MultiWriter(os.Stderr, d.stdout)
	}
	return c.Run()
}

func (d deployment) command(dir string, args ...string) *exec.Cmd {
	c := exec.Command(d.cli, args...)
	c.Dir = dir
	c.Env = os.Environ()
	for k, v := range d.env {
		c.Env = append(c.Env, k+"="+v)
	}
	return c
}

// output runs one pulumi command for the deployment's stack in dir and
// returns its standard output.
func (d deployment) output(dir string, args ...string) ([]byte, error) {
	c := d.command(dir, append(args, d.flags(dir, args[0])...)...)
	c.Stderr = os.Stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("[%s] pulumi %s: %w", dir, strings.Join(args, " "), err)
	}
	return out, nil
}

// configFileCommands are the pulumi commands that take --config-file (the
// `stack` subcommands do not, and fail on it).
var configFileCommands = map[string]bool{"config": true, "up": true, "preview": true, "destroy": true, "refresh": true, "import": true}

// flags name the stack, and the config file when the deployment has its own
// and the command takes one.
func (d deployment) flags(dir, command string) []string {
	f := []string{"--stack", d.stack}
	if d.configDir != "" && configFileCommands[command] {
		f = append(f, "--config-file", d.configFile(dir))
	}
	return f
}

// configFile is the stack config file of the project in dir under configDir.
func (d deployment) configFile(dir string) string {
	return filepath.Join(d.configDir, filepath.Base(dir), "Pulumi."+d.stack+".yaml")
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

// ---- Operations (issue 11): the dead-letter queue, replay and status. ----
// Each runs tools/cmd/ops against STACK (default dev; the layers' Pulumi
// outputs and AWS credentials) or, with --endpoint and --lambda-endpoint,
// against the local pipeline (`go run mage.go local --serve` prints both).
// Flags follow the target: `go run mage.go dlq:redrive --origin queue --dry-run`
// (with the mage binary: OPS_ARGS="--origin queue --dry-run" mage dlq:redrive).

// Dlq triages and redrives the dead-letter queue.
type Dlq mg.Namespace

// List shows the DLQ's messages grouped by origin, with count, oldest age and the errors AWS attached.
func (Dlq) List() error { return runOps("dlq", "list") }

// Show prints every DLQ message in full.
func (Dlq) Show() error { return runOps("dlq", "show") }

// Redrive sends each DLQ message back where it came from ([--origin O] [--dry-run]); unknown origins stay.
func (Dlq) Redrive() error { return runOps("dlq", "redrive") }

// Replay re-ingests the S3 objects under --prefix P (one ObjectCreated event per version), skipping completed ones unless --force.
func Replay() error { return runOps("replay") }

// Status prints queue depths, the DLQ by origin, alarm states, the latest ingestion reports and the last window per symbol.
func Status() error { return runOps("status") }

func runOps(cmd ...string) error {
	args := append([]string{"run", "./cmd/ops"}, cmd...)
	if raw := os.Getenv("MAGE_OPS_ARGS"); raw != "" {
		var extra []string
		if err := json.Unmarshal([]byte(raw), &extra); err != nil {
			return err
		}
		args = append(args, extra...)
	} else if raw := os.Getenv("OPS_ARGS"); raw != "" {
		args = append(args, strings.Fields(raw)...)
	}
	return runIn("tools", map[string]string{"STACK": stack()}, "go", args...)
}
