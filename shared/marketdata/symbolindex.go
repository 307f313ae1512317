package marketdata

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// The symbols index lists every symbol the processor has stored points for,
// so that readers (GET /symbols, the ops tool's status) find them with a
// Query of one partition instead of a Scan of the table. One item per
// symbol: hash SymbolsIndex, range SymbolIndexKey(symbol), attributes those
// of SymbolIndexItem. The processor writes a symbol's item when its latest
// state is created and then at most once per UTC day (which keeps the TTL
// ahead of the state's), so the partition takes about one write per symbol
// per day however busy the symbol is.
const SymbolsIndex = "INDEX#SYMBOLS"

// symbolDigits orders the characters a valid symbol may hold ('-' < '.' <
// '0'…'9' < 'A'…'Z', their byte order); digit 0 pads a shorter symbol.
const symbolDigits = "\x00-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

var symbolBase = big.NewInt(int64(len(symbolDigits)))

// SymbolIndexKey returns the range key (a DynamoDB number, as text) of
// symbol's index item: the symbol read as a base-39 number of
// limits.MaxSymbolLen digits, right-padded. Distinct symbols get distinct
// keys (no hash, no collision) and the keys sort as the symbols do, so a
// Query lists the index in symbol order and can page by symbol. 39^16 has 26
// digits, well within the 38 a DynamoDB number keeps exactly.
func SymbolIndexKey(symbol string) (string, error) {
	if !ValidSymbol(symbol) {
		return "", fmt.Errorf("%w %q", ErrSymbol, clip(symbol))
	}
	n := new(big.Int)
	for i := range limits.MaxSymbolLen {
		d := 0
		if i < len(symbol) {
			d = strings.IndexByte(symbolDigits, symbol[i])
		}
		n.Mul(n, symbolBase).Add(n, big.NewInt(int64(d)))
	}
	return n.String(), nil
}

// AttrIndexedSymbol is the symbol an index item lists (S).
const AttrIndexedSymbol = "name"

// SymbolIndexItem is a symbol's item in the symbols index (hash
// SymbolsIndex, range SymbolIndexKey(Symbol)).
type SymbolIndexItem struct {
	Symbol    string `dynamodbav:"name"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}
