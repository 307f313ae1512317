package enginecheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const export = `{"version": 3, "deployment": {"resources": [
 {"urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", "type": "pulumi:pulumi:Stack"},
 {"urn": "urn:pulumi:dev::p::pulumi:providers:aws::default_6_83_4", "type": "pulumi:providers:aws", "id": "x", "inputs": {"region": "us-east-1"}},
 {"urn": "urn:pulumi:dev::p::aws:lambda/function:Function::a", "type": "aws:lambda/function:Function", "id": "A", "inputs": {"memorySize": 3072, "name": "A"}},
 {"urn": "urn:pulumi:dev::p::aws:lambda/function:Function::b", "type": "aws:lambda/function:Function", "id": "B", "inputs": {"memorySize": 3072, "name": "B"}},
 {"urn": "urn:pulumi:dev::p::aws:iam/role:Role::r", "type": "aws:iam/role:Role", "id": "R", "inputs": {"name": "R"}}
]}}`

func state(t *testing.T, edit func(string) string) State {
	t.Helper()
	s, err := ParseExport([]byte(edit(export)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func same(s string) string { return s }

func TestParseExportManagedAndCount(t *testing.T) {
	s := state(t, same)
	if len(s.Resources) != 5 || len(s.Managed()) != 3 {
		t.Fatalf("resources %d, managed %d", len(s.Resources), len(s.Managed()))
	}
	want := []string{"1 × aws:iam/role:Role", "2 × aws:lambda/function:Function"} // sorted by type
	if got := s.CountByType(); !reflect.DeepEqual(got, want) {
		t.Errorf("CountByType = %v", got)
	}
	if _, err := ParseExport([]byte(`{"resources": []}`)); err == nil {
		t.Error("a document without a deployment version parsed")
	}
	if empty := state(t, func(string) string { return `{"version": 3, "deployment": {}}` }); len(empty.Managed()) != 0 {
		t.Error("empty deployment has resources")
	}
}

func TestChanged(t *testing.T) {
	tests := []struct {
		name                 string
		edit                 func(string) string
		added, removed, keys []string
		changed              []string
	}{
		{"identical", same, nil, nil, nil, nil},
		{"memory of one function", func(s string) string {
			return strings.Replace(s, `"memorySize": 3072, "name": "A"`, `"memorySize": 3008, "name": "A"`, 1)
		}, nil, nil, []string{"memorySize"}, []string{"urn:pulumi:dev::p::aws:lambda/function:Function::a"}},
		{"id only", func(s string) string { return strings.Replace(s, `"id": "R"`, `"id": "R2"`, 1) },
			nil, nil, []string{"<id>"}, []string{"urn:pulumi:dev::p::aws:iam/role:Role::r"}},
		{"role renamed by URN", func(s string) string { return strings.Replace(s, "Role::r", "Role::r2", 1) },
			[]string{"urn:pulumi:dev::p::aws:iam/role:Role::r2"}, []string{"urn:pulumi:dev::p::aws:iam/role:Role::r"}, nil, nil},
	}
	before := state(t, same)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed, changed := Changed(before, state(t, tt.edit))
			if !reflect.DeepEqual(added, tt.added) || !reflect.DeepEqual(removed, tt.removed) {
				t.Errorf("added %v removed %v", added, removed)
			}
			var urns []string
			for _, c := range changed {
				urns = append(urns, c.URN)
				if !reflect.DeepEqual(c.Keys, tt.keys) {
					t.Errorf("%s keys %v, want %v", c.URN, c.Keys, tt.keys)
				}
			}
			if !reflect.DeepEqual(urns, tt.changed) {
				t.Errorf("changed %v, want %v", urns, tt.changed)
			}
		})
	}
}

