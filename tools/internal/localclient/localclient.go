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
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/services/platform/ddbitem"
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

// Table reads the pipeline's table. It decodes items with the item types of
// shared/marketdata, as the services do.
type Table struct {
	DB   *dynamodb.Client
	Name string
}

// queryItems runs a strongly consistent Query page by page and calls each
// for every item, stopping at the first error.
func (t Table) queryItems(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	in.TableName, in.ConsistentRead = aws.String(t.Name), aws.Bool(true)
	pages := dynamodb.NewQueryPaginator(t.DB, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			if err := each(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// pointsInput queries the raw points of symbol with from <= timestamp < to.
func pointsInput(symbol string, from, to int64) *dynamodb.QueryInput {
	lo, hi := marketdata.MillisRange(from, to)
	return &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#s = :s AND #t BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#s": marketdata.AttrSymbol, "#t": marketdata.AttrTimestamp},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": &types.AttributeValueMemberS{Value: symbol}, ":lo": &types.AttributeValueMemberN{Value: lo}, ":hi": &types.AttributeValueMemberN{Value: hi},
		},
	}
}

// partition queries every item of hash key hash.
func partition(hash string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": marketdata.AttrSymbol},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: hash}},
	}
}

// count runs a strongly consistent counting Query page by page and sums
// the pages' counts.
func (t Table) count(ctx context.Context, in *dynamodb.QueryInput) (int64, error) {
	in.TableName, in.ConsistentRead, in.Select = aws.String(t.Name), aws.Bool(true), types.SelectCount
	var n int64
	pages := dynamodb.NewQueryPaginator(t.DB, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int64(out.Count)
	}
	return n, nil
}

// CountPoints counts the raw points of symbol with from <= timestamp < to (ms).
func (t Table) CountPoints(ctx context.Context, symbol string, from, to int64) (int64, error) {
	return t.count(ctx, pointsInput(symbol, from, to))
}

// CountPartials counts the partial aggregates of symbol (every window).
func (t Table) CountPartials(ctx context.Context, symbol string) (int64, error) {
	return t.count(ctx, partition(marketdata.PartialKey(symbol)))
}

// Points returns the raw points of symbol with from <= timestamp < to.
func (t Table) Points(ctx context.Context, symbol string, from, to int64) ([]marketdata.Point, error) {
	var pts []marketdata.Point
	err := t.queryItems(ctx, pointsInput(symbol, from, to), func(it map[string]types.AttributeValue) error {
		var p marketdata.RawPointItem
		if err := ddbitem.Decode(it, &p); err != nil {
			return fmt.Errorf("raw point of %s: %w", symbol, err)
		}
		pts = append(pts, p.Point)
		return nil
	})
	return pts, err
}

// Bars returns the raw bars of symbol (marketdata.RawBarItem, under
// marketdata.BarKey) starting from <= start < to, by range key.
func (t Table) Bars(ctx context.Context, symbol string, from, to int64) ([]marketdata.Bar, error) {
	var bars []marketdata.Bar
	err := t.queryItems(ctx, pointsInput(marketdata.BarKey(symbol), from, to), func(it map[string]types.AttributeValue) error {
		b, err := ddbitem.DecodeBar(it)
		if err != nil {
			return fmt.Errorf("raw bar of %s: %w", symbol, err)
		}
		bars = append(bars, b.Bar)
		return nil
	})
	return bars, err
}

// Aggregates returns the stored aggregates of symbol, by window start.
func (t Table) Aggregates(ctx context.Context, symbol string) ([]marketdata.Aggregate, error) {
	var aggs []marketdata.Aggregate
	err := t.queryItems(ctx, partition(marketdata.AggregateKey(symbol)), func(it map[string]types.AttributeValue) error {
		var item marketdata.AggregateItem
		if err := ddbitem.Decode(it, &item); err != nil {
			return fmt.Errorf("aggregate item of %s: %w", symbol, err)
		}
		a, err := item.Value()
		if err != nil {
			return err
		}
		aggs = append(aggs, a)
		return nil
	})
	return aggs, err
}

// LastAggregate returns symbol's latest stored window (one Query of one
// item, newest first), or ok false when it has none.
func (t Table) LastAggregate(ctx context.Context, symbol string) (a marketdata.Aggregate, ok bool, err error) {
	in := partition(marketdata.AggregateKey(symbol))
	in.TableName, in.ConsistentRead = aws.String(t.Name), aws.Bool(true)
	in.ScanIndexForward, in.Limit = aws.Bool(false), aws.Int32(1)
	out, err := t.DB.Query(ctx, in)
	if err != nil || len(out.Items) == 0 {
		return a, false, err
	}
	var item marketdata.AggregateItem
	if err := ddbitem.Decode(out.Items[0], &item); err != nil {
		return a, false, fmt.Errorf("aggregate item of %s: %w", symbol, err)
	}
	a, err = item.Value()
	return a, err == nil, err
}

// Reports returns the ingestion reports of an object (all its versions).
func (t Table) Reports(ctx context.Context, bucket, key string) ([]marketdata.IngestionReport, error) {
	hash, _ := marketdata.ReportKey(bucket, key, "") // the hash key does not depend on the version
	var reps []marketdata.IngestionReport
	err := t.queryItems(ctx, partition(hash), func(it map[string]types.AttributeValue) error {
		// Not decodeItem: a claim in progress has only the claim's attributes.
		var r marketdata.IngestionReport
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			return fmt.Errorf("ingestion report of s3://%s/%s: %w", bucket, key, err)
		}
		reps = append(reps, r)
		return nil
	})
	return reps, err
}

// HasAggregate reports whether the aggregate of symbol's window starting at
// start (ms) is stored.
func (t Table) HasAggregate(ctx context.Context, symbol string, start int64) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            ddbitem.Key(marketdata.AggregateKey(symbol), strconv.FormatInt(start, 10)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}

// ActiveSymbols returns the symbols the processor listed in the ACTIVE5M
// index: those with points in the windows the schedule still reads
// (marketdata.IndexHorizon).
func (t Table) ActiveSymbols(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	err := t.queryItems(ctx, partition(marketdata.ActiveWindows), func(it map[string]types.AttributeValue) error {
		var w marketdata.ActiveWindowItem
		if err := ddbitem.Decode(it, &w); err != nil {
			return fmt.Errorf("%s item: %w", marketdata.ActiveWindows, err)
		}
		for _, s := range w.Symbols {
			seen[s] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// Symbols returns every symbol the processor has stored points for, from
// the symbols index (marketdata.SymbolsIndex): one partition, in symbol
// order, no Scan.
func (t Table) Symbols(ctx context.Context) ([]string, error) {
	var syms []string
	err := t.queryItems(ctx, partition(marketdata.SymbolsIndex), func(it map[string]types.AttributeValue) error {
		var s marketdata.SymbolIndexItem
		if err := ddbitem.Decode(it, &s); err != nil {
			return fmt.Errorf("%s item: %w", marketdata.SymbolsIndex, err)
		}
		syms = append(syms, s.Symbol)
		return nil
	})
	return syms, err
}

// StateCount returns the number of points the processor has written for
// symbol, from its latest-state item (one GetItem; re-deliveries count
// again), or 0 when the symbol has none yet.
func (t Table) StateCount(ctx context.Context, symbol string) (int64, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            ddbitem.StateKey(symbol),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(out.Item) == 0 {
		return 0, err
	}
	var st marketdata.StateItem
	if err := ddbitem.Decode(out.Item, &st); err != nil {
		return 0, fmt.Errorf("latest state of %s: %w", symbol, err)
	}
	return st.Points, nil
}
