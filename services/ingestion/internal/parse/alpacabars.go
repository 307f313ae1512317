package parse

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Alpaca market data v2 bars come in three shapes, all read here as the
// alpaca-bars profile: the multi-symbol historical response
// {"bars": {"AAPL": [...], ...}, "next_page_token": ...} (the key names the
// symbol), the single-symbol one {"bars": [...], "symbol": "AAPL",
// "next_page_token": ...}, and NDJSON or an array of bars carrying their
// symbol in S, as the stream sends them ({"T":"b","S":"AAPL",...}). A bar is
// t (its start, RFC 3339), o, h, l, c, v, n and vw; its length is the
// request's timeframe, given with the object (1Min by default, see
// marketdata.MetadataTimeframe). The records go through the JSON point
// paths, whose member and finish hand bar fields to bars.go.

// maxPendingBars bounds the bars of a single-symbol response held while
// waiting for its "symbol" member, which Alpaca writes after the array: its
// page limit (the largest `limit` the bars endpoints take). A longer array
// needs its symbol given with the object.
const maxPendingBars = 10_000

// alpacaBars reads the value of Alpaca's "bars" member and the rest of the
// object it is in, up to (not including) its closing brace.
func (p *Parser) alpacaBars(dec *jsontext.Decoder, sink Sink) error {
	if err := p.use(profileNamed(marketdata.ProfileAlpacaBars), p.name); err != nil {
		return err
	}
	var pending *pendingBars
	switch k := dec.PeekKind(); k {
	case '{':
		if err := p.symbolArrays(dec, sink, "bars"); err != nil {
			return err
		}
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, -1)
		}
		if p.Options.Symbol != "" {
			p.symbol = p.Options.Symbol
			if _, err := p.jsonElements(dec, sink, 0); err != nil {
				return err
			}
			break
		}
		var err error
		if pending, err = p.holdBars(dec); err != nil {
			return err
		}
	case 'n':
		// An empty page: Alpaca answers {"bars": null, ...} when a
		// single-symbol request finds no bars.
		if _, err := dec.ReadToken(); err != nil {
			return p.jsonErr(err, dec, -1)
		}
	default:
		return p.alpacaMemberErr(dec, "bars", k)
	}
	// The other members: next_page_token, currency, and the single-symbol
	// response's symbol.
	symbol := ""
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return p.jsonErr(err, dec, -1)
		}
		switch name := tok.String(); {
		case name == "bars":
			return &ObjectError{Category: ObjectBadShape, Reason: `unexpected JSON shape: member "bars" appears twice`}
		case name == "symbol" && dec.PeekKind() == '"':
			v, err := dec.ReadToken()
			if err != nil {
				return p.jsonErr(err, dec, -1)
			}
			symbol = v.String()
		default:
			if err := dec.SkipValue(); err != nil {
				return p.jsonErr(err, dec, -1)
			}
		}
	}
	if pending == nil {
		return nil
	}
	if symbol == "" {
		return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
			`%s: {"bars": [...]} has no "symbol" member; give the symbol as metadata x-amz-meta-%s or the query parameter ?%s=, or send {"bars": {"AAPL": [...]}}`,
			marketdata.ProfileAlpacaBars, marketdata.MetadataSymbol, marketdata.APIQuerySymbol)}
	}
	p.symbol = symbol
	return pending.deliver(p, sink)
}

// pendingBars are the raw bars of a single-symbol response, held until its
// symbol is read: one buffer and the end of each bar in it.
type pendingBars struct {
	raw  []byte
	ends []int
}

// holdBars reads the elements of the array after its '[' up to and
// including its ']', keeping copies (the decoder reuses its memory).
func (p *Parser) holdBars(dec *jsontext.Decoder) (*pendingBars, error) {
	b := &pendingBars{}
	for i := int64(0); dec.PeekKind() != ']'; i++ {
		if len(b.ends) == maxPendingBars {
			return nil, &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				`%s: {"bars": [...]} holds more than %d bars (Alpaca's page limit) before its "symbol" member; give the symbol as metadata x-amz-meta-%s or the query parameter ?%s=`,
				marketdata.ProfileAlpacaBars, maxPendingBars, marketdata.MetadataSymbol, marketdata.APIQuerySymbol)}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, p.jsonErr(err, dec, i)
		}
		b.raw = append(b.raw, v...)
		b.ends = append(b.ends, len(b.raw))
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, p.jsonErr(err, dec, int64(len(b.ends)))
	}
	return b, nil
}

// deliver parses the held bars, indexed from 0, now that p.symbol is known.
func (b *pendingBars) deliver(p *Parser, sink Sink) error {
	start := 0
	for i, end := range b.ends {
		p.rec = Record{Index: int64(i)}
		p.jsonPoint(b.raw[start:end])
		start = end
		if err := sink(&p.rec); err != nil {
			return err
		}
	}
	return nil
}

// finishJSONBar checks that a JSON bar gave its required members and ends
// it (finishBar).
func (p *Parser) finishJSONBar(m *members) {
	if missing := p.requiredBar() &^ m.present; missing != 0 {
		p.rec.Err = p.missingErr(missing)
		return
	}
	p.finishBar()
}

// categoryOf is the reason category of a bad value of field f, a point's
// or a bar's.
func categoryOf(f int) string {
	if f >= numFields {
		return barCategory(f)
	}
	return fieldCategory[f]
}
