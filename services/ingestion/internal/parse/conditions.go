package parse

import (
	"encoding/json"
	"fmt"

	"github.com/marketanalytics/pipeline/shared/conditions"
)

// A file repeats a few hundred combinations of conditions: each parser
// keeps the normal form (conditions.NormalizeIDs / NormalizeSIP) of those
// it met, by their text as written, so a record with conditions costs a
// map lookup (the lookup of a []byte converted in the index does not
// allocate). Past maxCachedConditions distinct texts (hostile input) they
// are normalised each time.
type condCache struct {
	ids map[string]string
	sip [3]map[string]string // by tape A, B, C: the raw JSON array
	raw []byte               // the current record's raw array
}

const maxCachedConditions = 1024

// conditionIDs returns the normal form of Polygon ids written as text.
func (p *Parser) conditionIDs(v []byte) (string, error) {
	if n, ok := p.conds.ids[str(v)]; ok {
		return n, nil
	}
	text := string(v)
	n, err := conditions.NormalizeIDs(text)
	if err != nil {
		return "", err
	}
	if p.conds.ids == nil {
		p.conds.ids = map[string]string{}
	}
	if len(p.conds.ids) < maxCachedConditions {
		p.conds.ids[text] = n
	}
	return n, nil
}

// conditionSIP returns the normal form of Alpaca's conditions: raw, a
// JSON array of SIP codes, read on tape (its "z": A, B or C).
func (p *Parser) conditionSIP(tape string, raw []byte) (string, error) {
	known := len(tape) == 1 && tape[0] >= 'A' && tape[0] <= 'C'
	var m *map[string]string
	if known {
		m = &p.conds.sip[tape[0]-'A']
		if n, ok := (*m)[str(raw)]; ok {
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
		*m = map[string]string{}
	}
	if len(*m) < maxCachedConditions {
		(*m)[string(raw)] = n
	}
	return n, nil
}
