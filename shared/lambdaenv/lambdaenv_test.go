package lambdaenv

import (
	"slices"
	"testing"
)

// Every service list names known variables, each once, and starts with the
// table every function reads.
func TestServiceLists(t *testing.T) {
	lists := map[string][]string{"ingestion": Ingestion, "processor": Processor, "aggregator": Aggregator}
	used := map[string]bool{}
	for svc, list := range lists {
		if len(list) == 0 || !slices.Contains(list, TableName) {
			t.Errorf("%s: %v lacks %s", svc, list, TableName)
		}
		seen := map[string]bool{}
		for _, name := range list {
			if !slices.Contains(Names, name) {
				t.Errorf("%s: %s is not one of Names %v", svc, name, Names)
			}
			if seen[name] {
				t.Errorf("%s: %s listed twice", svc, name)
			}
			seen[name], used[name] = true, true
		}
	}
	// A variable no service reads is not set either.
	for _, name := range Names {
		if !used[name] {
			t.Errorf("%s is in no service's list", name)
		}
	}
}
