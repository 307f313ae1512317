// Package localclient is what a user of the local pipeline does from the
// outside: signed calls to the REST API, uploads to the bucket, and reading
// the table (raw points, aggregates, ingestion reports) with the key design
// of shared/marketdata. The loader of `mage local` and the end-to-end tests
// use it.
package localclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/tools/internal/awsx"
)

// Response is an HTTP answer.
type Response struct {
	Status int
	Body   []byte
}

// Sign signs req for execute-api with the local credentials (SigV4), as
// `curl --aws-sigv4` or an SDK would.
func Sign(req *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	creds, err := awsx.Credentials().Retrieve(req.Context())
	if err != nil {
		return err
	}
	return v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "execute-api", naming.Region, time.Now())
}

// Do sends one request to the API; signed says whether to sign it.
func Do(ctx context.Context, method, u string, body []byte, contentType string, signed bool) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if signed {
		if err := Sign(req, body); err != nil {
			return Response{}, err
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: b}, err
}

// PostIngest sends a signed POST /ingest with a JSON body.
func PostIngest(ctx context.Context, stageURL string, body []byte) (Response, error) {
	return Do(ctx, http.MethodPost, stageURL+marketdata.APIIngestResource, body, "application/json", true)
}

// GetAggregates sends a signed GET /aggregates/{symbol}?from=&to= (from and
// to omitted when zero).
func GetAggregates(ctx context.Context, stageURL, symbol string, from, to int64) (Response, error) {
	u := stageURL + "/" + marketdata.APIAggregatesPart + "/" + url.PathEscape(symbol)
	q := url.Values{}
	if from != 0 {
		q.Set(marketdata.APIQueryFrom, strconv.FormatInt(from, 10))
	}
	if to != 0 {
		q.Set(marketdata.APIQueryTo, strconv.FormatInt(to, 10))
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return Do(ctx, http.MethodGet, u, nil, "", true)
}

// Table reads the pipeline's table.
type Table struct {
	DB   *dynamodb.Client
	Name string
}

// CountPoints counts the raw points of symbol with from <= timestamp < to (ms).
func (t Table) CountPoints(ctx context.Context, symbol string, from, to int64) (int64, error) {
	lo, hi := marketdata.MillisRange(from, to)
	var n int64
	var start map[string]types.AttributeValue
	for {
		out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(t.Name),
			KeyConditionExpression:   aws.String("#s = :s AND #t BETWEEN :lo AND :hi"),
			ExpressionAttributeNames: map[string]string{"#s": marketdata.AttrSymbol, "#t": marketdata.AttrTimestamp},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": &types.AttributeValueMemberS{Value: symbol}, ":lo": &types.AttributeValueMemberN{Value: lo}, ":hi": &types.AttributeValueMemberN{Value: hi},
			},
			Select: types.SelectCount, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return 0, err
		}
		n += int64(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		start = out.LastEvaluatedKey
	}
}

// Points returns the raw points of symbol with from <= timestamp < to.
func (t Table) Points(ctx context.Context, symbol string, from, to int64) ([]marketdata.Point, error) {
	lo, hi := marketdata.MillisRange(from, to)
	var pts []marketdata.Point
	var start map[string]types.AttributeValue
	for {
		out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(t.Name),
			KeyConditionExpression:   aws.String("#s = :s AND #t BETWEEN :lo AND :hi"),
			ExpressionAttributeNames: map[string]string{"#s": marketdata.AttrSymbol, "#t": marketdata.AttrTimestamp},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": &types.AttributeValueMemberS{Value: symbol}, ":lo": &types.AttributeValueMemberN{Value: lo}, ":hi": &types.AttributeValueMemberN{Value: hi},
			},
			ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			pts = append(pts, decodePoint(it))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return pts, nil
		}
		start = out.LastEvaluatedKey
	}
}

// Aggregates returns the stored aggregates of symbol, by window start.
func (t Table) Aggregates(ctx context.Context, symbol string) ([]marketdata.Aggregate, error) {
	var aggs []marketdata.Aggregate
	var start map[string]types.AttributeValue
	for {
		out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(t.Name),
			KeyConditionExpression:    aws.String("#s = :s"),
			ExpressionAttributeNames:  map[string]string{"#s": marketdata.AttrSymbol},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: marketdata.AggregateKey(symbol)}},
			ExclusiveStartKey:         start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			a, err := decodeAggregate(symbol, it)
			if err != nil {
				return nil, err
			}
			aggs = append(aggs, a)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return aggs, nil
		}
		start = out.LastEvaluatedKey
	}
}

