package marketdata

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrSortKey means a range key is not one SortKey could have produced for
// the point it came with.
var ErrSortKey = errors.New("invalid range key")

// CheckSortKey reports whether key has the form SortKey gives a point of
// millisecond ms: the decimal ms, a '.', and 1 to 18 digits not ending in 0.
// The processor checks the keys it receives, so a malformed one fails its
// message alone instead of the whole BatchWriteItem request it would share.
func CheckSortKey(key string, ms int64) error {
	var buf [20]byte
	prefix := strconv.AppendInt(buf[:0], ms, 10)
	if len(key) <= len(prefix) || key[:len(prefix)] != string(prefix) || key[len(prefix)] != '.' {
		return fmt.Errorf("%w %q: want %d.<discriminator>", ErrSortKey, clip(key), ms)
	}
	frac := key[len(prefix)+1:]
	if len(frac) == 0 || len(frac) > sortKeyDigits || frac[len(frac)-1] == '0' {
		return fmt.Errorf("%w %q: want 1-%d digits after the point, the last not 0", ErrSortKey, clip(key), sortKeyDigits)
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return fmt.Errorf("%w %q: want digits after the point", ErrSortKey, clip(key))
		}
	}
	return nil
}
