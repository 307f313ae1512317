package marketdata

import (
	"fmt"
	"strconv"
)

// ParseSortKey splits a raw point's range key into its epoch millisecond and
// its discriminator scaled to sortKeyDigits digits (the fraction × 10^18), so
// that comparing (ms, disc) pairs orders keys exactly as DynamoDB orders them
// as numbers, without comparing strings. A key without a fraction has
// discriminator 0.
func ParseSortKey(key string) (ms int64, disc uint64, err error) {
	intPart, frac := key, ""
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			intPart, frac = key[:i], key[i+1:]
			break
		}
	}
	ms, err = strconv.ParseInt(intPart, 10, 64)
	if err != nil || ms < 0 || intPart[0] == '+' {
		return 0, 0, fmt.Errorf("%w %q: want <epoch ms>.<discriminator>", ErrSortKey, clip(key))
	}
	if len(frac) > sortKeyDigits {
		return 0, 0, fmt.Errorf("%w %q: more than %d digits after the point", ErrSortKey, clip(key), sortKeyDigits)
	}
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, 0, fmt.Errorf("%w %q: want digits after the point", ErrSortKey, clip(key))
		}
		disc = disc*10 + uint64(c-'0')
	}
	for range sortKeyDigits - len(frac) {
		disc *= 10
	}
	return ms, disc, nil
}
