// Package report accounts for the records of one input (an S3 object or an
// API request) and keeps the ingestion report item of an S3 object version
// in the table.
package report

import (
	"github.com/marketanalytics/pipeline/services/platform/apiresp"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// MaxReasonBytes bounds one listed reason.
const MaxReasonBytes = 256

// entryOverhead approximates what a listed rejection costs besides its reason
// (the index, the attribute or JSON names, the structure).
const entryOverhead = 40

// Collector counts accepted and rejected records and keeps the rejections,
// in order, up to a byte budget. Every rejection is counted per category
// whether listed or not, so the counts always account for every record.
type Collector struct {
	Accepted int64
	Rejected int64
	// Rejections lists the first rejections that fit the budget.
	Rejections []marketdata.Rejection
	// Omitted is the number of rejections counted but not listed.
	Omitted int64
	// Reasons counts rejections per category.
	Reasons map[string]int64
	// Units counts the accepted points by the unit their timestamp was read
	// in (s, ms, us, ns or rfc3339).
	Units map[string]int64

	budget, used int
}

// NewCollector returns a collector listing rejections within budget bytes.
func NewCollector(budget int) *Collector {
	return &Collector{budget: budget, Reasons: map[string]int64{}, Units: map[string]int64{}, Rejections: []marketdata.Rejection{}}
}

// Accept counts n accepted records.
func (c *Collector) Accept(n int64) { c.Accepted += n }

// AcceptPoint counts one accepted record whose timestamp was read in unit.
func (c *Collector) AcceptPoint(unit string) {
	c.Accepted++
	if unit != "" {
		if c.Units == nil {
			c.Units = map[string]int64{}
		}
		c.Units[unit]++
	}
}

// Reject counts one rejected record at index, of category, with reason.
func (c *Collector) Reject(index int64, category, reason string) {
	c.Rejected++
	c.Reasons[category]++
	cost := entryOverhead + min(len(reason), MaxReasonBytes)
	if c.Omitted > 0 || c.used+cost > c.budget {
		c.Omitted++
		return
	}
	c.used += cost
	c.Rejections = append(c.Rejections, marketdata.Rejection{Index: index, Reason: apiresp.Clip(reason, MaxReasonBytes)})
}

// RejectRange counts n rejected records of one category that share a
// reason (the points of a message the queue refused), listing one entry for
// them at the first index.
func (c *Collector) RejectRange(first int64, n int64, category, reason string) {
	if n <= 0 {
		return
	}
	c.Reject(first, category, reason)
	c.Rejected += n - 1
	c.Reasons[category] += n - 1
}
