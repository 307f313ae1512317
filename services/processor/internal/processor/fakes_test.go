package processor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

const (
	testTable = "MarketDataState-test"
	testBus   = "MarketDataEvents-test"
)

type tableKey struct{ hash, rng string }

func keyOfItem(it map[string]dbtypes.AttributeValue) tableKey {
	return tableKey{
		hash: it[marketdata.AttrSymbol].(*dbtypes.AttributeValueMemberS).Value,
		rng:  it[marketdata.AttrTimestamp].(*dbtypes.AttributeValueMemberN).Value,
	}
}

// fakeDynamo is an in-memory table that honours what the processor asks of
// DynamoDB: BatchWriteItem (at most 25 puts, no duplicate keys) and
// UpdateItem with the SET/ADD expressions and the one condition it uses,
// rejecting unused expression names and values as DynamoDB does. It stores
// deep copies: the handler reuses its item maps.
type fakeDynamo struct {
	// Faults. unprocessed hands a put back unprocessed; sent counts how often
	// its key was sent, this time included. batchErr and updateErr fail a
	// whole request.
	unprocessed func(k tableKey, sent int) bool
	batchErr    func(keys []tableKey) error
	updateErr   func(k tableKey) error
	// delay makes every BatchWriteItem take that long (a slow or throttled
	// table), or fail with the context's error if it ends first.
	delay time.Duration

	mu           sync.Mutex
	items        map[tableKey]map[string]dbtypes.AttributeValue
	sent         map[tableKey]int
	batchCalls   int
	updateCalls  int
	batchSizes   []int
	updateInputs []*dynamodb.UpdateItemInput
}

func newFakeDynamo() *fakeDynamo {
	return &fakeDynamo{items: map[tableKey]map[string]dbtypes.AttributeValue{}, sent: map[tableKey]int{}}
}

func copyItem(it map[string]dbtypes.AttributeValue) map[string]dbtypes.AttributeValue {
	c := make(map[string]dbtypes.AttributeValue, len(it))
	for k, v := range it {
		switch v := v.(type) {
		case *dbtypes.AttributeValueMemberS:
			c[k] = &dbtypes.AttributeValueMemberS{Value: v.Value}
		case *dbtypes.AttributeValueMemberN:
			c[k] = &dbtypes.AttributeValueMemberN{Value: v.Value}
		case *dbtypes.AttributeValueMemberSS:
			c[k] = &dbtypes.AttributeValueMemberSS{Value: slices.Clone(v.Value)}
		default:
			panic(fmt.Sprintf("unexpected attribute type %T", v))
		}
	}
	return c
}

func (f *fakeDynamo) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	reqs, ok := in.RequestItems[testTable]
	if !ok || len(in.RequestItems) != 1 {
		return nil, errors.New("ResourceNotFoundException: wrong table")
	}
	if len(reqs) == 0 || len(reqs) > limits.DynamoBatchWriteItems {
		return nil, fmt.Errorf("ValidationException: %d requests", len(reqs))
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var keys []tableKey
	for _, r := range reqs {
		k := keyOfItem(r.PutRequest.Item)
		if slices.Contains(keys, k) {
			return nil, errors.New("ValidationException: Provided list of item keys contains duplicates")
		}
		keys = append(keys, k)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batchCalls++
	f.batchSizes = append(f.batchSizes, len(reqs))
	if f.batchErr != nil {
		if err := f.batchErr(keys); err != nil {
			return nil, err
		}
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]dbtypes.WriteRequest{}}
	for i, r := range reqs {
		f.sent[keys[i]]++
		if f.unprocessed != nil && f.unprocessed(keys[i], f.sent[keys[i]]) {
			out.UnprocessedItems[testTable] = append(out.UnprocessedItems[testTable],
				dbtypes.WriteRequest{PutRequest: &dbtypes.PutRequest{Item: copyItem(r.PutRequest.Item)}})
			continue
		}
		f.items[keys[i]] = copyItem(r.PutRequest.Item)
	}
	return out, nil
}

