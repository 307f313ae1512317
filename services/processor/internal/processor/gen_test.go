package processor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// testNow is the fixed clock of the tests: 2026-03-02T15:00:00Z.
var testNow = time.UnixMilli(1772463600000).UTC()

// tickGen generates realistic ticks: symbols interleaved, prices on a
// random walk with two decimals, every other point quoted with bid and ask.
type tickGen struct {
	r      *rand.Rand
	syms   []string
	prices []float64
	ms     int64
}

func newTickGen(seed uint64, symbols int, start time.Time) *tickGen {
	g := &tickGen{r: rand.New(rand.NewPCG(seed, seed+1)), ms: start.UnixMilli()}
	for i := range symbols {
		g.syms = append(g.syms, fmt.Sprintf("S%03d.X", i))
		g.prices = append(g.prices, 10+g.r.Float64()*500)
	}
	return g
}

func (g *tickGen) next() marketdata.Point {
	i := g.r.IntN(len(g.syms))
	g.prices[i] = math.Max(0.01, g.prices[i]*(1+(g.r.Float64()-0.5)/500))
	price := math.Round(g.prices[i]*100) / 100
	g.ms += int64(g.r.IntN(3)) // several points per millisecond sometimes
	p := marketdata.Point{Symbol: g.syms[i], Timestamp: g.ms, Price: price, Volume: marketdata.Units(uint64(1 + g.r.IntN(5000))), Exchange: "XNAS"}
	if g.r.IntN(2) == 0 {
		p.Bid, p.Ask = price-0.01, price+0.01
	}
	return p
}

// encodeBodies packs n generated points into queue message bodies of at
// most limits.QueueMaxMessageBytes with the shared encoder, as ingestion does.
func encodeBodies(tb testing.TB, g *tickGen, n int, origin string) []string {
	tb.Helper()
	enc, err := marketdata.NewMessageEncoder(origin, limits.QueueMaxMessageBytes)
	if err != nil {
		tb.Fatal(err)
	}
	var bodies []string
	for i := range n {
		p := g.next()
		ok, err := enc.Add(p, int64(i))
		if err != nil {
			tb.Fatal(err)
		}
		if !ok {
			bodies = append(bodies, string(enc.Bytes()))
			enc.Reset()
			if ok, err := enc.Add(p, int64(i)); !ok || err != nil {
				tb.Fatalf("point does not fit an empty message: %v", err)
			}
		}
	}
	if enc.Points() > 0 {
		bodies = append(bodies, string(enc.Bytes()))
	}
	return bodies
}

// sqsEvent wraps bodies in an SQS event shaped like the ones Lambda
// delivers (see testdata/*.json).
func sqsEvent(idPrefix string, bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:     fmt.Sprintf("%s-%04d", idPrefix, i),
			ReceiptHandle: "AQEB" + strconv.Itoa(i),
			Body:          b,
			Attributes: map[string]string{
				"ApproximateReceiveCount":          "1",
				"SentTimestamp":                    strconv.FormatInt(testNow.UnixMilli(), 10),
				"SenderId":                         "AROAEXAMPLE:market-data-dev-DataIngestion",
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(testNow.UnixMilli(), 10),
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:us-east-1:123456789012:ProcessingQueue-dev",
			AWSRegion:         "us-east-1",
		})
	}
	return ev
}