// decodePoint reads a raw point item (attribute names from shared/marketdata).
func decodePoint(it map[string]types.AttributeValue) marketdata.Point {
	str := func(name string) string {
		v, _ := it[name].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	num := func(name string) float64 {
		v, _ := it[name].(*types.AttributeValueMemberN)
		if v == nil {
			return 0
		}
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	}
	return marketdata.Point{
		Symbol: str(marketdata.AttrSymbol), Timestamp: int64(num(marketdata.AttrMillis)), Price: num(marketdata.AttrPrice),
		Volume: int64(num(marketdata.AttrVolume)), Bid: num(marketdata.AttrBid), Ask: num(marketdata.AttrAsk),
		Exchange: str(marketdata.AttrExchange),
	}
}

func decodeAggregate(symbol string, it map[string]types.AttributeValue) (marketdata.Aggregate, error) {
	num := func(name string) (float64, error) {
		v, ok := it[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0, fmt.Errorf("aggregate item of %s has no number %q", symbol, name)
		}
		return strconv.ParseFloat(v.Value, 64)
	}
	var a marketdata.Aggregate
	a.Symbol = symbol
	fields := []struct {
		name string
		f    *float64
		i    *int64
	}{
		{marketdata.AttrTimestamp, nil, &a.WindowStart}, {marketdata.AttrWindowEnd, nil, &a.WindowEnd},
		{marketdata.AttrOpen, &a.Open, nil}, {marketdata.AttrHigh, &a.High, nil}, {marketdata.AttrLow, &a.Low, nil},
		{marketdata.AttrClose, &a.Close, nil}, {marketdata.AttrVolume, nil, &a.Volume}, {marketdata.AttrVWAP, &a.VWAP, nil},
		{marketdata.AttrTrades, nil, &a.Trades}, {marketdata.AttrFirstTs, nil, &a.FirstTs}, {marketdata.AttrLastTs, nil, &a.LastTs},
		{marketdata.AttrUpdatedAt, nil, &a.UpdatedAt},
	}
	for _, f := range fields {
		v, err := num(f.name)
		if err != nil {
			return a, err
		}
		if f.f != nil {
			*f.f = v
		} else {
			*f.i = int64(v)
		}
	}
	return a, nil
}

// Reports returns the ingestion report items of an object (all its
// versions), as plain maps.
func (t Table) Reports(ctx context.Context, bucket, key string) ([]map[string]any, error) {
	hash, _ := marketdata.ReportKey(bucket, key, "")
	out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(t.Name),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": marketdata.AttrSymbol},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: hash}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	var reps []map[string]any
	for _, it := range out.Items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			return nil, err
		}
		reps = append(reps, m)
	}
	return reps, nil
}

// HasAggregate reports whether the aggregate of symbol's window starting at
// start (ms) is stored.
func (t Table) HasAggregate(ctx context.Context, symbol string, start int64) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.AggregateKey(symbol)},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: strconv.FormatInt(start, 10)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}

// ActiveSymbols returns the symbols the processor listed in the ACTIVE5M
// index (the pipeline's own way to find symbols without a Scan).
func (t Table) ActiveSymbols(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var start map[string]types.AttributeValue
	for {
		out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(t.Name),
			KeyConditionExpression:    aws.String("#s = :s"),
			ExpressionAttributeNames:  map[string]string{"#s": marketdata.AttrSymbol},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: marketdata.ActiveWindows}},
			ExclusiveStartKey:         start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			if ss, ok := it[marketdata.AttrActiveSymbols].(*types.AttributeValueMemberSS); ok {
				for _, s := range ss.Value {
					seen[s] = true
				}
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	syms := make([]string, 0, len(seen))
	for s := range seen {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	return syms, nil
}

// StateCount returns the number of points the processor has written for
// symbol, from its latest-state item (one GetItem; re-deliveries count again).
func (t Table) StateCount(ctx context.Context, symbol string) (int64, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name),
		Key: map[string]types.AttributeValue{
			marketdata.AttrSymbol:    &types.AttributeValueMemberS{Value: marketdata.StateKey(symbol)},
			marketdata.AttrTimestamp: &types.AttributeValueMemberN{Value: marketdata.StateSortKey},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, err
	}
	n, ok := out.Item[marketdata.AttrPointCount].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(n.Value, 10, 64)
}