var (
	setClause  = regexp.MustCompile(`^(#\w+) = (:\w+)$`)
	addClause  = regexp.MustCompile(`^(#\w+) (:\w+)$`)
	newerThan  = regexp.MustCompile(`^attribute_not_exists\((#\w+)\) OR (#\w+) < (:\w+)$`)
	clauseWord = regexp.MustCompile(`\b(SET|ADD) `)
)

func (f *fakeDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if aws.ToString(in.TableName) != testTable {
		return nil, errors.New("ResourceNotFoundException: wrong table")
	}
	k := keyOfItem(in.Key)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updateCalls++
	f.updateInputs = append(f.updateInputs, in)
	if f.updateErr != nil {
		if err := f.updateErr(k); err != nil {
			return nil, err
		}
	}
	usedNames, usedValues := map[string]bool{}, map[string]bool{}
	name := func(n string) string { usedNames[n] = true; return in.ExpressionAttributeNames[n] }
	value := func(v string) dbtypes.AttributeValue { usedValues[v] = true; return in.ExpressionAttributeValues[v] }

	item := f.items[k]
	if in.ConditionExpression != nil {
		m := newerThan.FindStringSubmatch(*in.ConditionExpression)
		if m == nil || m[1] != m[2] {
			return nil, fmt.Errorf("fake: unsupported condition %q", *in.ConditionExpression)
		}
		attr, v := name(m[1]), value(m[3])
		if cur, ok := item[attr]; ok && num(cur).Cmp(num(v)) >= 0 {
			return nil, &dbtypes.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		}
	}
	next := map[string]dbtypes.AttributeValue{}
	if item != nil {
		next = copyItem(item)
	} else {
		for a, v := range in.Key {
			next[a] = v
		}
	}
	expr := aws.ToString(in.UpdateExpression)
	locs := clauseWord.FindAllStringSubmatchIndex(expr, -1)
	for i, loc := range locs {
		end := len(expr)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		for _, part := range strings.Split(strings.TrimSpace(expr[loc[1]:end]), ",") {
			part = strings.TrimSpace(part)
			switch expr[loc[2]:loc[3]] {
			case "SET":
				m := setClause.FindStringSubmatch(part)
				if m == nil {
					return nil, fmt.Errorf("fake: unsupported SET %q", part)
				}
				next[name(m[1])] = value(m[2])
			case "ADD":
				m := addClause.FindStringSubmatch(part)
				if m == nil {
					return nil, fmt.Errorf("fake: unsupported ADD %q", part)
				}
				attr, v := name(m[1]), value(m[2])
				switch v := v.(type) {
				case *dbtypes.AttributeValueMemberN:
					sum := num(v)
					if cur, ok := next[attr]; ok {
						sum.Add(sum, num(cur))
					}
					next[attr] = &dbtypes.AttributeValueMemberN{Value: sum.RatString()}
				case *dbtypes.AttributeValueMemberSS:
					var set []string
					if cur, ok := next[attr]; ok {
						set = slices.Clone(cur.(*dbtypes.AttributeValueMemberSS).Value)
					}
					for _, s := range v.Value {
						if !slices.Contains(set, s) {
							set = append(set, s)
						}
					}
					slices.Sort(set)
					next[attr] = &dbtypes.AttributeValueMemberSS{Value: set}
				default:
					return nil, fmt.Errorf("fake: ADD of %T", v)
				}
			}
		}
	}
	if len(usedNames) != len(in.ExpressionAttributeNames) || len(usedValues) != len(in.ExpressionAttributeValues) {
		return nil, errors.New("ValidationException: unused expression attribute names or values")
	}
	f.items[k] = copyItem(next)
	out := &dynamodb.UpdateItemOutput{}
	switch in.ReturnValues {
	case "", dbtypes.ReturnValueNone:
	case dbtypes.ReturnValueUpdatedOld:
		// The old values of the attributes the update names; none for a
		// new item.
		out.Attributes = map[string]dbtypes.AttributeValue{}
		for _, attr := range in.ExpressionAttributeNames {
			if v, ok := item[attr]; ok {
				out.Attributes[attr] = v
			}
		}
	default:
		return nil, fmt.Errorf("fake: unsupported ReturnValues %q", in.ReturnValues)
	}
	return out, nil
}

