// Package conditions holds the sale-condition table of the US consolidated
// tapes (CTA for NYSE-listed, UTP for Nasdaq-listed securities): for each
// condition a trade may carry, whether the trade updates a bar's open and
// close, its high and low, and its volume.
//
// Source: the sale-condition matrices of the two SIPs' output
// specifications, column "consolidated": CTA's CTS Pillar Output
// Specification (ctaplan.com, "Sale Condition" and its update rules) and
// UTP's Binary Output Specification (utpplan.com, "Sale Condition Matrix"),
// with the numeric ids Polygon.io (Massive) normalises them to in its
// "Conditions & Indicators" glossary and /v3/reference/conditions, which
// its trade files carry. Alpaca and the SIPs carry the one-character codes.
// Where the glossary's rules differ from the specifications the
// specifications win: both mark a Seller's-option trade (R) volume only,
// the glossary also lets it set the high and low. Where a matrix says
// "update last only if it is the first (or only) last-sale-eligible trade
// of the day" (UTP footnote 1, CTA footnote 2) the trade does not set a
// window's open or close here: a 5-minute window is not the trading day.
package conditions

import (
	"fmt"
	"strconv"
	"strings"
)

// Rule is one sale condition and what a trade carrying it updates.
type Rule struct {
	// ID is Polygon's normalised condition id (its "conditions" column).
	ID int
	// SIP is the one-character code of the SIP feeds (Alpaca's "c" field);
	// empty when the condition has none.
	SIP  string
	Name string
	// OpenClose: the trade may be a window's open or close (the tape's
	// "update last"). HighLow: it may set the high or the low. Volume: its
	// size counts in the volume (and VWAP).
	OpenClose, HighLow, Volume bool
}

