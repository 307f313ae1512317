package conditions

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	volumeOnly := Effect{Volume: true}
	tests := []struct {
		name    string
		scheme  Scheme
		codes   []string
		want    Effect
		wantErr string
	}{
		{"no conditions update everything", SIPCodes, nil, All, ""},
		{"blank CTA settlement code", SIPCodes, []string{" "}, All, ""},
		{"regular sale", SIPCodes, []string{"@"}, All, ""},
		{"odd lot counts in volume only", SIPCodes, []string{"I"}, volumeOnly, ""},
		{"regular odd lot: the stricter rule wins", SIPCodes, []string{"@", "I"}, volumeOnly, ""},
		{"average price", SIPCodes, []string{"W"}, volumeOnly, ""},
		{"sweep in extended hours", SIPCodes, []string{"F", "T"}, volumeOnly, ""},
		{"out of sequence sets high/low, not open/close", SIPCodes, []string{"Z"}, Effect{HighLow: true, Volume: true}, ""},
		{"official close is not a trade", SIPCodes, []string{"M"}, Effect{}, ""},
		{"corrected close sets prices, not volume", SIPCodes, []string{"9"}, Effect{OpenClose: true, HighLow: true}, ""},
		{"Polygon ids: sweep and odd lot", PolygonIDs, []string{"14", "37"}, volumeOnly, ""},
		{"Polygon id 0", PolygonIDs, []string{"0"}, All, ""},
		{"unknown SIP code", SIPCodes, []string{"@", "E"}, Effect{}, `unknown SIP condition code "E"`},
		{"Polygon id without rules", PolygonIDs, []string{"6"}, Effect{}, `unknown Polygon condition id "6"`},
		{"not a Polygon id", PolygonIDs, []string{"I"}, Effect{}, `unknown Polygon condition id "I"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply(tc.scheme, tc.codes...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Apply(%v) = %+v, %v; want %+v", tc.codes, got, err, tc.want)
			}
			if got.PriceExcluded() != (!tc.want.OpenClose && !tc.want.HighLow) {
				t.Errorf("PriceExcluded = %v for %+v", got.PriceExcluded(), got)
			}
		})
	}
}

// TestSchemesAgree: a condition has the same effect whichever code names it.
func TestSchemesAgree(t *testing.T) {
	ids, sips := map[int]bool{}, map[string]bool{}
	for _, r := range Table {
		if ids[r.ID] || (r.SIP != "" && sips[r.SIP]) {
			t.Errorf("%s: id %d or SIP code %q repeats", r.Name, r.ID, r.SIP)
		}
		ids[r.ID], sips[r.SIP] = true, true
		if len(r.SIP) > 1 {
			t.Errorf("%s: SIP code %q is not one character", r.Name, r.SIP)
		}
		byPolygon, err := Apply(PolygonIDs, strconv.Itoa(r.ID))
		if err != nil {
			t.Fatal(err)
		}
		if r.SIP == "" {
			continue
		}
		bySIP, err := Apply(SIPCodes, r.SIP)
		if err != nil || bySIP != byPolygon {
			t.Errorf("%s: SIP %q gives %+v (%v), Polygon id %d gives %+v", r.Name, r.SIP, bySIP, err, r.ID, byPolygon)
		}
	}
}

// TestApplyCombines: the effect of several conditions is the meet of their
// effects, in any order.
func TestApplyCombines(t *testing.T) {
	for _, a := range Table {
		for _, b := range Table {
			ea, _ := Apply(PolygonIDs, strconv.Itoa(a.ID))
			eb, _ := Apply(PolygonIDs, strconv.Itoa(b.ID))
			ab, err := Apply(PolygonIDs, strconv.Itoa(a.ID), strconv.Itoa(b.ID))
			ba, _ := Apply(PolygonIDs, strconv.Itoa(b.ID), strconv.Itoa(a.ID))
			want := Effect{ea.OpenClose && eb.OpenClose, ea.HighLow && eb.HighLow, ea.Volume && eb.Volume}
			if err != nil || ab != want || ba != want {
				t.Fatalf("%s + %s = %+v / %+v (%v), want %+v", a.Name, b.Name, ab, ba, err, want)
			}
		}
	}
}

// TestREADMETable: the README documents this table, and its copy is this
// package's rendering of it.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Markdown()) {
		t.Errorf("README.md lacks the condition table as rendered by conditions.Markdown():\n%s", Markdown())
	}
}
