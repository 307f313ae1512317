package stacktest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Input returns a resource's input by dotted path ("tracingConfig.mode").
func Input(r synthrec.Resource, path string) (interface{}, bool) {
	var cur interface{} = r.Inputs
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Normalize turns Go values into what the recording holds (JSON data).
func Normalize(t testing.TB, v interface{}) interface{} {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// WantInput asserts the exact value of the input at path; want is any Go
// value, compared as JSON data.
func WantInput(t testing.TB, r synthrec.Resource, path string, want interface{}) {
	t.Helper()
	got, ok := Input(r, path)
	if !ok {
		t.Errorf("%s %s: input %s is missing", r.Type, r.Name, path)
		return
	}
	if w := Normalize(t, want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s %s: %s = %#v, want %#v", r.Type, r.Name, path, got, w)
	}
}

// WantNoInput asserts that the input at path is absent (or null).
func WantNoInput(t testing.TB, r synthrec.Resource, path string) {
	t.Helper()
	if got, ok := Input(r, path); ok && got != nil {
		t.Errorf("%s %s: input %s = %#v, want none", r.Type, r.Name, path, got)
	}
}

// AssertJSON compares got (decoded JSON data) with want (JSON text) exactly:
// a property that is missing, extra or different fails.
func AssertJSON(t testing.TB, what string, got interface{}, want string) {
	t.Helper()
	var w interface{}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		e, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, e)
	}
}

// AssertInputs compares all of a resource's inputs with want (JSON text).
func AssertInputs(t testing.TB, r synthrec.Resource, want string) {
	t.Helper()
	AssertJSON(t, r.Type+" "+r.Name+" inputs", r.Inputs, want)
}

// JSONInput decodes a resource input that holds a JSON document.
func JSONInput(t testing.TB, r synthrec.Resource, key string) interface{} {
	t.Helper()
	s, ok := r.Inputs[key].(string)
	if !ok {
		t.Fatalf("%s %s: input %s is %T, want a JSON string", r.Type, r.Name, key, r.Inputs[key])
	}
	var v interface{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s %s: input %s is not JSON: %v\n%s", r.Type, r.Name, key, err, s)
	}
	return v
}

// WantDependsOn asserts that a lists b among its dependencies.
func WantDependsOn(t testing.TB, a, b synthrec.Resource) {
	t.Helper()
	if !a.DependsOn(b) {
		t.Errorf("%s %s does not depend on %s %s (dependencies %v)", a.Type, a.Name, b.Type, b.Name, a.Dependencies)
	}
}