func num(v dbtypes.AttributeValue) *big.Rat {
	r, ok := new(big.Rat).SetString(v.(*dbtypes.AttributeValueMemberN).Value)
	if !ok {
		panic("not a number: " + v.(*dbtypes.AttributeValueMemberN).Value)
	}
	return r
}

func (f *fakeDynamo) item(hash, rng string) map[string]dbtypes.AttributeValue {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[tableKey{hash, rng}]
}

// partials decodes the stored partial items of symbol, by range key (the
// window's start, '.', the part of the message that wrote it).
func (f *fakeDynamo) partials(t *testing.T, symbol string) map[string]marketdata.PartialItem {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]marketdata.PartialItem{}
	for k, it := range f.items {
		if k.hash != marketdata.PartialKey(symbol) {
			continue
		}
		var pi marketdata.PartialItem
		if err := ddbitem.Decode(it, &pi); err != nil {
			t.Fatal(err)
		}
		out[k.rng] = pi
	}
	return out
}

// rawItems returns the stored raw point items, by key.
func (f *fakeDynamo) rawItems() map[tableKey]map[string]dbtypes.AttributeValue {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[tableKey]map[string]dbtypes.AttributeValue{}
	for k, it := range f.items {
		if !strings.Contains(k.hash, "#") {
			out[k] = it
		}
	}
	return out
}

// fakeEvents is EventBridge: it checks each call against the PutEvents
// limits and the event contract, and fails entries or calls on demand.
type fakeEvents struct {
	// failEntry returns an error code for an entry of call number call
	// (1-based), or "".
	failEntry func(call int, detail marketdata.WindowsChanged) string
	callErr   func(call int) error

	mu        sync.Mutex
	calls     int
	entries   []int // entries per call
	delivered []marketdata.WindowsChanged
}

func (f *fakeEvents) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.entries = append(f.entries, len(in.Entries))
	if len(in.Entries) == 0 || len(in.Entries) > limits.EventBridgePutEntries {
		return nil, fmt.Errorf("ValidationException: %d entries", len(in.Entries))
	}
	total := 0
	for _, e := range in.Entries {
		total += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	}
	if total >= limits.EventBridgeEntryBytes {
		return nil, errors.New("ValidationException: Total size of the entries in the request is over the limit")
	}
	if f.callErr != nil {
		if err := f.callErr(f.calls); err != nil {
			return nil, err
		}
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if aws.ToString(e.EventBusName) != testBus || aws.ToString(e.Source) != marketdata.EventSource ||
			aws.ToString(e.DetailType) != marketdata.EventDetailType {
			return nil, fmt.Errorf("fake: wrong bus, source or detail type: %+v", e)
		}
		var d marketdata.WindowsChanged
		dec := json.NewDecoder(strings.NewReader(aws.ToString(e.Detail)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil || len(d.Windows) == 0 {
			return nil, fmt.Errorf("fake: bad detail %q: %v", aws.ToString(e.Detail), err)
		}
		if f.failEntry != nil {
			if code := f.failEntry(f.calls, d); code != "" {
				out.FailedEntryCount++
				out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")})
				continue
			}
		}
		f.delivered = append(f.delivered, d)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("ev-%d", len(f.delivered)))})
	}
	return out, nil
}

// windows returns the delivered windows, sorted.
func (f *fakeEvents) windows() []marketdata.WindowRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []marketdata.WindowRef
	for _, d := range f.delivered {
		out = append(out, d.Windows...)
	}
	slices.SortFunc(out, compareRefs)
	return out
}

func compareRefs(a, b marketdata.WindowRef) int {
	return cmp.Or(strings.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Start, b.Start))
}
