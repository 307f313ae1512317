package synthfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestWriteThenReadGivesTheStackBack(t *testing.T) {
	dir := t.TempDir()
	want := Stack{Project: "p", Stack: "dev", Outputs: map[string]any{"bucketName": "b"}, Resources: []Resource{{
		URN: "urn:a", Type: "aws:sqs/queue:Queue", Name: "q", Dependencies: []string{"urn:b"},
		Inputs: map[string]any{"name": "Q", "maxMessageSize": 262144.0}, Outputs: map[string]any{"arn": "arn:q"}, ID: "id",
	}}}
	path, err := Write(dir, "messaging", want)
	if err != nil {
		t.Fatal(err)
	}
	if path != Path(dir, "messaging") {
		t.Errorf("wrote %s, want %s", path, Path(dir, "messaging"))
	}
	got, err := Read(dir, "messaging")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read %+v, want %+v", *got, want)
	}
}

func TestReadMissingLayerSaysHowToMakeIt(t *testing.T) {
	_, err := Read(t.TempDir(), "storage")
	if err == nil || !strings.Contains(err.Error(), "mage.go synth") {
		t.Fatalf("error %v, want a hint to run the synth", err)
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name, doc, errHas string
	}{
		{"resource without type", `{"resources":[{"urn":"u"}]}`, "no type or urn"},
		{"resource without urn", `{"resources":[{"type":"t"}]}`, "no type or urn"},
		{"malformed JSON", `{`, "decode synth"},
		{"empty inputs are filled", `{"resources":[{"urn":"u","type":"t"}]}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.doc))
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := s.Resources[0]; r.Inputs == nil || r.Outputs == nil {
				t.Errorf("resource %+v has nil inputs or outputs", r)
			}
		})
	}
}
