package table

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// pagesDB serves the same pages to every Query sequence of the raw points'
// hash key key (the symbol), and nothing for any other (a window's raw
// bars).
type pagesDB struct {
	DynamoDB
	key   string
	pages [][]item
}

func (d *pagesDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if h, ok := in.ExpressionAttributeValues[":h"].(*types.AttributeValueMemberS); !ok || h.Value != d.key {
		return &dynamodb.QueryOutput{}, nil
	}
	i := 0
	if in.ExclusiveStartKey != nil {
		i, _ = strconv.Atoi(in.ExclusiveStartKey["page"].(*types.AttributeValueMemberN).Value)
	}
	out := &dynamodb.QueryOutput{Items: d.pages[i]}
	if i+1 < len(d.pages) {
		out.LastEvaluatedKey = item{"page": nv(strconv.Itoa(i + 1))}
	}
	return out, nil
}

// BenchmarkWindowSummary measures the from-raw read path of one window without the
// network: decoding the projected items of every page (range key, price,
// volume) and folding them in, as the Lambda does per point.
func BenchmarkWindowSummary(b *testing.B) {
	const perPage, pages = 1000, 50
	db := &pagesDB{key: "AAPL"}
	ms := w1430
	for range pages {
		var page []item
		for j := range perPage {
			p := marketdata.Point{Symbol: "AAPL", Timestamp: ms, Price: 187.25 + float64(j%13)/100, Volume: marketdata.Units(uint64(j % 500))}
			page = append(page, raw(string(marketdata.AppendSortKey(nil, p, "s3://b/k#v", int64(j))), strconv.FormatFloat(p.Price, 'f', -1, 64), p.Volume.String()))
			if j%4 == 0 {
				ms++
			}
		}
		db.pages = append(db.pages, page)
	}
	tb := &Table{DB: db, Name: tableName}
	b.ReportAllocs()
	var rounds int
	for b.Loop() {
		sum, _, ok, err := tb.RawWindowSummary(context.Background(), "AAPL", w1430)
		if err != nil || !ok || sum.Trades != perPage*pages {
			b.Fatalf("%+v %v %v", sum, ok, err)
		}
		rounds++
	}
	b.ReportMetric(float64(rounds)*perPage*pages/b.Elapsed().Seconds(), "points/s")
}
