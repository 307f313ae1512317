package parse

import (
	"fmt"
	"path"
	"strings"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// A profile says how one layout of records (the pipeline's own, or a vendor
// export's) becomes points: which columns or members hold which field, and
// in which units. The columns of each vendor are those of its public
// documentation (README "Ingestion profiles" names the sources).
type profile struct {
	name string
	// columns maps CSV column names (matched in any case) or JSON member
	// names (exact) to fields. Only fields named here are read.
	columns []column
	// signature is the columns whose presence in a CSV header (all of
	// them), or the members in a first JSON object, pick the profile.
	signature []string
	// headerless are the columns, by position, of a CSV without a header
	// line (Binance); nil when the profile always has a header.
	headerless []column
	// json: the profile's records are JSON objects (otherwise CSV rows).
	json bool
	// units are the marketdata.TimestampUnits (by index) integer timestamps
	// may be in; nil reads any of them by magnitude, and an empty list
	// accepts only RFC 3339 times.
	units []int
	// scaledPrice: a price written as a plain integer counts units of 1e-9
	// (Databento's fixed-point prices; its "pretty" prices have a point).
	scaledPrice bool
	// integerSize: the format's size is an integer count by its
	// specification (Databento), so a fraction is an error, not a size.
	integerSize bool
	// symbolGiven: the rows hold no symbol; it comes from the file name or
	// is given with the object (Options.Symbol).
	symbolGiven bool
	// ignoreOthers: JSON members naming no field are ignored (vendors add
	// members), instead of refusing the record as the native profile does.
	ignoreOthers bool
	// sipConditions: the conditions are a JSON array of SIP codes, read
	// with the record's tape (Alpaca), not Polygon ids.
	sipConditions bool
	// bars: the profile's records are bars (Record.Bar, see bars.go), of
	// barLength (a marketdata.BarLengths name) unless the object says
	// otherwise (Options.Timeframe, or a name useBarLength is given).
	bars      bool
	barLength string
	// barLengthOf reads the bar length an object's name gives (Binance's
	// BTCUSDT-1m-2025-01-02.csv; Polygon's day_aggs_v1 folder), ok false
	// when it gives none; it wins over barLength, Options.Timeframe over
	// both.
	barLengthOf func(name string) (length string, ok bool)
	// oneChar maps one-character member names (Alpaca's) to their field or
	// -1, so that the JSON path looks them up without a search.
	oneChar [128]int8
	// quoted are the columns' names as JSON writes them ("name"), by
	// column, as words for fastName (quotedName).
	quoted []quotedName
}

// quotedName is a quoted member name of at most 16 bytes as two
// little-endian words and the masks of its bytes (n == 0: longer), so that
// fastName compares a name in the input with two loads and comparisons.
type quotedName struct {
	word, mask [2]uint64
	n          int
}

func quoteName(name string) (q quotedName) {
	b := `"` + name + `"`
	if len(b) > 16 {
		return q
	}
	for i := range len(b) {
		q.word[i/8] |= uint64(b[i]) << (8 * (i % 8))
		q.mask[i/8] |= 0xFF << (8 * (i % 8))
	}
	q.n = len(b)
	return q
}

type column struct {
	name  string
	field int // a field* constant, or ignoredField
}

// ignoredField is the field of a column that is read past.
const ignoredField = -1

// unit returns the index of the marketdata.TimestampUnits entry named name.
func unit(name string) int {
	for i, u := range marketdata.TimestampUnits {
		if u.Name == name {
			return i
		}
	}
	panic("parse: no timestamp unit " + name)
}

var nativeColumns = func() []column {
	c := make([]column, nativeFields)
	for f, n := range fieldNames[:nativeFields] {
		c[f] = column{n, f}
	}
	return c
}()

// profiles are the profiles, in marketdata.Profiles' order (a test checks
// that both list the same names).
var profiles = []*profile{
	{name: marketdata.ProfileNative, columns: nativeColumns},
	{
		// Polygon.io flat files, us_stocks_sip/trades_v1: sip_timestamp is
		// the SIP's time in ns (what its own aggregates use).
		name: marketdata.ProfilePolygonTrades,
		// conditions are Polygon's condition ids (quoted when several:
		// "12,37"); correction its trade correction indicator
		// (conditions.Correction: a cancelled or erroneous trade, or the
		// superseded data of a corrected one, is refused per record).
		columns: []column{{"ticker", fieldSymbol}, {"sip_timestamp", fieldTimestamp}, {"price", fieldPrice},
			{"size", fieldVolume}, {"exchange", fieldExchange}, {"conditions", fieldConditions}, {"correction", fieldCorrection}},
		signature: []string{"ticker", "sip_timestamp"},
		units:     []int{unit("ns")},
	},
	{
		// Databento trades schema as CSV: ts_event (the matching engine's
		// time) in ns or, with pretty_ts, ISO 8601 in UTC; price in units of
		// 1e-9 or, with pretty_px, a decimal; symbol with map_symbols.
		name: marketdata.ProfileDatabentoTrades,
		columns: []column{{"symbol", fieldSymbol}, {"ts_event", fieldTimestamp}, {"price", fieldPrice},
			{"size", fieldVolume}, {"publisher_id", fieldExchange}},
		signature:   []string{"ts_event", "ts_recv"},
		units:       []int{unit("ns")},
		scaledPrice: true,
		integerSize: true,
	},
	{
		// Alpaca market data v2 trades: S symbol (absent in the historical
		// endpoint's {"trades": {"AAPL": [...]}}, where the key names it),
		// t RFC 3339 with ns, p price, s size, x exchange, c the SIP
		// condition codes, read with z, the tape (A and B: CTA's codes; C:
		// UTP's); i and others are ignored.
		name: marketdata.ProfileAlpacaTrades,
		columns: []column{{"S", fieldSymbol}, {"t", fieldTimestamp}, {"p", fieldPrice},
			{"s", fieldVolume}, {"x", fieldExchange}, {"c", fieldConditions}, {"z", fieldTape}},
		signature:     []string{"t", "p", "s"},
		json:          true,
		units:         []int{},
		ignoreOthers:  true,
		sipConditions: true,
	},
	{
		// tardis.dev normalized trades CSV: timestamp (the exchange's) in µs.
		name: marketdata.ProfileTardisTrades,
		columns: []column{{"symbol", fieldSymbol}, {"timestamp", fieldTimestamp}, {"price", fieldPrice},
			{"amount", fieldVolume}, {"exchange", fieldExchange}},
		signature: []string{"local_timestamp", "amount"},
		units:     []int{unit("us")},
	},
	{
		// Binance spot trades (data.binance.vision): id, price, qty,
		// quoteQty, time, isBuyerMaker, isBestMatch; time in ms, in µs
		// from 2025.
		name:    marketdata.ProfileBinanceTrades,
		columns: []column{{"price", fieldPrice}, {"qty", fieldVolume}, {"time", fieldTimestamp}},
		headerless: []column{{"id", ignoredField}, {"price", fieldPrice}, {"qty", fieldVolume},
			{"quote_qty", ignoredField}, {"time", fieldTimestamp}, {"is_buyer_maker", ignoredField},
			{"is_best_match", ignoredField}},
		signature:   []string{"quote_qty", "is_buyer_maker"},
		units:       []int{unit("ms"), unit("us")},
		symbolGiven: true,
	},
	{
		// Binance spot aggTrades: aggregate id, price, quantity, first and
		// last trade id, time (ms, µs from 2025), isBuyerMaker, isBestMatch.
		name:    marketdata.ProfileBinanceAggTrades,
		columns: []column{{"price", fieldPrice}, {"quantity", fieldVolume}, {"transact_time", fieldTimestamp}},
		headerless: []column{{"agg_trade_id", ignoredField}, {"price", fieldPrice}, {"quantity", fieldVolume},
			{"first_trade_id", ignoredField}, {"last_trade_id", ignoredField}, {"transact_time", fieldTimestamp},
			{"is_buyer_maker", ignoredField}, {"is_best_match", ignoredField}},
		signature:   []string{"agg_trade_id", "transact_time"},
		units:       []int{unit("ms"), unit("us")},
		symbolGiven: true,
	},
	polygonMinuteAggs,
	{
		// Alpaca market data v2 bars (GET /v2/stocks/bars, the single-symbol
		// /v2/stocks/{symbol}/bars, the stream's "b" messages): t the bar's
		// start, RFC 3339; o, h, l, c; v volume; n trade count; vw VWAP; S
		// the symbol (absent in the historical shapes, where the "bars" key
		// or the "symbol" member names it). The timeframe is the request's,
		// not the bar's: given with the object, 1Min by default.
		name: marketdata.ProfileAlpacaBars,
		columns: []column{{"S", fieldSymbol}, {"t", fieldBarStart}, {"o", fieldOpen}, {"h", fieldHigh},
			{"l", fieldLow}, {"c", fieldClose}, {"v", fieldBarVolume}, {"n", fieldTrades}, {"vw", fieldVWAP}},
		signature:    []string{"t", "o", "h", "l", "c"},
		json:         true,
		units:        []int{},
		ignoreOthers: true,
		bars:         true,
		barLength:    marketdata.DefaultBarLength,
	},
	{
		// Binance spot klines (data.binance.vision, BTCUSDT-1m-2025-01-02.csv):
		// no header; open_time and close_time in ms, in µs from 2025;
		// quote_asset_volume is the bar's Σ price×qty, its exact pv. The
		// symbol and the interval come from the file name (or are given).
		// A file with a header (Binance's futures klines have one) names
		// the quote volume quote_volume and the trade count count.
		name: marketdata.ProfileBinanceKlines,
		columns: []column{{"open_time", fieldBarStart}, {"open", fieldOpen}, {"high", fieldHigh}, {"low", fieldLow},
			{"close", fieldClose}, {"volume", fieldBarVolume}, {"close_time", fieldBarEnd},
			{"quote_asset_volume", fieldQuoteVolume}, {"number_of_trades", fieldTrades},
			{"quote_volume", fieldQuoteVolume}, {"count", fieldTrades}},
		headerless: []column{{"open_time", fieldBarStart}, {"open", fieldOpen}, {"high", fieldHigh}, {"low", fieldLow},
			{"close", fieldClose}, {"volume", fieldBarVolume}, {"close_time", fieldBarEnd},
			{"quote_asset_volume", fieldQuoteVolume}, {"number_of_trades", fieldTrades},
			{"taker_buy_base_asset_volume", ignoredField}, {"taker_buy_quote_asset_volume", ignoredField}, {"ignore", ignoredField}},
		signature:   []string{"open_time", "close_time"},
		units:       []int{unit("ms"), unit("us")},
		symbolGiven: true,
		bars:        true,
		barLengthOf: klinesIntervalOf,
	},
}

var native = profiles[0]

func init() {
	for _, p := range profiles {
		for i := range p.oneChar {
			p.oneChar[i] = -1
		}
		p.quoted = make([]quotedName, len(p.columns))
		for k, c := range p.columns {
			if len(c.name) == 1 && c.name[0] < 0x80 {
				p.oneChar[c.name[0]] = int8(c.field)
			}
			p.quoted[k] = quoteName(c.name)
		}
	}
}

// profileNamed returns the profile called name, or nil.
func profileNamed(name string) *profile {
	for _, p := range profiles {
		if p.name == name {
			return p
		}
	}
	return nil
}

// Options are what an object's metadata, key or request forces instead of
// what detection would find.
type Options struct {
	// Profile forces a profile (marketdata.Profiles); "" detects it.
	Profile string
	// Symbol is the symbol of rows that hold none (Binance; Alpaca's
	// {"trades": [...]}); "" takes it from the object's name.
	Symbol string
	// TimestampUnit reads the native profile's integer timestamps in this
	// unit (a marketdata.TimestampUnits name) instead of by magnitude.
	TimestampUnit string
	// Timeframe is the length of a bar profile's bars (a
	// marketdata.BarLengths name) when the bars do not say it.
	Timeframe string
}

// check validates the options.
func (o Options) check() error {
	if o.Profile != "" && profileNamed(o.Profile) == nil {
		return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
			"unknown format %q; want one of %s", clipString(o.Profile), strings.Join(marketdata.Profiles, ", "))}
	}
	if o.TimestampUnit != "" {
		ok := false
		var names []string
		for _, u := range marketdata.TimestampUnits {
			names = append(names, u.Name)
			ok = ok || u.Name == o.TimestampUnit
		}
		if !ok {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				"unknown timestamp unit %q; want one of %s", clipString(o.TimestampUnit), strings.Join(names, ", "))}
		}
		if o.Profile != "" && o.Profile != marketdata.ProfileNative {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				"a timestamp unit applies to the %s format only; %s has its own units", marketdata.ProfileNative, o.Profile)}
		}
	}
	if o.Timeframe != "" {
		if _, err := marketdata.ParseBarLength(o.Timeframe); err != nil {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf("timeframe: %v", err)}
		}
		if prof := profileNamed(o.Profile); prof != nil && !prof.bars {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				"a timeframe applies to bar formats only; %s holds trades", o.Profile)}
		}
	}
	return nil
}

