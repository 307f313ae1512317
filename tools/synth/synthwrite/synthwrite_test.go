package synthwrite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/shared/outputs"
	"github.com/marketanalytics/pipeline/shared/synthfile"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// fakeBuild makes the function packages the compute layer checks for.
func fakeBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, svc := range naming.Services {
		p := naming.ArtifactZip(dir, svc)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("zip"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func synth(t *testing.T, opts Options) ([]*synthrec.Result, map[string][]byte) {
	t.Helper()
	results, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	files, err := Write(out, results)
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		contents[filepath.Base(f)] = b
	}
	return results, contents
}

// The synth is the reviewable plan: the same inputs must give the same bytes.
func TestSynthIsDeterministic(t *testing.T) {
	build := fakeBuild(t)
	_, first := synth(t, Options{Stack: "dev", BuildDir: build})
	for i := 0; i < 3; i++ {
		_, again := synth(t, Options{Stack: "dev", BuildDir: build})
		for name, b := range first {
			if !bytes.Equal(b, again[name]) {
				t.Fatalf("run %d: %s differs from the first run", i+2, name)
			}
		}
	}
}

// Each layer's file has the documented shape, and the layers fit together:
// every StackReference a layer makes names the stack the layer below wrote,
// and the api layer exports the spec's three outputs.
func TestSynthWiresTheLayersTogether(t *testing.T) {
	results, files := synth(t, Options{Stack: "Prod-EU", BuildDir: fakeBuild(t)})
	if len(results) != 4 {
		t.Fatalf("%d layers, want 4", len(results))
	}
	for i, l := range Layers {
		var doc struct {
			Project   string                   `json:"project"`
			Stack     string                   `json:"stack"`
			Resources []map[string]interface{} `json:"resources"`
			Outputs   map[string]interface{}   `json:"outputs"`
		}
		if err := json.Unmarshal(files[l.Name+".json"], &doc); err != nil {
			t.Fatalf("%s.json: %v", l.Name, err)
		}
		if doc.Project != l.Project || doc.Stack != "Prod-EU" || len(doc.Resources) == 0 || len(doc.Outputs) == 0 {
			t.Fatalf("%s.json: project %q stack %q, %d resources, %d outputs", l.Name, doc.Project, doc.Stack,
				len(doc.Resources), len(doc.Outputs))
		}
		for _, r := range doc.Resources {
			for _, k := range []string{"urn", "type", "name", "dependencies", "inputs", "outputs"} {
				if _, ok := r[k]; !ok {
					t.Fatalf("%s.json: resource %v lacks %q", l.Name, r["urn"], k)
				}
			}
		}
		for _, ref := range results[i].OfType("pulumi:pulumi:StackReference") {
			found := false
			for _, lower := range Layers[:i] {
				if ref.Inputs["name"] == Organization+"/"+lower.Project+"/Prod-EU" {
					found = true
				}
			}
			if !found {
				t.Errorf("%s references %v, which no lower layer wrote", l.Name, ref.Inputs["name"])
			}
		}
	}
	api := results[3].Outputs
	names := naming.MustNew("Prod-EU")
	want := map[string]interface{}{
		outputs.BucketName: names.Bucket(),
		outputs.TableArn:   "arn:aws:dynamodb:us-east-1:123456789012:table/" + names.Table(),
	}
	for k, v := range want {
		if api[k] != v {
			t.Errorf("api output %s = %v, want %v", k, api[k], v)
		}
	}
	if u, _ := api[outputs.IngestURL].(string); !bytes.HasPrefix([]byte(u), []byte("https://")) ||
		!bytes.HasSuffix([]byte(u), []byte(".execute-api.us-east-1.amazonaws.com/prod/ingest")) {
		t.Errorf("api output %s = %q", outputs.IngestURL, u)
	}
}

// Paths under Root are written relative to it, so the plan does not depend
// on where the repository was cloned.
func TestSynthPathsAreRelativeToRoot(t *testing.T) {
	build := fakeBuild(t)
	results, _ := synth(t, Options{Stack: "dev", BuildDir: build, Root: filepath.Dir(build)})
	fns := results[2].OfType("aws:lambda/function:Function")
	if len(fns) != 3 {
		t.Fatalf("%d functions", len(fns))
	}
	for _, fn := range fns {
		code, _ := fn.Inputs["code"].(map[string]interface{})
		want := filepath.ToSlash(filepath.Join(filepath.Base(build), "ingestion", "bootstrap.zip"))
		got, _ := code["archive"].(string)
		if filepath.IsAbs(got) || filepath.Base(got) != "bootstrap.zip" || !bytes.HasPrefix([]byte(got), []byte(filepath.Base(build)+"/")) {
			t.Errorf("%s code archive = %q, want a path relative to the root like %q", fn.Name, got, want)
		}
	}
}

// Without the function packages the compute layer fails with a clear error.
func TestSynthWithoutBuildFails(t *testing.T) {
	_, err := Run(Options{Stack: "dev", BuildDir: t.TempDir()})
	if err == nil {
		t.Fatal("synth without function packages succeeded")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("mage.go build")) {
		t.Errorf("error %q does not tell how to build", err)
	}
}

// The file carries every field the recorder records, under the same JSON
// name: a field added to the recording must not be dropped from the synth.
func TestFileKeepsEveryRecordedField(t *testing.T) {
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeOf(synthrec.Resource{}), reflect.TypeOf(synthfile.Resource{})},
		{reflect.TypeOf(synthrec.Result{}), reflect.TypeOf(synthfile.Stack{})},
	} {
		rec, file := pair[0], pair[1]
		for i := range rec.NumField() {
			f := rec.Field(i)
			g, ok := file.FieldByName(f.Name)
			if !ok || g.Tag.Get("json") != f.Tag.Get("json") {
				t.Errorf("%s.%s (json %q) is not in %s with the same JSON name", rec, f.Name, f.Tag.Get("json"), file)
			}
		}
	}
	res := &synthrec.Result{Project: "p", Stack: "s", Outputs: map[string]interface{}{"o": "v"}, Resources: []synthrec.Resource{{
		URN: "u", Type: "t", Name: "n", Parent: "pa", Dependencies: []string{"d"}, Inputs: map[string]interface{}{"i": 1.0},
		Outputs: map[string]interface{}{"x": "y"}, ID: "id", Protect: true, RetainOnDelete: true,
	}}}
	want, _ := json.Marshal(res)
	got, _ := json.Marshal(File(res))
	if !bytes.Equal(got, want) {
		t.Errorf("File encodes as\n%s\nthe recording as\n%s", got, want)
	}
}
