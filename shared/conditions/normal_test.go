package conditions

import (
	"strconv"
	"strings"
	"testing"
)

func TestNormalizeSIP(t *testing.T) {
	tests := []struct {
		name    string
		tape    Tape
		codes   []string
		want    string
		wantErr string
	}{
		{"UTP regular and odd lot", 'C', []string{"@", "I"}, "0,37", ""},
		{"UTP B is a bunched trade", 'C', []string{"B"}, "4", ""},
		{"CTA B is an average-price trade", 'A', []string{"B"}, "2", ""},
		{"CTA E is an automatic execution", 'B', []string{"E"}, "3", ""},
		{"CTA O is the market center opening trade", 'A', []string{"O"}, "17", ""},
		{"UTP O is opening prints", 'C', []string{"O"}, "25", ""},
		{"CTA 6 is the market center closing trade", 'B', []string{"6"}, "19", ""},
		{"CTA blank settlement left out", 'A', []string{" ", "F"}, "14", ""},
		{"no conditions", 'C', nil, "", ""},
		{"UTP has no E", 'C', []string{"E"}, "", `unknown SIP condition code "E" on tape C`},
		{"CTA has no W", 'A', []string{"W"}, "", `unknown SIP condition code "W" on tape A`},
		{"unknown tape", 'X', []string{"@"}, "", `want tape A, B (CTA) or C (UTP)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeSIP(tc.tape, tc.codes)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// Every CTA code names a condition of the table.
	for code, id := range CTASIP {
		if _, ok := byID[id]; !ok {
			t.Errorf("CTA %q: id %d not in the table", code, id)
		}
	}
}

func TestNormalizeIDs(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"", "", ""},
		{"14,37", "14,37", ""},
		{" 14 , 037", "14,37", ""},
		{"0", "0", ""},
		{"6", "", `unknown Polygon condition id "6"`},
		{"14,,37", "", `unknown Polygon condition id ""`},
		{"I", "", `unknown Polygon condition id "I"`},
		{"-1", "", `unknown Polygon condition id "-1"`},
	}
	for _, tc := range tests {
		got, err := NormalizeIDs(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestOfCachesApply(t *testing.T) {
	for _, c := range []string{"", "37", "14,37", "33", "37"} {
		var codes []string
		if c != "" {
			codes = strings.Split(c, ",")
		}
		want, _ := Apply(PolygonIDs, codes...)
		for range 2 {
			if got, err := Of(c); err != nil || got != want {
				t.Errorf("Of(%q) = %+v, %v; want %+v", c, got, err, want)
			}
		}
	}
	if _, err := Of("6"); err == nil {
		t.Error("Of(6) has no error")
	}
}

func TestCorrection(t *testing.T) {
	for _, tc := range []struct {
		code   string
		counts bool
		err    bool
	}{{"", true, false}, {"0", true, false}, {"00", true, false}, {"1", true, false}, {"7", false, false},
		{"8", false, false}, {"10", false, false}, {"11", false, false}, {"12", false, false}, {"2", false, true}, {"x", false, true}} {
		counts, err := Correction(tc.code)
		if counts != tc.counts || (err != nil) != tc.err {
			t.Errorf("Correction(%q) = %v, %v; want %v, error %v", tc.code, counts, err, tc.counts, tc.err)
		}
	}
}

func BenchmarkOf(b *testing.B) {
	for b.Loop() {
		if _, err := Of("14,37"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOfRefusesOtherForms(t *testing.T) {
	for _, c := range []string{"14, 37", "037", " 0", "14,"} {
		if _, err := Of(c); err == nil {
			t.Errorf("Of(%q) accepted text not in the normal form", c)
		}
	}
}

// TestSpecMatrices checks every one-character code of the two tapes,
// through ID and the table, against the consolidated columns of the SIPs'
// own sale-condition matrices (CTS Pillar Output Specification; UTP Binary
// Output Specification), transcribed here per code as the specifications
// print them. "Update last only if it is the first or only last-sale-
// eligible trade of the day" is read as no open/close (see Table). A code
// of either tape that the table or CTASIP knows and this test does not
// fails it, so a new mapping must be checked against its matrix.
func TestSpecMatrices(t *testing.T) {
	all, vol, hl, none := All, Effect{Volume: true}, Effect{HighLow: true, Volume: true}, Effect{}
	close9 := Effect{OpenClose: true, HighLow: true} // corrected consolidated close: volume reported as zero
	matrices := map[Tape]map[string]Effect{
		'A': { // CTA
			"@": all, "B": vol, "C": vol, "E": all, "F": all, "H": vol, "I": vol, "K": all, "L": all,
			"M": none, "O": all, "P": hl, "Q": none, "R": vol, "T": vol, "U": vol, "V": vol, "X": all,
			"Z": hl, "4": hl, "5": all, "6": all, "7": vol, "9": close9,
			"N": vol, // reserved today; Next Day (volume only) in older CTS versions
		},
		'C': { // UTP
			"@": all, "A": all, "B": all, "C": vol, "D": all, "F": all, "G": hl, "H": vol, "I": vol,
			"K": all, "L": all, "M": none, "N": vol, "O": all, "P": hl, "Q": none, "R": vol, "S": all,
			"T": vol, "U": vol, "V": vol, "W": vol, "X": all, "Y": all, "Z": hl, "1": all, "4": hl,
			"5": all, "6": all, "7": vol, "9": close9,
		},
	}
	for tape, matrix := range matrices {
		for code, want := range matrix {
			id, ok := ID(tape, code)
			if !ok {
				t.Errorf("tape %c %q: not mapped", tape, code)
				continue
			}
			got, err := Apply(PolygonIDs, strconv.Itoa(id))
			if err != nil || got != want {
				t.Errorf("tape %c %q (id %d) = %+v, %v; the specification says %+v", tape, code, id, got, err, want)
			}
		}
	}
	for code := range CTASIP {
		if _, ok := matrices['A'][code]; !ok {
			t.Errorf("CTA %q is mapped but not checked against the CTS matrix", code)
		}
	}
	for code := range bySIP {
		if _, ok := matrices['C'][code]; !ok {
			t.Errorf("UTP %q is in the table but not checked against the UTP matrix", code)
		}
	}
	// The reserved and placeholder codes are refused, not guessed at.
	for _, c := range []struct {
		tape Tape
		code string
	}{{'A', "8"}, {'A', "W"}, {'C', "8"}, {'C', "E"}} {
		if id, ok := ID(c.tape, c.code); ok {
			t.Errorf("tape %c %q maps to %d; want refused", c.tape, c.code, id)
		}
	}
}
