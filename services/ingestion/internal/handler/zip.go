package handler

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/marketanalytics/pipeline/shared/limits"
)

// ObjectBadZip is the error category of a zipped object that is refused
// whole: not a readable archive, not exactly one CSV file, encrypted, or
// larger unpacked than limits.UnzippedMaxBytes.
const ObjectBadZip = "invalid zip archive"

// unzippedMax is the most bytes a zipped object's file may unpack to.
func (h *Handler) unzippedMax() int64 {
	if h.UnzippedMax > 0 {
		return h.UnzippedMax
	}
	return limits.UnzippedMaxBytes
}

// zipMagic starts every zip archive holding at least one file (a local file
// header).
var zipMagic = []byte("PK\x03\x04")

// isZip reports whether an object is a zip archive: by its key's suffix, or
// by its first bytes whatever the key says (as gzip is recognised).
func isZip(key string, head []byte) bool {
	return strings.HasSuffix(strings.ToLower(key), ".zip") || bytes.HasPrefix(head, zipMagic)
}

// zipRefusal is why a zipped object is refused whole (ObjectBadZip).
type zipRefusal struct{ reason string }

func (e *zipRefusal) Error() string { return e.reason }

func refuseZip(format string, args ...any) error {
	return &zipRefusal{reason: fmt.Sprintf(format, args...)}
}

// zipEntry is the one CSV file of a zipped object, read as a stream: the
// parser reads it as it would a plain CSV object named name.
//
// archive/zip needs random access (the directory is at the archive's end),
// which the object gives through ranged GetObject calls (objectReader's
// ReadAt): the archive is never held in memory or on disk, whatever its size.
type zipEntry struct {
	path string // the file's name in the archive
	name string // path without its folders
	rc   io.ReadCloser
	n    int64
	// src is the object; an error it recorded (S3 failing) is worth a
	// retry, any other error of the entry is its content's.
	src *objectReader
	// bad is the first content error the entry's stream returned (a
	// checksum mismatch, corrupt deflate data, more bytes than allowed).
	bad error
}

// openZip opens the single CSV file of the zipped object src of size bytes,
// which may unpack to max bytes at most. A *zipRefusal error refuses the
// object whole; any other error is src's.
func openZip(src *objectReader, size, max int64) (*zipEntry, error) {
	zr, err := zip.NewReader(src, size)
	if err != nil {
		if src.err != nil {
			return nil, src.err
		}
		return nil, refuseZip("not a readable zip archive: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	// Exactly one file, as data.binance.vision ships them: several would
	// each need a name, a profile and a report of their own.
	if len(zr.File) != 1 || zr.File[0].FileInfo().IsDir() {
		return nil, refuseZip("a zip archive must hold exactly one CSV file; this one holds %d entries %q", len(names), clipNames(names))
	}
	f := zr.File[0]
	name := path.Base(strings.ReplaceAll(f.Name, `\`, "/"))
	if !strings.HasSuffix(strings.ToLower(name), ".csv") {
		return nil, refuseZip("a zip archive must hold exactly one CSV file; it holds %q, not a .csv", f.Name)
	}
	if f.Flags&0x1 != 0 {
		return nil, refuseZip("%s is encrypted", f.Name)
	}
	if f.UncompressedSize64 > uint64(max) {
		return nil, refuseZip("%s unpacks to %d bytes, more than the %d allowed (limits.UnzippedMaxBytes): refused as a possible zip bomb",
			f.Name, f.UncompressedSize64, max)
	}
	rc, err := f.Open()
	if err != nil {
		if src.err != nil {
			return nil, src.err
		}
		return nil, refuseZip("%s cannot be read: %v", f.Name, err)
	}
	return &zipEntry{path: f.Name, name: name, rc: rc, src: src}, nil
}

// Read reads the file's content. archive/zip itself refuses more bytes than
// the entry declares (which openZip bounded by max) and a wrong checksum at
// its end; such a content error refuses the object, while S3 failing (src's
// error) is returned as it is, for a retry.
func (z *zipEntry) Read(p []byte) (int, error) {
	if z.bad != nil {
		return 0, z.bad
	}
	n, err := z.rc.Read(p)
	z.n += int64(n)
	if err != nil && err != io.EOF && z.src.err == nil {
		z.bad = refuseZip("%s is corrupt after %d bytes: %v", z.path, z.n, err)
		return n, z.bad
	}
	return n, err
}

// refusal returns the content error the entry met, if any.
func (z *zipEntry) refusal() *zipRefusal {
	var r *zipRefusal
	if errors.As(z.bad, &r) {
		return r
	}
	return nil
}

func (z *zipEntry) Close() error { return z.rc.Close() }

// clipNames keeps a refusal's list of names short.
func clipNames(names []string) []string {
	const n = 5
	if len(names) > n {
		return append(names[:n:n], fmt.Sprintf("... %d more", len(names)-n))
	}
	return names
}

// ReadAt reads len(b) bytes at off, for archive/zip. A read where the
// stream stands, or a little ahead of it, continues the open GetObject
// body; anywhere else Read's resumption starts a ranged GetObject there.
// Unzipping an object so costs a few GetObject calls for its directory and
// its file's header, then streams the file's bytes once.
func (r *objectReader) ReadAt(b []byte, off int64) (int, error) {
	const skipMax = 64 << 10 // skipping this much beats a new request
	if d := off - r.off; r.body != nil && d > 0 && d <= skipMax {
		if _, err := io.CopyN(io.Discard, r, d); err != nil {
			return 0, r.fail(err)
		}
	} else if d != 0 {
		if r.body != nil {
			_ = r.body.Close()
			r.body = nil
		}
		r.off = off
	}
	n, err := io.ReadFull(r, b)
	if err == io.ErrUnexpectedEOF {
		return n, io.EOF // io.ReaderAt: fewer bytes only at the end
	}
	if err != nil && err != io.EOF {
		return n, r.fail(err)
	}
	return n, err
}

// fail records err as the object's own failure (worth a retry) and
// returns it.
func (r *objectReader) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}
