package conditions

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The pipeline carries a trade's conditions in one form whatever the vendor
// wrote: Polygon's numeric ids, comma-separated, in the vendor's order
// ("14,37"); "" for a trade without conditions. Polygon ids are the form with
// one name per condition whichever tape reported it; SIP codes mean
// different conditions on the two tapes (see CTASIP).

// Tape is the consolidated tape that reported a trade: Alpaca's "z" (A and B
// are CTA, for NYSE- and other-listed securities; C is UTP, Nasdaq-listed).
type Tape byte

// CTASIP maps the one-character sale conditions of the CTA tape (CTS Pillar
// Output Specification, "Sale Condition" categories 1 to 4) to Polygon
// ids. Where CTA and UTP use the same character for the same condition the
// id is the table's; CTA's "B" (Average Price Trade), "E" (Automatic
// Execution) and its market center auction trades "O", "5" and "6" are its
// own. "N" is reserved in the current specification; it was Next Day in
// the CTS versions older files were written under. Characters CTA does not
// define (its reserved "8" included) are refused on a CTA trade, as unknown
// codes are.
var CTASIP = map[string]int{
	"@": 0, "B": 2, "C": 7, "E": 3, "F": 14, "H": 21, "I": 37, "K": 23, "L": 30,
	"M": 15, "N": 20, "O": 17, "P": 22, "Q": 16, "R": 29, "T": 12, "U": 13,
	"V": 52, "X": 9, "Z": 33, "4": 10, "5": 18, "6": 19, "7": 53, "9": 38,
}

// ID returns the Polygon id of the SIP code of a trade on tape: CTA's codes
// for tapes A and B, the table's (UTP's) for tape C. ok is false for a code
// the tape does not define or an unknown tape.
func ID(tape Tape, code string) (id int, ok bool) {
	switch tape {
	case 'A', 'B':
		id, ok = CTASIP[code]
	case 'C':
		var r Rule
		r, ok = bySIP[code]
		id = r.ID
	}
	return id, ok
}

// NormalizeSIP returns the normal form of a trade's SIP codes on tape.
// Blank codes (CTA's regular settlement is a space) are left out.
func NormalizeSIP(tape Tape, codes []string) (string, error) {
	var b strings.Builder
	for _, c := range codes {
		if strings.TrimSpace(c) == "" {
			continue
		}
		id, ok := ID(tape, c)
		if !ok {
			if tape != 'A' && tape != 'B' && tape != 'C' {
				return "", fmt.Errorf("condition %q on tape %q: want tape A, B (CTA) or C (UTP) to read SIP codes", c, string(tape))
			}
			return "", fmt.Errorf("unknown %s %q on tape %s", SIPCodes, c, string(tape))
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	return b.String(), nil
}

// NormalizeIDs returns the normal form of Polygon ids separated by commas
// (spaces around them allowed): every id known to Table, written without
// leading zeros or spaces. Text already in the normal form is returned as
// it is (no allocation).
func NormalizeIDs(text string) (string, error) {
	if text == "" {
		return "", nil
	}
	canonical := true
	n := 0
	for part := range strings.SplitSeq(text, ",") {
		p := strings.TrimSpace(part)
		id, err := strconv.Atoi(p)
		if err != nil || id < 0 {
			return "", fmt.Errorf("unknown %s %q", PolygonIDs, p)
		}
		if _, ok := byID[id]; !ok {
			return "", fmt.Errorf("unknown %s %q", PolygonIDs, p)
		}
		canonical = canonical && part == strconv.Itoa(id)
		n++
	}
	if canonical {
		return text, nil
	}
	ids := make([]string, 0, n)
	for part := range strings.SplitSeq(text, ",") {
		id, _ := strconv.Atoi(strings.TrimSpace(part))
		ids = append(ids, strconv.Itoa(id))
	}
	return strings.Join(ids, ","), nil
}

// Of returns the effect of a trade whose conditions are in the normal form;
// text not in the normal form is an error. Effects are cached per distinct
// text, so a trade costs a map lookup: the distinct combinations of a day's
// trades are a few hundred. The cache is a map that is never written once
// published (a new entry publishes a copy), so a lookup takes no lock and
// costs what a plain map's does; past maxCached entries (hostile input),
// effects are computed, not cached, which also bounds the copying.
func Of(normal string) (Effect, error) {
	if normal == "" {
		return All, nil
	}
	if m := cache.Load(); m != nil {
		if e, ok := (*m)[normal]; ok {
			return e, nil
		}
	}
	n, err := NormalizeIDs(normal)
	if err != nil {
		return Effect{}, err
	}
	if n != normal {
		return Effect{}, fmt.Errorf("conditions %q are not in the normal form %q", normal, n)
	}
	e, err := Apply(PolygonIDs, strings.Split(normal, ",")...)
	if err != nil {
		return Effect{}, err
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	old := cache.Load()
	if old == nil || len(*old) < maxCached {
		m := make(map[string]Effect, 1+lenOf(old))
		if old != nil {
			maps.Copy(m, *old)
		}
		m[strings.Clone(normal)] = e // the key must not pin a message body
		cache.Store(&m)
	}
	return e, nil
}

func lenOf(m *map[string]Effect) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

const maxCached = 1 << 10

var (
	cache   atomic.Pointer[map[string]Effect]
	cacheMu sync.Mutex
)

// Correction is what a trade's correction indicator (Polygon's "correction"
// column) says about it. Polygon passes on the consolidated tapes'
// indicator, as the NYSE Daily TAQ specification defines it ("Trade
// Correction Indicator"):
//
//	0   regular trade, not corrected, changed, cancelled or in error  counts
//	1   original trade later corrected; the record holds the corrected
//	    data at the original time                                   counts
//	7   original trade later marked as erroneous                      nowhere
//	8   original trade later cancelled                                nowhere
//	10  cancel record (follows an 8)                                  nowhere
//	11  error record (follows a 7)                                    nowhere
//	12  correction record: the correction time with the original,
//	    incorrect data (follows a 1)                                  nowhere
//
// So a trade that was cancelled or in error counts nowhere, and of a
// corrected trade only its corrected data (the 1) counts. Any other value
// is an error: the indicator is not guessed at.
func Correction(code string) (counts bool, err error) {
	c := strings.TrimSpace(code)
	if c == "" {
		return true, nil
	}
	n, err := strconv.Atoi(c)
	if err != nil {
		return false, fmt.Errorf("unknown correction indicator %q", code)
	}
	switch n {
	case 0, 1:
		return true, nil
	case 7, 8, 10, 11, 12:
		return false, nil
	}
	return false, fmt.Errorf("unknown correction indicator %q", code)
}
