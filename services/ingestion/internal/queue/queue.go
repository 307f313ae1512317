// Package queue publishes validated points to the processing queue: points of
// one origin are packed into messages up to the queue's size limit
// (marketdata.MessageEncoder), messages into SendMessageBatch calls up to
// SQS's entry and byte limits, and the calls run a few at a time.
//
// Entries SQS reports as Failed are retried with capped exponential backoff
// and full jitter (platform/backoff) when the fault is SQS's (SenderFault
// false), and reported as Failures when it is the sender's: such points are
// never silently dropped.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

	"github.com/marketanalytics/pipeline/services/platform/backoff"
	"github.com/marketanalytics/pipeline/shared/limits"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// BatchSender is the part of the SQS client the publisher uses.
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ BatchSender = (*sqs.Client)(nil)

// Publisher sends points to one queue. Its zero values take defaults.
type Publisher struct {
	Client   BatchSender
	QueueURL string
	// MaxMessageBytes bounds a message body (default limits.QueueMaxMessageBytes).
	MaxMessageBytes int
	// Concurrency is the number of SendMessageBatch calls in flight (default 4).
	Concurrency int
	// Retry paces the resends of entries SQS keeps failing with a retryable
	// error and bounds the sends of one entry (Attempts); its zero fields
	// take the services' one set of defaults (platform/backoff). A wait that
	// would end after the context's deadline is not taken (the send fails
	// with backoff.ErrDeadline). Tests replace its Sleep.
	Retry backoff.Policy
}

// Failure is a message SQS refused for good (a sender fault): its points
// were not queued.
type Failure struct {
	Points int
	// FirstIndex and LastIndex are the record positions of the message's
	// first and last point.
	FirstIndex, LastIndex int64
	Code, Message         string
}

// Stats counts what a stream sent.
type Stats struct {
	// Messages, Points and Bytes count the messages SQS accepted, the points
	// in them and their body bytes.
	Messages, Points, Bytes int64
	// Calls counts SendMessageBatch calls, retries included; Retried counts
	// entries sent again after a retryable failure.
	Calls, Retried int64
	// Failures are the messages refused for good.
	Failures []Failure
	// FailedPoints is the number of points in Failures.
	FailedPoints int64
}

// ErrRetriesExhausted wraps the error of entries that still failed with a
// retryable error after Retry's attempts.
var ErrRetriesExhausted = errors.New("SQS kept failing entries with a retryable error")

// Stream packs and sends the points of one origin. Add is called from one
// goroutine; sends run in the background, Concurrency at a time (an errgroup
// whose context the first failed send cancels, with that failure as cause).
type Stream struct {
	pub         *Publisher
	parent      context.Context // the caller's
	ctx         context.Context // the sends'; ends with the first failure
	sends       *errgroup.Group
	enc         *marketdata.MessageEncoder
	first, last int64
	batch       []message
	batchBytes  int

	mu    sync.Mutex
	stats Stats
}

type message struct {
	body        string
	points      int
	first, last int64
}

// Open starts a stream of messages for origin.
func (p *Publisher) Open(ctx context.Context, origin string) (*Stream, error) {
	maxBytes := p.MaxMessageBytes
	if maxBytes <= 0 {
		maxBytes = limits.QueueMaxMessageBytes
	}
	enc, err := marketdata.NewMessageEncoder(origin, min(maxBytes, limits.SQSBatchMaxBytes))
	if err != nil {
		return nil, err
	}
	conc := p.Concurrency
	if conc <= 0 {
		conc = 4
	}
	s := &Stream{pub: p, parent: ctx, enc: enc}
	s.sends, s.ctx = errgroup.WithContext(ctx)
	s.sends.SetLimit(conc)
	return s, nil
}

// Add packs point pt, found at position index of the origin. It returns
// marketdata.ErrPointTooLarge when the point cannot fit any message (the
// caller rejects it), or the error that stopped the stream (a send failed,
// or the context ended); the caller then stops adding.
func (s *Stream) Add(pt marketdata.Point, index int64) error {
	return s.add(func() (bool, error) { return s.enc.Add(pt, index) }, index)
}

// AddBar packs bar b, found at position index of the origin, as Add packs
// a point (a message holds points or bars, not both: see
// marketdata.MessageEncoder.AddBar).
func (s *Stream) AddBar(b marketdata.Bar, index int64) error {
	return s.add(func() (bool, error) { return s.enc.AddBar(b, index) }, index)
}

