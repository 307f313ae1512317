package main

import (
	"fmt"
	"sort"

	"github.com/marketanalytics/pipeline/tools/internal/cost"
	"github.com/marketanalytics/pipeline/tools/internal/pipeline"
)

// saveMeasured writes what the run measured (requests and billed units per
// caller and operation, points, windows) for `go run mage.go cost`.
func saveMeasured(p *pipeline.Pipeline, o options, res *loadResult) error {
	m := cost.Measured{Points: res.expected, APIRequests: int64(res.apiRequests)}
	for _, ws := range res.windows {
		if len(ws) > 0 {
			m.Windows += int64(len(ws))
			m.Symbols++
		}
	}
	units := p.Proxy.Units()
	for k, n := range p.Proxy.Counts() {
		m.Requests = append(m.Requests, cost.Request{Caller: k.Caller, Service: k.Service, Operation: k.Operation, Requests: n, Units: units[k]})
	}
	sort.Slice(m.Requests, func(i, j int) bool {
		a, b := m.Requests[i], m.Requests[j]
		return a.Caller+" "+a.Service+" "+a.Operation < b.Caller+" "+b.Service+" "+b.Operation
	})
	path := cost.RequestsFile(o.buildDir)
	if err := cost.Save(path, m); err != nil {
		return err
	}
	fmt.Printf("\nmeasurements for `go run mage.go cost`: %s\n", path)
	return nil
}
