package marketdata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimestampUnit is a unit an integer epoch timestamp may be written in, with
// the magnitudes read in that unit.
type TimestampUnit struct {
	// Name is the unit's short name as reports count it: s, ms, us or ns.
	Name string
	// Min and Max bound (inclusive) the integers read in this unit.
	Min, Max int64
	// PerMilli is how many of the unit make a millisecond (s: 0, meaning a
	// millisecond is a thousandth of it).
	PerMilli int64
}

// TimestampUnits are the units an integer timestamp is inferred from by its
// magnitude alone: seconds have 9-10 digits, milliseconds 12-13, microseconds
// 15-16, nanoseconds 18-19. Each unit so covers 1973-03-03T09:46:40Z
// (10^8 s) to 2286-11-20 (nanoseconds: to int64's end, 2262-04-11), every
// plausible market date, and no integer fits two units. The digit counts in
// between (11, 14, 17) and anything below 10^8 fit none and are refused:
// 1709303400 (2024-03-01 in seconds) is read as seconds, never as
// milliseconds in January 1970, and a seconds value with a digit too many is
// refused instead of read as 1970 milliseconds. Sub-millisecond units are
// truncated to the millisecond a Point holds, their rest kept for ordering
// (Point.SubMilliNanos). Validate then applies the
// contract's "not before 1970, at most a day ahead" to the result.
var TimestampUnits = [...]TimestampUnit{
	{Name: "s", Min: 1e8, Max: 1e10 - 1},
	{Name: "ms", Min: 1e11, Max: 1e13 - 1, PerMilli: 1},
	{Name: "us", Min: 1e14, Max: 1e16 - 1, PerMilli: 1e3},
	{Name: "ns", Min: 1e17, Max: math.MaxInt64, PerMilli: 1e6},
}

// EpochMillis reads the integer epoch timestamp n by its magnitude (see
// TimestampUnits) and returns it in milliseconds and the name of the unit it
// was read in, with the nanoseconds within that millisecond a µs or ns
// value holds beyond it (Point.SubMilliNanos; n >= 0 here, so the
// milliseconds are truncated toward the past); ok is false when n fits no
// unit.
func EpochMillis(n int64) (ms int64, subNanos int32, unit string, ok bool) {
	for _, u := range &TimestampUnits {
		if n >= u.Min && n <= u.Max {
			if u.PerMilli == 0 {
				return n * 1000, 0, u.Name, true
			}
			return n / u.PerMilli, int32(n % u.PerMilli * (NanosPerMilli / u.PerMilli)), u.Name, true
		}
	}
	return 0, 0, "", false
}

// Digits returns the fewest and most decimal digits of the unit's integers.
func (u TimestampUnit) Digits() (lo, hi int) {
	return len(strconv.FormatInt(u.Min, 10)), len(strconv.FormatInt(u.Max, 10))
}

// Span returns the first and last instants the unit's integers name.
func (u TimestampUnit) Span() (first, last time.Time) {
	at := func(n int64) time.Time {
		switch u.PerMilli {
		case 0:
			return time.Unix(n, 0).UTC()
		case 1:
			return time.UnixMilli(n).UTC()
		case 1e3:
			return time.UnixMicro(n).UTC()
		default:
			return time.Unix(0, n).UTC()
		}
	}
	return at(u.Min), at(u.Max)
}

// TimestampUnitsHelp describes the accepted integer timestamps for a
// refusal's reason and the README, e.g. "epoch s (9-10 digits), ms (12-13
// digits), ...".
func TimestampUnitsHelp() string {
	parts := make([]string, len(TimestampUnits))
	for i, u := range TimestampUnits {
		lo, hi := u.Digits()
		parts[i] = fmt.Sprintf("%s (%d-%d digits)", u.Name, lo, hi)
	}
	return "an epoch integer in " + strings.Join(parts, ", ")
}

// TimestampUnitsTable renders the units as the Markdown table rows the
// README's data contract holds (a test compares them).
func TimestampUnitsTable() []string {
	rows := make([]string, len(TimestampUnits))
	for i, u := range TimestampUnits {
		lo, hi := u.Digits()
		first, last := u.Span()
		rows[i] = fmt.Sprintf("| `%s` | %d–%d | %d to %d | %s to %s |", u.Name, lo, hi, u.Min, u.Max,
			first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	return rows
}