// binanceName reads a Binance file name such as BTCUSDT-aggTrades-2025-01-02.csv
// or BTCUSDT-1m-2025-01-02.csv: its symbol and the profile its kind names
// ("" when it is not one).
func binanceName(name string) (symbol, prof string) {
	base := path.Base(name)
	sym, rest, ok := strings.Cut(base, "-")
	if !ok {
		return "", ""
	}
	kind, _, _ := strings.Cut(rest, "-")
	switch kind {
	case "trades":
		return sym, marketdata.ProfileBinanceTrades
	case "aggTrades":
		return sym, marketdata.ProfileBinanceAggTrades
	}
	if klinesInterval(kind) {
		return sym, marketdata.ProfileBinanceKlines
	}
	return "", ""
}

// use sets the profile p parses with: its units and symbol.
func (p *Parser) use(prof *profile, name string) error {
	p.prof = prof
	p.units = prof.units
	if prof == native && p.Options.TimestampUnit != "" {
		p.units = []int{unit(p.Options.TimestampUnit)}
	}
	p.symbol = ""
	p.barLength, p.barLengthName = 0, ""
	if prof.bars {
		length := prof.barLength
		if prof.barLengthOf != nil {
			if l, ok := prof.barLengthOf(name); ok {
				length = l
			}
		}
		if length != "" || p.Options.Timeframe != "" {
			// Otherwise the profile's parser calls useBarLength itself.
			if err := p.useBarLength(length); err != nil {
				return err
			}
		}
	}
	if prof.symbolGiven {
		p.symbol = p.Options.Symbol
		if p.symbol == "" {
			p.symbol, _ = binanceName(name)
		}
		if p.symbol == "" {
			return &ObjectError{Category: ObjectBadProfile, Reason: fmt.Sprintf(
				"%s rows hold no symbol and the object's name %q does not start with one (like BTCUSDT-trades-2025-01-02.csv); give it as metadata x-amz-meta-%s or the query parameter ?%s=",
				prof.name, clipString(path.Base(name)), marketdata.MetadataSymbol, marketdata.APIQuerySymbol)}
		}
	}
	if prof.name == marketdata.ProfileBinanceKlines && p.barLength == 0 {
		return klinesNoInterval(name)
	}
	return nil
}

// columnName returns the name, in the current profile, of the column or
// member holding field f.
func (p *Parser) columnName(f int) string {
	if p.prof == nil {
		return fieldName(f)
	}
	for _, c := range p.prof.columns {
		if c.field == f {
			return c.name
		}
	}
	return fieldName(f)
}

// vendorErr names the profile and the column of field f in a vendor
// profile's refusal; the native profile's reasons are left as they are
// (they name the field, which is the column).
func (p *Parser) vendorErr(f int, e *RecordError) *RecordError {
	if e == nil || p.prof == nil || p.prof == native {
		return e
	}
	if f < 0 {
		return &RecordError{Category: e.Category, Reason: p.prof.name + ": " + e.Reason}
	}
	return &RecordError{Category: e.Category, Reason: p.prof.name + " " + p.columnName(f) + ": " + e.Reason}
}
