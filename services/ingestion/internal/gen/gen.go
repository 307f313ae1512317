// Package gen generates deterministic market data objects of any size as
// streams, for benchmarks, heap and request-count tests: nothing of the size
// of the object is ever held in memory.
package gen

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
)

// Format of a generated object.
type Format int

// Formats.
const (
	CSV Format = iota
	NDJSON
)

// BaseMillis is the timestamp of the first generated point (2023-11-14).
const BaseMillis int64 = 1_700_000_000_000

var symbols = []string{"AAPL", "MSFT", "BRK.B", "BTC-USD", "GOOGL", "AMZN", "NVDA", "TSLA"}
var exchanges = []string{"XNAS", "XNYS", "ARCX", "BATS"}

// Reader streams n valid points in format f (CSV with a header line).
type Reader struct {
	f    Format
	n, i int
	buf  []byte
	off  int
}

// New returns a stream of n points.
func New(f Format, n int) *Reader {
	r := &Reader{f: f, n: n}
	if f == CSV {
		r.buf = append(r.buf, "symbol,timestamp,price,volume,bid,ask,exchange\n"...)
	}
	return r
}

// Line appends the i-th point's line (with "\n") in format f to b.
func Line(b []byte, f Format, i int) []byte {
	sym := symbols[i%len(symbols)]
	ex := exchanges[i%len(exchanges)]
	ts := BaseMillis + int64(i)*7
	cents := 10000 + int64(i*7919%50000)
	vol := int64(1 + i*31%5000)
	if f == CSV {
		b = append(b, sym...)
		b = append(b, ',')
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, ',')
		b = appendCents(b, cents)
		b = append(b, ',')
		b = strconv.AppendInt(b, vol, 10)
		b = append(b, ',')
		b = appendCents(b, cents-1)
		b = append(b, ',')
		b = appendCents(b, cents+1)
		b = append(b, ',')
		b = append(b, ex...)
		return append(b, '\n')
	}
	b = append(b, `{"symbol":"`...)
	b = append(b, sym...)
	b = append(b, `","timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"price":`...)
	b = appendCents(b, cents)
	b = append(b, `,"volume":`...)
	b = strconv.AppendInt(b, vol, 10)
	b = append(b, `,"bid":`...)
	b = appendCents(b, cents-1)
	b = append(b, `,"ask":`...)
	b = appendCents(b, cents+1)
	b = append(b, `,"exchange":"`...)
	b = append(b, ex...)
	return append(b, "\"}\n"...)
}

func appendCents(b []byte, c int64) []byte {
	b = strconv.AppendInt(b, c/100, 10)
	b = append(b, '.')
	if c%100 < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, c%100, 10)
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.buf) {
			if r.i == r.n {
				break
			}
			r.buf = r.buf[:0]
			r.off = 0
			for k := 0; k < 256 && r.i < r.n; k++ {
				r.buf = Line(r.buf, r.f, r.i)
				r.i++
			}
		}
		c := copy(p[n:], r.buf[r.off:])
		r.off += c
		n += c
	}
	if n == 0 && r.i == r.n && r.off == len(r.buf) {
		return 0, io.EOF
	}
	return n, nil
}

// Bytes returns the whole object of n points (for small n).
func Bytes(f Format, n int) []byte {
	b, _ := io.ReadAll(New(f, n))
	return b
}

// Gzip returns data gzip-compressed, as a .gz object or a Content-Encoding:
// gzip object is stored (in memory: for small data).
func Gzip(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		panic(err) // a bytes.Buffer takes every write
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}
