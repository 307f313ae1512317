package parse

import (
	"encoding/json"
	"fmt"

	"github.com/marketanalytics/pipeline/shared/conditions"
)

// A file repeats a few hundred combinations of conditions: each parser
// keeps the normal form (conditions.NormalizeIDs / NormalizeSIP) of those
// it met, by their text as written, so a record with conditions costs a
// look in a small direct-mapped cache of the recent ones (a hash of a few
// bytes and one comparison), else a map lookup (the lookup of a []byte
// converted in the index does not allocate). Past maxCachedConditions
// distinct texts (hostile input) they are normalised each time.
type condCache struct {
	ids    map[string]condEntry
	sip    [3]map[string]condEntry // by tape A, B, C: the raw JSON array
	raw    []byte                  // the current record's raw array
	recent [64]condEntry           // by internHash of the text
}

// condEntry is a text of conditions as written and its normal form; kind
// is what the text is: condIDs or a tape (A, B, C), 0 for none.
type condEntry struct {
	kind       byte
	text, norm string
}

// condIDs is the kind of Polygon ids.
const condIDs = 1

const maxCachedConditions = 1024

// cached returns the normal form of text, of kind, when one of the caches
// holds it.
func (c *condCache) cached(kind byte, text []byte, m map[string]condEntry) (string, bool) {
	r := &c.recent[internHash(text)%uint(len(c.recent))]
	if r.kind == kind && r.text == str(text) {
		return r.norm, true
	}
	if e, ok := m[str(text)]; ok {
		*r = e
		return e.norm, true
	}
	return "", false
}

// keep remembers e in both caches (m must not be nil).
func (c *condCache) keep(e condEntry, m map[string]condEntry) {
	c.recent[internHash([]byte(e.text))%uint(len(c.recent))] = e
	if len(m) < maxCachedConditions {
		m[e.text] = e
	}
}

// conditionIDs returns the normal form of Polygon ids written as text.
func (p *Parser) conditionIDs(v []byte) (string, error) {
	if n, ok := p.conds.cached(condIDs, v, p.conds.ids); ok {
		return n, nil
	}
	text := string(v)
	n, err := conditions.NormalizeIDs(text)
	if err != nil {
		return "", err
	}
	if p.conds.ids == nil {
		p.conds.ids = map[string]condEntry{}
	}
	p.conds.keep(condEntry{condIDs, text, n}, p.conds.ids)
	return n, nil
}

// conditionSIP returns the normal form of Alpaca's conditions: raw, a
// JSON array of SIP codes, read on tape (its "z": A, B or C).
func (p *Parser) conditionSIP(tape string, raw []byte) (string, error) {
	known := len(tape) == 1 && tape[0] >= 'A' && tape[0] <= 'C'
	var m *map[string]condEntry
	if known {
		m = &p.conds.sip[tape[0]-'A']
		if n, ok := p.conds.cached(tape[0], raw, *m); ok {
			return n, nil
		}
	}
	var codes []string
	if err := json.Unmarshal(raw, &codes); err != nil {
		return "", fmt.Errorf("want an array of SIP condition codes (strings)")
	}
	var t conditions.Tape
	if known {
		t = conditions.Tape(tape[0])
	}
	n, err := conditions.NormalizeSIP(t, codes)
	if err != nil {
		if !known {
			// Only codes that are all blank need no tape.
			return "", fmt.Errorf("tape %q: want A, B (CTA) or C (UTP) to read the SIP condition codes", clipString(tape))
		}
		return "", err
	}
	if !known {
		return n, nil
	}
	if *m == nil {
		*m = map[string]condEntry{}
	}
	p.conds.keep(condEntry{tape[0], string(raw), n}, *m)
	return n, nil
}
