package stacktest

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// decodePolicy decodes one IAM policy document strictly: a field that
// common.Policy does not model (Id, NotPrincipal, a misspelt key) or
// anything after the document is an error, so no part of a policy escapes
// the assertions.
func decodePolicy(doc string) (common.Policy, error) {
	var p common.Policy
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return common.Policy{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return common.Policy{}, errors.New("data after the policy document")
	}
	return p, nil
}

// PolicyInput decodes the policy document held by the input at path (such
// as "policy" or "assumeRolePolicy") and asserts its version.
func PolicyInput(t testing.TB, r synthrec.Resource, path string) common.Policy {
	t.Helper()
	v, ok := Input(r, path)
	if !ok {
		t.Fatalf("%s %s: no %s", r.Type, r.Name, path)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s %s: %s is %T, want a JSON string", r.Type, r.Name, path, v)
	}
	p, err := decodePolicy(s)
	if err != nil {
		t.Fatalf("%s %s: policy %q: %v", r.Type, r.Name, s, err)
	}
	if p.Version != common.PolicyVersion {
		t.Errorf("%s %s: policy version %q", r.Type, r.Name, p.Version)
	}
	return p
}

// AssertPolicy decodes doc and compares it, statement by statement, with
// want. The version must be want.Version, or common.PolicyVersion when want
// leaves it empty.
func AssertPolicy(t testing.TB, what, doc string, want common.Policy) {
	t.Helper()
	got, err := decodePolicy(doc)
	if err != nil {
		t.Fatalf("%s is not a policy document: %v\n%s", what, err, doc)
	}
	// Round-trip the expectation so that both sides hold JSON types.
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	wantVersion := want.Version
	if wantVersion == "" {
		wantVersion = common.PolicyVersion
	}
	want = common.Policy{}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("bad expectation for %s: %v", what, err)
	}
	if got.Version != wantVersion {
		t.Errorf("%s Version = %q, want %q", what, got.Version, wantVersion)
	}
	if len(got.Statement) != len(want.Statement) {
		t.Errorf("%s has %d statements, want %d:\n%s", what, len(got.Statement), len(want.Statement), doc)
	}
	for i := range want.Statement {
		if i >= len(got.Statement) {
			break
		}
		if !reflect.DeepEqual(got.Statement[i], want.Statement[i]) {
			g, _ := json.Marshal(got.Statement[i])
			w, _ := json.Marshal(want.Statement[i])
			t.Errorf("%s statement %d:\n got %s\nwant %s", what, i, g, w)
		}
	}
}