// Table is the condition table, by Polygon id. Conditions whose rules the
// guidelines leave open (e.g. 6 CAP Election, 39 Unknown) are not in it: a
// trade carrying one is refused rather than guessed at.
var Table = []Rule{
	{ID: 0, SIP: "@", Name: "Regular Sale", OpenClose: true, HighLow: true, Volume: true},
	{ID: 1, SIP: "A", Name: "Acquisition", OpenClose: true, HighLow: true, Volume: true},
	{ID: 2, SIP: "W", Name: "Average Price Trade", Volume: true},
	{ID: 3, Name: "Automatic Execution", OpenClose: true, HighLow: true, Volume: true},
	{ID: 4, SIP: "B", Name: "Bunched Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 5, SIP: "G", Name: "Bunched Sold Trade", HighLow: true, Volume: true},
	{ID: 7, SIP: "C", Name: "Cash Sale", Volume: true},
	{ID: 8, SIP: "6", Name: "Closing Prints", OpenClose: true, HighLow: true, Volume: true},
	{ID: 9, SIP: "X", Name: "Cross Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 10, SIP: "4", Name: "Derivatively Priced", HighLow: true, Volume: true},
	{ID: 11, SIP: "D", Name: "Distribution", OpenClose: true, HighLow: true, Volume: true},
	{ID: 12, SIP: "T", Name: "Form T", Volume: true},
	{ID: 13, SIP: "U", Name: "Extended Trading Hours (Sold Out of Sequence)", Volume: true},
	{ID: 14, SIP: "F", Name: "Intermarket Sweep", OpenClose: true, HighLow: true, Volume: true},
	{ID: 15, SIP: "M", Name: "Market Center Official Close"},
	{ID: 16, SIP: "Q", Name: "Market Center Official Open"},
	// CTA's auction prints (its O, 5 and 6; CTASIP), which Polygon keeps
	// apart from UTP's Opening, Re-Opening and Closing Prints (25, 28, 8).
	{ID: 17, Name: "Market Center Opening Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 18, Name: "Market Center Reopening Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 19, Name: "Market Center Closing Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 20, SIP: "N", Name: "Next Day", Volume: true},
	{ID: 21, SIP: "H", Name: "Price Variation Trade", Volume: true},
	{ID: 22, SIP: "P", Name: "Prior Reference Price", HighLow: true, Volume: true},
	{ID: 23, SIP: "K", Name: "Rule 155 Trade (AMEX)", OpenClose: true, HighLow: true, Volume: true},
	{ID: 25, SIP: "O", Name: "Opening Prints", OpenClose: true, HighLow: true, Volume: true},
	{ID: 27, SIP: "1", Name: "Stopped Stock (Regular Trade)", OpenClose: true, HighLow: true, Volume: true},
	{ID: 28, SIP: "5", Name: "Re-Opening Prints", OpenClose: true, HighLow: true, Volume: true},
	{ID: 29, SIP: "R", Name: "Seller", Volume: true},
	{ID: 30, SIP: "L", Name: "Sold Last", OpenClose: true, HighLow: true, Volume: true},
	{ID: 33, SIP: "Z", Name: "Sold (Out of Sequence)", HighLow: true, Volume: true},
	{ID: 34, SIP: "S", Name: "Split Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 36, SIP: "Y", Name: "Yellow Flag Regular Trade", OpenClose: true, HighLow: true, Volume: true},
	{ID: 37, SIP: "I", Name: "Odd Lot Trade", Volume: true},
	{ID: 38, SIP: "9", Name: "Corrected Consolidated Close (per listing market)", OpenClose: true, HighLow: true},
	// Reg NMS Rule 611's trade-through exemption: an indicator the tapes
	// carry beside the sale condition (no SIP sale-condition code), which
	// changes no last-sale eligibility; the trade's other conditions decide.
	{ID: 41, Name: "Trade Thru Exempt", OpenClose: true, HighLow: true, Volume: true},
	{ID: 52, SIP: "V", Name: "Contingent Trade", Volume: true},
	{ID: 53, SIP: "7", Name: "Qualified Contingent Trade (QCT)", Volume: true},
}

// Scheme is how a vendor writes condition codes.
type Scheme int

const (
	// SIPCodes are one-character SIP codes ("@", "F", "I", …): Alpaca.
	SIPCodes Scheme = iota
	// PolygonIDs are Polygon's numeric ids ("0", "12", "37", …).
	PolygonIDs
)

func (s Scheme) String() string {
	if s == PolygonIDs {
		return "Polygon condition id"
	}
	return "SIP condition code"
}

var bySIP, byID = func() (map[string]Rule, map[int]Rule) {
	s, i := map[string]Rule{}, map[int]Rule{}
	for _, r := range Table {
		if r.SIP != "" {
			s[r.SIP] = r
		}
		i[r.ID] = r
	}
	return s, i
}()

// Effect is what a trade updates, given all its conditions.
type Effect struct{ OpenClose, HighLow, Volume bool }

// All is the effect of a trade without conditions: it updates everything.
var All = Effect{OpenClose: true, HighLow: true, Volume: true}

// PriceExcluded reports whether the trade sets none of the price fields
// (the windows count such trades).
func (e Effect) PriceExcluded() bool { return !e.OpenClose && !e.HighLow }

// Apply returns what a trade carrying codes updates: a field only if every
// condition allows it (a regular sale that is also an odd lot counts in the
// volume only). A trade without conditions, or with blank ones (CTA's
// regular settlement is a space), updates everything. An unknown code is
// an error naming it and the scheme.
func Apply(scheme Scheme, codes ...string) (Effect, error) {
	e := All
	for _, c := range codes {
		if strings.TrimSpace(c) == "" {
			continue
		}
		r, ok := lookup(scheme, c)
		if !ok {
			return Effect{}, fmt.Errorf("unknown %s %q", scheme, c)
		}
		e.OpenClose = e.OpenClose && r.OpenClose
		e.HighLow = e.HighLow && r.HighLow
		e.Volume = e.Volume && r.Volume
	}
	return e, nil
}

func lookup(scheme Scheme, code string) (Rule, bool) {
	if scheme == PolygonIDs {
		id, err := strconv.Atoi(strings.TrimSpace(code))
		if err != nil {
			return Rule{}, false
		}
		r, ok := byID[id]
		return r, ok
	}
	r, ok := bySIP[code]
	return r, ok
}

// Markdown renders the table for the README (a test keeps the README's copy
// equal to it).
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Polygon id | SIP code | condition | open/close | high/low | volume |\n|---:|:-:|---|:-:|:-:|:-:|\n")
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	for _, r := range Table {
		sip := "`" + r.SIP + "`"
		if r.SIP == "" {
			sip = "—"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", r.ID, sip, r.Name, yes(r.OpenClose), yes(r.HighLow), yes(r.Volume))
	}
	return b.String()
}
