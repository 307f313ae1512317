package handler

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/marketanalytics/pipeline/services/aggregator/internal/ohlcv"
	"github.com/marketanalytics/pipeline/shared/conditions"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// fakeStore is an in-memory Store: raw ticks per symbol, aggregates, ACTIVE5M
// sets, latest-state symbols, and injectable failures.
type fakeStore struct {
	mu      sync.Mutex
	ticks   map[string][]ohlcv.Tick
	aggs    map[marketdata.WindowRef]marketdata.Aggregate
	active  map[int64][]string
	state   map[string]bool
	failSum map[marketdata.WindowRef]error
	failPut error
	failAll error // every method fails

	summaries    []marketdata.WindowRef
	rawSummaries []marketdata.WindowRef
	activeCalls  [][2]int64
	aggCalls     [][2]int64
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		ticks:   map[string][]ohlcv.Tick{},
		aggs:    map[marketdata.WindowRef]marketdata.Aggregate{},
		active:  map[int64][]string{},
		state:   map[string]bool{},
		failSum: map[marketdata.WindowRef]error{},
	}
}

// WindowSummary serves the window as if each of its ticks were a partial
// of its own; RawWindowSummary folds the ticks. Both count as one read per
// tick; rawSummaries records the from-raw calls.
func (s *fakeStore) WindowSummary(_ context.Context, symbol string, start int64) (ohlcv.Summary, int64, bool, error) {
	return s.summary(symbol, start, false)
}

func (s *fakeStore) RawWindowSummary(_ context.Context, symbol string, start int64) (ohlcv.Summary, int64, bool, error) {
	return s.summary(symbol, start, true)
}

func (s *fakeStore) summary(symbol string, start int64, raw bool) (ohlcv.Summary, int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := marketdata.WindowRef{Symbol: symbol, Start: start}
	s.summaries = append(s.summaries, ref)
	if raw {
		s.rawSummaries = append(s.rawSummaries, ref)
	}
	if s.failAll != nil {
		return ohlcv.Summary{}, 0, false, s.failAll
	}
	if err := s.failSum[ref]; err != nil {
		return ohlcv.Summary{}, 0, false, err
	}
	var acc ohlcv.Accumulator
	var read int64
	for _, t := range s.ticks[symbol] {
		if t.Millis >= start && t.Millis < marketdata.WindowEnd(start) {
			read++
			if raw {
				if err := acc.Add(t); err != nil {
					return ohlcv.Summary{}, read, false, err
				}
				continue
			}
			eff, err := conditions.Of(t.Conditions)
			if err != nil {
				return ohlcv.Summary{}, read, false, err
			}
			var p marketdata.Partial
			p.AddEffect(t.Millis, t.Disc, t.Price, t.Volume, eff)
			acc.Merge(&p)
		}
	}
	sum, ok := acc.Summary()
	return sum, read, ok, nil
}

// PutAggregate applies the same guard as table.PutAggregate.
func (s *fakeStore) PutAggregate(_ context.Context, a marketdata.Aggregate) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPut != nil {
		return false, s.failPut
	}
	ref := marketdata.WindowRef{Symbol: a.Symbol, Start: a.WindowStart}
	if old, ok := s.aggs[ref]; ok && old.Trades > a.Trades {
		return false, nil
	}
	s.aggs[ref] = a
	return true, nil
}

func (s *fakeStore) ReplaceAggregate(_ context.Context, a marketdata.Aggregate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPut != nil {
		return s.failPut
	}
	s.aggs[marketdata.WindowRef{Symbol: a.Symbol, Start: a.WindowStart}] = a
	return nil
}

func (s *fakeStore) ActiveWindows(_ context.Context, from, to int64) ([]marketdata.WindowRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.activeCalls = append(s.activeCalls, [2]int64{from, to})
	if s.failAll != nil {
		return nil, s.failAll
	}
	var refs []marketdata.WindowRef
	for start, syms := range s.active {
		if start >= from && start <= to {
			for _, sym := range syms {
				refs = append(refs, marketdata.WindowRef{Symbol: sym, Start: start})
			}
		}
	}
	return refs, nil
}

func (s *fakeStore) Aggregates(_ context.Context, symbol string, from, to int64) ([]marketdata.Aggregate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aggCalls = append(s.aggCalls, [2]int64{from, to})
	if s.failAll != nil {
		return nil, s.failAll
	}
	out := []marketdata.Aggregate{}
	for ref, a := range s.aggs {
		if ref.Symbol == symbol && ref.Start >= from && ref.Start <= to {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b marketdata.Aggregate) int { return int(a.WindowStart - b.WindowStart) })
	return out, nil
}

func (s *fakeStore) SymbolKnown(_ context.Context, symbol string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll != nil {
		return false, s.failAll
	}
	if s.state[symbol] {
		return true, nil
	}
	for ref := range s.aggs {
		if ref.Symbol == symbol {
			return true, nil
		}
	}
	return false, nil
}

// fakeMetrics records PutMetricData calls.
type fakeMetrics struct {
	mu    sync.Mutex
	calls []*cloudwatch.PutMetricDataInput
	err   error
}

func (m *fakeMetrics) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, in)
	if m.err != nil {
		return nil, m.err
	}
	return &cloudwatch.PutMetricDataOutput{}, nil
}

var errBoom = errors.New("boom: arn:aws:dynamodb:us-east-1:123456789012:table/secret throttled")
