package marketdata

// StateSortKey is the range key of every latest-state item (hash StateKey).
const StateSortKey = "0"

// Attributes of a latest-state item, besides the key, AttrUpdatedAt and
// AttrExpiresAt. The processor maintains them with conditional updates.
const (
	// AttrLastKey is the range key of the latest point seen (N). "Latest" is
	// the greatest range key, i.e. the latest millisecond, ties broken by the
	// key's discriminator, so every writer agrees whatever order points
	// arrive in. A bar counts as its close: the key of its last
	// millisecond with the bar key's discriminator (not a raw item's key).
	AttrLastKey    = "lastKey"
	AttrLastPrice  = "lastPrice" // N, price of the latest point
	AttrLastMillis = "lastMs"    // N, epoch ms of the latest point
	// AttrPointCount counts points processed (N). Delivery is at least
	// once, so a redelivered message adds its points again: it is a
	// throughput figure, not an exact count of stored points.
	AttrPointCount = "points"
)
