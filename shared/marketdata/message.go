package marketdata

import (
	"encoding/json"
	"fmt"
)

// MessageVersion is the processing-queue message version of messages of
// points; MessageVersionBars that of messages holding bars. A message of
// points is unchanged (version 1), so the processor's fast decoder keeps
// reading it; a message with bars is version 2, so that a processor from
// before bars refuses it (its DLQ keeps it) instead of dropping its bars as
// an unknown member.
const (
	MessageVersion     = 1
	MessageVersionBars = 2
)

// QueuedPoint is a validated point with the range key ingestion assigned to it.
type QueuedPoint struct {
	Key string `json:"k"`
	Point
}

// Message is the body of one processing-queue message: many points from one
// origin, packed by ingestion up to limits.QueueMaxMessageBytes.
type Message struct {
	Version int           `json:"v"`
	Origin  string        `json:"origin"`
	Points  []QueuedPoint `json:"points"`
	// Bars are the message's bars (version 2), beside or instead of points.
	Bars []QueuedBar `json:"bars,omitempty"`
}

// EncodeMessage renders m as a queue message body.
func EncodeMessage(m Message) ([]byte, error) {
	m.Version = MessageVersion
	if len(m.Bars) > 0 {
		m.Version = MessageVersionBars
	}
	return json.Marshal(m)
}

// DecodeMessage parses a queue message body. A body that is not a valid
// message of a known version is an error: the processor must fail that
// message alone (it is a poison message).
//
// Bodies in the shape EncodeMessage writes take a fast path (decodeFast) that
// yields exactly what encoding/json would; anything else is decoded by
// encoding/json itself, so the result and the errors never depend on the path.
func DecodeMessage(body []byte) (Message, error) {
	return DecodeMessageString(string(body))
}

// DecodeMessageString is DecodeMessage for a body held in a string, such as
// an SQS record's. It does not copy the body: the strings of the message
// share its memory.
func DecodeMessageString(body string) (Message, error) {
	m, ok := decodeFast(body)
	if !ok {
		m = Message{}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return Message{}, fmt.Errorf("decode message: %w", err)
		}
	}
	if m.Version != MessageVersion && m.Version != MessageVersionBars {
		return Message{}, fmt.Errorf("decode message: unsupported version %d", m.Version)
	}
	if m.Version == MessageVersion && len(m.Bars) > 0 {
		return Message{}, fmt.Errorf("decode message: version %d holds no bars; bars need version %d", MessageVersion, MessageVersionBars)
	}
	for i, p := range m.Points {
		if p.Key == "" {
			return Message{}, fmt.Errorf("decode message: point %d has no key", i)
		}
	}
	for i, b := range m.Bars {
		if b.Key == "" {
			return Message{}, fmt.Errorf("decode message: bar %d has no key", i)
		}
	}
	return m, nil
}
