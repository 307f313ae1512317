package envconfig

import (
	"slices"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/shared/lambdaenv"
)

// Load reads exactly the names of a service's list, each once, and gives
// back their values.
func TestLoadReadsExactlyTheList(t *testing.T) {
	for _, list := range [][]string{lambdaenv.Ingestion, lambdaenv.Processor, lambdaenv.Aggregator} {
		var read []string
		env, err := Load(list, func(name string) string { read = append(read, name); return "value of " + name })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(read, list) {
			t.Errorf("read %v, want exactly %v", read, list)
		}
		for _, name := range list {
			if got := env.Get(name); got != "value of "+name {
				t.Errorf("Get(%s) = %q", name, got)
			}
		}
	}
}

func TestLoadFailsNamingEveryMissingVariable(t *testing.T) {
	names := []string{"A", "B", "C"}
	tests := []struct {
		name    string
		set     map[string]string
		missing []string
	}{
		{"all set", map[string]string{"A": "1", "B": "2", "C": "3"}, nil},
		{"one unset", map[string]string{"A": "1", "C": "3"}, []string{"B"}},
		{"empty counts as unset", map[string]string{"A": "", "B": "2", "C": "3"}, []string{"A"}},
		{"none set", nil, []string{"A", "B", "C"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(names, func(k string) string { return tc.set[k] })
			if len(tc.missing) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, n := range names {
				if want := slices.Contains(tc.missing, n); strings.Contains(err.Error(), n) != want {
					t.Errorf("error %q: names %s = %v, want %v", err, n, !want, want)
				}
			}
		})
	}
}

// Asking for a variable the list does not hold is a programming error, not
// an empty value.
func TestGetOutsideTheListPanics(t *testing.T) {
	env, err := Load([]string{"A"}, func(string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "B") {
			t.Errorf("recovered %v, want a panic naming B", r)
		}
	}()
	env.Get("B")
}
