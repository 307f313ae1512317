// Command cost prints what the pipeline costs on AWS per million points and
// per month, per service, for a workload: the requests and billed units the
// last local run measured (`go run mage.go local` writes them), the
// benchmarks' CPU time per point (`go run mage.go bench` writes them), the
// functions' configured memory (the synth) and us-east-1 list prices
// (tools/internal/cost). It ends with the floor (one DynamoDB write unit per
// point) and the ratio to it.
//
//	go run ./tools/cmd/cost [--points-per-day N] [--symbols S] [--requests FILE] [--bench FILE] [--synth-dir DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/tools/internal/cli"
	"github.com/marketanalytics/pipeline/tools/internal/cost"
	"github.com/marketanalytics/pipeline/tools/internal/synthread"
)

func main() {
	var (
		w                         cost.Workload
		requests, bench, synthDir string
	)
	flag.Float64Var(&w.PointsPerDay, "points-per-day", 10_000_000, "points stored a day")
	flag.IntVar(&w.Symbols, "symbols", 100, "symbols they are spread over (each aggregated in up to 288 windows a day)")
	flag.StringVar(&requests, "requests", cost.RequestsFile("build"), "the local run's measurements (go run mage.go local)")
	flag.StringVar(&bench, "bench", "build/bench.json", "the benchmarks' results (go run mage.go bench)")
	flag.StringVar(&synthDir, "synth-dir", "build/synth", "the synth output, for the functions' memory (go run mage.go synth)")
	cli.Main("cost", func(context.Context) error { return run(w, requests, bench, synthDir) })
}

func run(w cost.Workload, requestsFile, benchFile, synthDir string) error {
	var m cost.Measured
	if err := cost.Load(requestsFile, "go run mage.go local", &m); err != nil {
		return err
	}
	var benches map[string]cost.Bench
	if err := cost.Load(benchFile, "go run mage.go bench", &benches); err != nil {
		return err
	}
	mem, err := memory(synthDir)
	if err != nil {
		return err
	}
	cpu := map[string]float64{}
	for _, svc := range naming.Services {
		if cpu[svc], err = cost.CPUSecondsPerPoint(benches, svc); err != nil {
			return err
		}
	}
	md, err := cost.Build(m, cpu, mem, w)
	if err != nil {
		return err
	}
	fmt.Printf("measured: %d points, %d windows over %d symbols (%s); CPU per point from %s; memory from %s\n",
		m.Points, m.Windows, m.Symbols, requestsFile, benchFile, synthDir)
	return md.Print(os.Stdout)
}

// functionOutputs are the compute layer's outputs naming each service's
// function.
var functionOutputs = map[string]string{
	"ingestion": outputs.IngestionFunctionName, "processor": outputs.ProcessorFunctionName, "aggregator": outputs.AggregatorFunctionName,
}

// memory reads each function's configured memory (MB) from the synth: the
// memorySize of the function the compute layer's outputs name.
func memory(synthDir string) (map[string]int, error) {
	plan, err := synthread.Load(synthDir)
	if err != nil {
		return nil, fmt.Errorf("%w (run `go run mage.go synth`)", err)
	}
	byName := map[string]int{}
	for _, r := range plan.OfType("aws:lambda/function:Function") {
		byName[r.Str("name")] = r.Int("memorySize", 0)
	}
	mem := map[string]int{}
	for _, svc := range naming.Services {
		key, ok := functionOutputs[svc]
		if !ok {
			return nil, fmt.Errorf("no compute output names the %s function", svc)
		}
		fn, ok := plan.Output("compute", key)
		if !ok {
			return nil, fmt.Errorf("the synth in %s has no compute output %s", synthDir, key)
		}
		if mem[svc] = byName[fn]; mem[svc] <= 0 {
			return nil, fmt.Errorf("the synth in %s has no memorySize for function %s", synthDir, fn)
		}
	}
	return mem, nil
}
