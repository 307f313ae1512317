package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The ingest model is a valid draft-04 schema (checked against the draft-04
// meta-schema) that accepts exactly the two body shapes and leaves the
// points' fields to the ingestion function.
func TestIngestModelChecksStructureOnly(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("ingest.json", strings.NewReader(ingestRequestSchema)); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("ingest.json")
	if err != nil {
		t.Fatalf("model is not a valid draft-04 schema: %v", err)
	}
	tests := []struct {
		name, body string
		valid      bool
	}{
		{"points object", `{"points":[{"symbol":"AAPL","timestamp":1767225600000,"price":189.5,"volume":100}]}`, true},
		{"bare array", `[{"symbol":"AAPL","timestamp":"2026-01-01T00:00:00Z","price":189.5,"volume":100}]`, true},
		{"empty points", `{"points":[]}`, true},
		{"empty array", `[]`, true},
		{"extra top-level field", `{"points":[{}],"source":"feed-1"}`, true},
		// Per-field problems reach the function, which reports them per record.
		{"bad fields", `{"points":[{"symbol":"aapl!","price":-1,"volume":1.5},{"price":"NaN"}]}`, true},
		{"missing fields", `[{}]`, true},
		{"alpaca trades by symbol", `{"trades":{"AAPL":[{"t":"2026-01-01T00:00:00Z","p":189.5,"s":100}]},"next_page_token":null}`, true},
		{"no points", `{}`, false},
		{"trades not a collection", `{"trades":"AAPL"}`, false},
		{"points not an array", `{"points":{"symbol":"AAPL"}}`, false},
		{"points of numbers", `{"points":[1,2,3]}`, false},
		{"array of strings", `["AAPL,1,2,3"]`, false},
		{"mixed array", `[{"symbol":"AAPL"},"x"]`, false},
		{"string", `"points"`, false},
		{"number", `42`, false},
		{"null", `null`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v interface{}
			if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
				t.Fatal(err)
			}
			err := schema.Validate(v)
			if tc.valid && err != nil {
				t.Errorf("body %s rejected: %v", tc.body, err)
			}
			if !tc.valid && err == nil {
				t.Errorf("body %s accepted", tc.body)
			}
		})
	}
}