func TestLastUpdateAndOnlyOps(t *testing.T) {
	u, err := LastUpdate([]byte(`[{"kind": "update", "result": "succeeded", "resourceChanges": {"same": 4, "update": 3}},
		{"kind": "update", "result": "succeeded", "resourceChanges": {"create": 7}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if u.String() != "same 4, update 3" {
		t.Errorf("String = %q", u.String())
	}
	if err := u.OnlyOps("same", "update"); err != nil {
		t.Error(err)
	}
	if err := u.OnlyOps("same"); err == nil || !strings.Contains(err.Error(), "3 resources update") {
		t.Errorf("OnlyOps(same) = %v", err)
	}
	failed := Update{Kind: "update", Result: "failed", ResourceChanges: map[string]int{"same": 1}}
	if err := failed.OnlyOps("same"); err == nil {
		t.Error("a failed update passed")
	}
	if _, err := LastUpdate([]byte(`[]`)); err == nil {
		t.Error("empty history gave an update")
	}
}

func TestDiffOutputs(t *testing.T) {
	want := map[string]interface{}{"a": "1", "b": "2"}
	if d := DiffOutputs(want, map[string]interface{}{"a": "1", "b": "2"}); d != nil {
		t.Errorf("equal outputs differ: %v", d)
	}
	d := DiffOutputs(want, map[string]interface{}{"a": "x", "c": "3"})
	if len(d) != 3 || !strings.HasPrefix(d[0], "a: x") || !strings.HasPrefix(d[1], "b: missing") || !strings.HasPrefix(d[2], "c: unexpected") {
		t.Errorf("DiffOutputs = %v", d)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBreakStackReference(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "api", "a_test.go"), `x := compute.String(outputs.TestOnly)`)
	write(t, filepath.Join(dir, "api", "api.go"), "fn := compute.String(outputs.IngestionFunctionName)\narn := compute.String(outputs.IngestionInvokeArn)\n")
	key, err := BreakStackReference(dir)
	if err != nil || key != "IngestionFunctionName" {
		t.Fatalf("key %q err %v", key, err)
	}
	want := "fn := compute.String(outputs.IngestionFunctionName + \"Typo\")\narn := compute.String(outputs.IngestionInvokeArn)\n"
	if got := read(t, filepath.Join(dir, "api", "api.go")); got != want {
		t.Errorf("rewritten:\n%s", got)
	}
	if _, err := BreakStackReference(t.TempDir()); err == nil {
		t.Error("a layer without StackReference reads was broken")
	}
}

func TestMistypeConfigDefaultAndRename(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Pulumi.yaml")
	write(t, p, "name: market-data-compute\nconfig:\n  buildDir:\n    type: string\n    default: ../../build\n  memorySize:\n    type: integer\n    default: 3072\n    description: >-\n      MB\n")
	key, err := MistypeConfigDefault(p)
	if err != nil || key != "memorySize" {
		t.Fatalf("key %q, err %v", key, err)
	}
	if got := read(t, p); !strings.Contains(got, "    type: integer\n    default: \"3072 MB\"\n    description") {
		t.Errorf("mistyped:\n%s", got)
	}
	if _, err := MistypeConfigDefault(p); err == nil {
		t.Error("a file without integer defaults was changed")
	}
	name, err := RenameProject(p, "-broken")
	if err != nil || name != "market-data-compute-broken" || !strings.HasPrefix(read(t, p), "name: market-data-compute-broken\n") {
		t.Errorf("rename: %q %v", name, err)
	}
}

func TestSynthIDsAndCompareIDs(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "compute.json"), `{"resources": [
		{"urn": "urn:pulumi:dev::p::aws:lambda/function:Function::a", "type": "aws:lambda/function:Function", "id": "A"},
		{"urn": "urn:pulumi:dev::p::aws:lambda/function:Function::b", "type": "aws:lambda/function:Function", "id": "B"},
		{"urn": "urn:pulumi:dev::p::aws:iam/role:Role::r", "type": "aws:iam/role:Role", "id": "R"}]}`)
	ids, err := SynthIDs(dir, "compute")
	if err != nil {
		t.Fatal(err)
	}
	if d := CompareIDs(ids, state(t, same)); d != nil {
		t.Errorf("matching state differs: %v", d)
	}
	moved := state(t, func(s string) string {
		return strings.Replace(strings.Replace(s, `"id": "B"`, `"id": "B2"`, 1), "Role::r", "Role::r2", 1)
	})
	d := CompareIDs(ids, moved)
	want := []string{
		"not deployed: urn:pulumi:dev::p::aws:iam/role:Role::r",
		"not in the synth: urn:pulumi:dev::p::aws:iam/role:Role::r2",
		`urn:pulumi:dev::p::aws:lambda/function:Function::b: id "B2", synth "B"`,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("CompareIDs = %q", d)
	}
	if _, err := SynthIDs(dir, "api"); err == nil {
		t.Error("a missing synth file read")
	}
	if r, ok := moved.Get("urn:pulumi:dev::p::aws:lambda/function:Function::b"); !ok || r.ID != "B2" {
		t.Errorf("Get = %v %v", r, ok)
	}
}
