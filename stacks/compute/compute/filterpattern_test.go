package compute

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A minimal implementation of CloudWatch Logs filter patterns for
// unstructured log events, as documented ("Filter pattern syntax for metric
// filters, subscription filters, and filter log events"):
//   - a term matches an event whose message contains it (case-sensitive);
//   - space-separated terms must all match (AND);
//   - ?term: the event matches if any of the ?-terms matches (OR);
//   - -term: the term must not occur;
//   - a term holding anything but letters, digits and underscores must be
//     enclosed in double quotes.
// Mixing ?-terms with other terms is not modelled: this validator rejects it.

type filterTerm struct {
	text   string
	prefix byte // 0, '?' or '-'
}

type filterPattern struct {
	terms []filterTerm
	or    bool
}

func parseFilterPattern(p string) (filterPattern, error) {
	var fp filterPattern
	rest := strings.TrimSpace(p)
	if rest == "" {
		return fp, errors.New("empty pattern matches every event")
	}
	var ors, others int
	for rest != "" {
		var term filterTerm
		if rest[0] == '?' || rest[0] == '-' {
			term.prefix, rest = rest[0], rest[1:]
		}
		switch {
		case rest == "" || rest[0] == ' ':
			return fp, fmt.Errorf("operator %q without a term", term.prefix)
		case rest[0] == '"':
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return fp, fmt.Errorf("unterminated quoted term in %q", p)
			}
			term.text, rest = rest[1:end+1], rest[end+2:]
			if term.text == "" {
				return fp, errors.New("empty quoted term")
			}
		default:
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			term.text, rest = rest[:end], rest[end:]
			for _, r := range term.text {
				if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return fp, fmt.Errorf("term %q has %q: non-alphanumeric terms must be quoted", term.text, r)
				}
			}
		}
		if rest != "" && rest[0] != ' ' {
			return fp, fmt.Errorf("terms must be separated by spaces near %q", rest)
		}
		rest = strings.TrimLeft(rest, " ")
		if term.prefix == '?' {
			ors++
		} else {
			others++
		}
		fp.terms = append(fp.terms, term)
	}
	if ors > 0 && others > 0 {
		return fp, errors.New("mixing ?-terms with other terms is not supported")
	}
	fp.or = ors > 0
	return fp, nil
}

func (fp filterPattern) matches(message string) bool {
	if fp.or {
		for _, t := range fp.terms {
			if strings.Contains(message, t.text) {
				return true
			}
		}
		return false
	}
	for _, t := range fp.terms {
		if strings.Contains(message, t.text) == (t.prefix == '-') {
			return false
		}
	}
	return true
}

func TestErrorFilterPatternIsValidAndMatchesErrors(t *testing.T) {
	if ErrorFilterPattern != "?ERROR ?Exception" {
		t.Fatalf("pattern = %q, want exactly %q", ErrorFilterPattern, "?ERROR ?Exception")
	}
	fp, err := parseFilterPattern(ErrorFilterPattern)
	if err != nil {
		t.Fatalf("pattern %q is not valid: %v", ErrorFilterPattern, err)
	}
	if !fp.or || len(fp.terms) != 2 {
		t.Fatalf("pattern parsed as %+v, want an OR of two terms", fp)
	}
	tests := []struct {
		line string
		want bool
	}{
		{`{"time":"2026-01-02T15:04:05Z","level":"ERROR","msg":"batch write failed","table":"MarketDataState-dev"}`, true},
		{`{"time":"2026-01-02T15:04:05Z","level":"INFO","msg":"stored 25 points"}`, false},
		{`{"time":"2026-01-02T15:04:05Z","level":"WARN","msg":"retrying unprocessed items"}`, false},
		{`ResourceNotFoundException: Requested resource not found`, true},
		{`operation error DynamoDB: BatchWriteItem, ProvisionedThroughputExceededException`, true},
		{`an error occurred`, false}, // terms are case-sensitive
		{`ERROR`, true},
		{``, false},
		{`{"type":"platform.report","record":{"metrics":{"durationMs":12.5}}}`, false},
	}
	for _, tc := range tests {
		if got := fp.matches(tc.line); got != tc.want {
			t.Errorf("matches(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// The validator itself must reject what CloudWatch rejects or we do not model.
func TestFilterPatternValidator(t *testing.T) {
	valid := []string{"ERROR", "?ERROR ?Exception", `?"Task timed out" ?ERROR`, "ERROR -DEBUG", "a_b"}
	invalid := []string{"", "   ", "?", "?ERROR ?", "?ERR:OR", `?"unterminated`, `""`, "?ERROR -DEBUG", `"a"b`}
	for _, p := range valid {
		if _, err := parseFilterPattern(p); err != nil {
			t.Errorf("parse(%q) = %v, want valid", p, err)
		}
	}
	for _, p := range invalid {
		if _, err := parseFilterPattern(p); err == nil {
			t.Errorf("parse(%q) succeeded, want an error", p)
		}
	}
	and, _ := parseFilterPattern("ERROR -DEBUG")
	if !and.matches("ERROR boom") || and.matches("ERROR DEBUG") || and.matches("boom") {
		t.Error("AND/exclude semantics wrong")
	}
	quoted, _ := parseFilterPattern(`?"Task timed out"`)
	if !quoted.matches("2026 Task timed out after 45.00 seconds") || quoted.matches("Task timed") {
		t.Error("quoted phrase semantics wrong")
	}
}
