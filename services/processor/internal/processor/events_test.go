package processor

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

func changesOf(n int) []windowChange {
	out := make([]windowChange, n)
	for i := range out {
		out[i] = windowChange{
			ref:  marketdata.WindowRef{Symbol: fmt.Sprintf("SYM%05d.LONGNAME", i/7), Start: 1772463600000 + int64(i%7)*300_000},
			msgs: []int{i % 10},
		}
	}
	return out
}

func TestPack(t *testing.T) {
	tests := []struct {
		name        string
		windows     int
		minPerEntry int
		wantCalls   int
		wantEntries []int // per call; nil: don't check
	}{
		{"one window", 1, 50, 1, []int{1}},
		{"fewer than the minimum share one entry", 49, 50, 1, []int{1}},
		{"spread over entries of at least the minimum", 120, 50, 1, []int{3}},
		{"up to ten entries per call", 1000, 50, 1, []int{10}},
		{"one window per entry", 7, 1, 1, []int{7}},
		{"one window per entry, more than ten", 23, 1, 1, []int{8}}, // ceil(23/10)=3 per entry
		{"thousands of windows still take one call", 4000, 50, 1, []int{10}},
		{"beyond the request size: more calls", 20000, 50, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := changesOf(tc.windows)
			calls := pack(in, tc.minPerEntry)
			index := map[marketdata.WindowRef]int{}
			for i, c := range in {
				index[c.ref] = i
			}
			if len(calls) != tc.wantCalls {
				t.Fatalf("%d calls, want %d", len(calls), tc.wantCalls)
			}
			var seen []marketdata.WindowRef
			for c, entries := range calls {
				if tc.wantEntries != nil && len(entries) != tc.wantEntries[c] {
					t.Errorf("call %d has %d entries, want %d", c, len(entries), tc.wantEntries[c])
				}
				if len(entries) == 0 || len(entries) > limits.EventBridgePutEntries {
					t.Fatalf("call %d has %d entries", c, len(entries))
				}
				size := 0
				for _, e := range entries {
					size += entrySize(e.detail)
					var d marketdata.WindowsChanged
					if err := json.Unmarshal([]byte(e.detail), &d); err != nil {
						t.Fatalf("detail %q: %v", e.detail, err)
					}
					var want []int
					for _, w := range d.Windows {
						want = append(want, in[index[w]].msgs...)
					}
					slices.Sort(want)
					if !slices.Equal(e.msgs, slices.Compact(want)) {
						t.Fatalf("entry messages %v, want %v", e.msgs, want)
					}
					seen = append(seen, d.Windows...)
				}
				if size >= limits.EventBridgeEntryBytes {
					t.Fatalf("call %d carries %d bytes, limit %d", c, size, limits.EventBridgeEntryBytes)
				}
			}
			var want []marketdata.WindowRef
			for _, c := range in {
				want = append(want, c.ref)
			}
			if !slices.Equal(seen, want) {
				t.Fatalf("windows in the events differ from the input (%d vs %d)", len(seen), len(want))
			}
		})
	}
}
