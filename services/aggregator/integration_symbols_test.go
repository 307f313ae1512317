//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// apiGet invokes the handler with a GET of route as API Gateway sends it.
func (e *env) apiGet(route marketdata.Route, params, query map[string]string) events.APIGatewayProxyResponse {
	e.t.Helper()
	raw, _ := json.Marshal(events.APIGatewayProxyRequest{Resource: route.Path, HTTPMethod: route.Method,
		PathParameters: params, QueryStringParameters: query,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r"}})
	out, err := e.h.Invoke(e.ctx, raw)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.(events.APIGatewayProxyResponse)
}

// TestIntegrationSymbols: GET /symbols pages through the symbols index in
// symbol order (the index's numeric range keys, compared by DynamoDB) with
// each symbol's latest state from one BatchGetItem; GET
// /symbols/{symbol}/latest reads one state.
func TestIntegrationSymbols(t *testing.T) {
	e := setup(t)
	syms := []string{"MSFT", "A", "BRK.B", "AA", "BRK-B", "Z9", "BTC-USD"}
	exp := strconv.FormatInt(marketdata.ExpiresAt(time.Now()), 10)
	latest := map[string]marketdata.Latest{}
	for i, s := range syms {
		k, err := marketdata.SymbolIndexKey(s)
		if err != nil {
			t.Fatal(err)
		}
		e.putItem(map[string]types.AttributeValue{
			marketdata.AttrSymbol: &types.AttributeValueMemberS{Value: marketdata.SymbolsIndex}, marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: k},
			marketdata.AttrIndexedSymbol: &types.AttributeValueMemberS{Value: s}, marketdata.AttrExpiresAt: &types.AttributeValueMemberN{Value: exp},
		})
		if s == "Z9" {
			latest[s] = marketdata.Latest{Symbol: s} // its state expired
			continue
		}
		l := marketdata.Latest{Symbol: s, Price: 10.5 + float64(i), Timestamp: 1709649000000 + int64(i), UpdatedAt: 1709649000100 + int64(i)}
		latest[s] = l
		n := func(v string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: v} }
		e.putItem(map[string]types.AttributeValue{
			marketdata.AttrSymbol: &types.AttributeValueMemberS{Value: marketdata.StateKey(s)}, marketdata.AttrTimestamp: n(marketdata.StateSortKey),
			marketdata.AttrLastKey: n(fmt.Sprint(l.Timestamp) + ".5"), marketdata.AttrLastPrice: n(strconv.FormatFloat(l.Price, 'f', -1, 64)),
			marketdata.AttrLastMillis: n(fmt.Sprint(l.Timestamp)), marketdata.AttrPointCount: n("1"),
			marketdata.AttrUpdatedAt: n(fmt.Sprint(l.UpdatedAt)), marketdata.AttrExpiresAt: n(exp),
		})
	}
	sorted := slices.Sorted(slices.Values(syms))
	var got []marketdata.Latest
	q := map[string]string{"limit": "3"}
	for pages := 1; ; pages++ {
		resp := e.apiGet(marketdata.RouteSymbols, nil, q)
		var page marketdata.SymbolsResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &page) != nil {
			t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
		}
		got = append(got, page.Symbols...)
		if page.Next == "" {
			if pages != 3 {
				t.Errorf("%d pages of 3 for 7 symbols", pages)
			}
			break
		}
		q["next"] = page.Next
	}
	var want []marketdata.Latest
	for _, s := range sorted {
		want = append(want, latest[s])
	}
	if !slices.Equal(got, want) {
		t.Errorf("GET /symbols pages\n got %+v\nwant %+v", got, want)
	}

	resp := e.apiGet(marketdata.RouteLatest, map[string]string{"symbol": "BRK.B"}, nil)
	var l marketdata.Latest
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &l) != nil || l != latest["BRK.B"] {
		t.Errorf("latest BRK.B: %d %s, want %+v", resp.StatusCode, resp.Body, latest["BRK.B"])
	}
	if resp := e.apiGet(marketdata.RouteLatest, map[string]string{"symbol": "Z9"}, nil); resp.StatusCode != 404 {
		t.Errorf("latest of a symbol without state: %d %s", resp.StatusCode, resp.Body)
	}
}