// add packs one record with add, the encoder's Add or AddBar.
func (s *Stream) add(add func() (bool, error), index int64) error {
	if err := s.failed(); err != nil {
		return err
	}
	ok, err := add()
	if err != nil {
		return err
	}
	if !ok {
		s.flushMessage()
		if ok, err = add(); !ok {
			if err == nil {
				err = marketdata.ErrPointTooLarge
			}
			return err
		}
	}
	if s.enc.Points() == 1 {
		s.first = index
	}
	s.last = index
	return nil
}

// failed returns why the stream stopped: the first failed send, or the end of
// the caller's context.
func (s *Stream) failed() error {
	return context.Cause(s.ctx)
}

// flushMessage moves the current message into the batch, sending the batch
// first when the message would not fit in it.
func (s *Stream) flushMessage() {
	if s.enc.Points() == 0 {
		return
	}
	m := message{body: string(s.enc.Bytes()), points: s.enc.Points(), first: s.first, last: s.last}
	s.enc.Reset()
	if len(s.batch) == limits.SQSBatchEntries || s.batchBytes+len(m.body) > limits.SQSBatchMaxBytes {
		s.flushBatch()
	}
	s.batch = append(s.batch, m)
	s.batchBytes += len(m.body)
}

// flushBatch sends the batch in the background, waiting for a free slot
// (sends in flight end soon once the stream failed: their context is done).
func (s *Stream) flushBatch() {
	if len(s.batch) == 0 {
		return
	}
	batch := s.batch
	s.batch, s.batchBytes = nil, 0
	if s.failed() != nil {
		return // Close reports why
	}
	s.sends.Go(func() (err error) {
		if err := s.failed(); err != nil {
			return err // the stream failed while this batch waited for a slot
		}
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("SendMessageBatch panicked: %v", v)
			}
		}()
		return s.send(batch)
	})
}

// Close sends what is left, waits for every send and returns the counts. The
// error is the first failure that left points unsent for a reason worth a
// retry (SQS unreachable, retries exhausted, the context ended); sender
// faults are in Stats.Failures instead.
func (s *Stream) Close() (Stats, error) {
	if s.failed() == nil {
		s.flushMessage()
		s.flushBatch()
	}
	err := s.sends.Wait()
	if err == nil {
		err = context.Cause(s.parent) // the caller's context ended
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats, err
}

// send sends one batch, retrying retryable entry failures.
func (s *Stream) send(batch []message) error {
	p := s.pub
	pending := make([]int, len(batch))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; ; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(pending))
		for j, i := range pending {
			entries[j] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(batch[i].body)}
		}
		s.count(func(st *Stats) { st.Calls++ })
		out, err := p.Client.SendMessageBatch(s.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("SendMessageBatch: %w", err)
		}
		done := make(map[int]bool, len(pending))
		for _, ok := range out.Successful {
			i, err := strconv.Atoi(aws.ToString(ok.Id))
			if err != nil || i < 0 || i >= len(batch) || done[i] {
				continue
			}
			done[i] = true
			m := batch[i]
			s.count(func(st *Stats) {
				st.Messages++
				st.Points += int64(m.points)
				st.Bytes += int64(len(m.body))
			})
		}
		var retry []int
		var lastCode, lastMsg string
		for _, f := range out.Failed {
			i, err := strconv.Atoi(aws.ToString(f.Id))
			if err != nil || i < 0 || i >= len(batch) || done[i] {
				continue
			}
			done[i] = true
			if f.SenderFault {
				m := batch[i]
				s.count(func(st *Stats) {
					st.Failures = append(st.Failures, Failure{Points: m.points, FirstIndex: m.first, LastIndex: m.last,
						Code: aws.ToString(f.Code), Message: aws.ToString(f.Message)})
					st.FailedPoints += int64(m.points)
				})
				continue
			}
			retry = append(retry, i)
			lastCode, lastMsg = aws.ToString(f.Code), aws.ToString(f.Message)
		}
		for _, i := range pending {
			if !done[i] { // in neither list: treat as not sent
				retry = append(retry, i)
				lastCode, lastMsg = "Missing", "entry absent from the response"
			}
		}
		if len(retry) == 0 {
			return nil
		}
		if err := p.Retry.Wait(s.ctx, attempt); err != nil {
			if errors.Is(err, backoff.ErrExhausted) {
				return fmt.Errorf("%w: %d entries after %d attempts, last %s: %s", ErrRetriesExhausted, len(retry), attempt, lastCode, lastMsg)
			}
			return err
		}
		s.count(func(st *Stats) { st.Retried += int64(len(retry)) })
		pending = retry
	}
}

func (s *Stream) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}
