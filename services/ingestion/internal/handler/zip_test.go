package handler

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// zipFile is one entry of a test archive. raw writes it with the sizes and
// checksum given (CreateRaw), so that a test can make them lie.
type zipFile struct {
	name   string
	data   []byte
	method uint16
	raw    *zip.FileHeader
}

// zipOf builds a zip archive of files, as data.binance.vision ships one CSV.
func zipOf(t *testing.T, files ...zipFile) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		if f.raw != nil {
			w, err := zw.CreateRaw(f.raw)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(f.data)
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ingestS3 ingests data stored under key with a fresh environment and
// returns the report and the queued points.
func ingestS3(t *testing.T, key string, data []byte, tune func(*Handler)) (report.Result, []marketdata.Point, *env) {
	t.Helper()
	e := newEnv()
	if tune != nil {
		tune(e.h)
	}
	o := report.Object{Bucket: bucket, Key: key, VersionID: "v1", ETag: "e1"}
	e.putObject(o, data)
	ctx, cancel := lambdaCtx("req-1")
	defer cancel()
	if err := e.h.IngestObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	_, queued, _ := e.sqs.queued(t)
	pts := make([]marketdata.Point, len(queued))
	for i, q := range queued {
		pts[i] = q.Point
	}
	return e.reports.get(o).result, pts, e
}

// A zipped Binance file (detected by its .zip key or its PK magic) is read
// as the CSV inside it: same profile, symbol from the inner file's name,
// same records accepted and refused, same points queued as the plain file;
// the report names the profile and the inner file.
func TestS3Zip(t *testing.T) {
	const inner = "BTCUSDT-aggTrades-2024-05-31.csv"
	csv := vendorFixture(t, inner)
	plain, plainPts, _ := ingestS3(t, "incoming/2024-05-31/"+inner, csv, nil)
	if plain.Status != report.Completed || plain.Collector.Accepted != 3 || plain.Profile != marketdata.ProfileBinanceAggTrades {
		t.Fatalf("the plain file: %s %q accepted %d", plain.Status, plain.Profile, plain.Collector.Accepted)
	}
	cases := []struct {
		name, key string
		data      []byte
		symbol    string
	}{
		{"deflated, .zip key", "incoming/2024-05-31/BTCUSDT-aggTrades-2024-05-31.zip",
			zipOf(t, zipFile{name: inner, data: csv, method: zip.Deflate}), "BTCUSDT"},
		{"stored, detected by its magic alone", "uploads/binance-upload",
			zipOf(t, zipFile{name: "ETHUSDT-aggTrades-2024-05-31.csv", data: csv, method: zip.Store}), "ETHUSDT"},
		{"in a folder of the archive", "incoming/x.ZIP",
			zipOf(t, zipFile{name: "spot/daily/SOLUSDT-aggTrades-2024-05-31.csv", data: csv, method: zip.Deflate}), "SOLUSDT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, pts, e := ingestS3(t, tc.key, tc.data, nil)
			if !strings.Contains(e.logs.String(), `"archivedFile":"`+r.ArchivedFile+`"`) {
				t.Errorf("the log does not name the archived file %q:\n%s", r.ArchivedFile, e.logs)
			}
			if r.Status != report.Completed || r.Profile != plain.Profile || r.Format != plain.Format ||
				r.Collector.Accepted != plain.Collector.Accepted || r.Collector.Rejected != plain.Collector.Rejected {
				t.Fatalf("report %s %q %q accepted %d rejected %d (%s), want the plain file's %q %q %d %d",
					r.Status, r.Profile, r.Format, r.Collector.Accepted, r.Collector.Rejected, r.Error,
					plain.Profile, plain.Format, plain.Collector.Accepted, plain.Collector.Rejected)
			}
			if !strings.HasSuffix(r.ArchivedFile, strings.Replace(inner, "BTCUSDT", tc.symbol, 1)) || !r.Compressed {
				t.Fatalf("archived file %q compressed %v", r.ArchivedFile, r.Compressed)
			}
			if r.ObjectBytes != int64(len(tc.data)) || r.DataBytes != plain.DataBytes {
				t.Fatalf("object bytes %d data bytes %d, want %d %d", r.ObjectBytes, r.DataBytes, len(tc.data), plain.DataBytes)
			}
			if len(pts) != len(plainPts) {
				t.Fatalf("%d points queued, the plain file %d", len(pts), len(plainPts))
			}
			for i, p := range pts {
				want := plainPts[i]
				want.Symbol = tc.symbol
				if p != want {
					t.Fatalf("point %d: %+v, want %+v", i, p, want)
				}
			}
			if len(r.Collector.Rejections) != len(plain.Collector.Rejections) ||
				r.Collector.Rejections[0] != plain.Collector.Rejections[0] {
				t.Fatalf("rejections %+v, want %+v", r.Collector.Rejections, plain.Collector.Rejections)
			}
		})
	}
}

// What a zip must not be is refused whole, with a reason naming what was
// found; nothing is queued, and the failure is final (no retry).
func TestS3ZipRefused(t *testing.T) {
	csv := vendorFixture(t, "BTCUSDT-aggTrades-2024-05-31.csv")
	const key = "incoming/BTCUSDT-aggTrades-2024-05-31.zip"
	sum := crc32.ChecksumIEEE(csv)
	cases := []struct {
		name     string
		data     []byte
		max      int64 // UnzippedMax; 0: the default
		reason   []string
		accepted int64 // queued before the content failed
	}{
		{"two files", zipOf(t, zipFile{name: "a.csv", data: csv}, zipFile{name: "b.csv", data: csv}), 0,
			[]string{"exactly one CSV file", "2 entries", `"a.csv"`, `"b.csv"`}, 0},
		{"no file", zipOf(t), 0, []string{"exactly one CSV file", "0 entries"}, 0},
		{"a folder only", zipOf(t, zipFile{name: "spot/"}), 0, []string{"exactly one CSV file", `"spot/"`}, 0},
		{"not a CSV", zipOf(t, zipFile{name: "BTCUSDT.json", data: []byte(`[]`)}), 0, []string{`"BTCUSDT.json"`, "not a .csv"}, 0},
		{"not a zip at all", []byte("symbol,timestamp,price,volume\n"), 0, []string{"not a readable zip archive"}, 0},
		{"truncated", zipOf(t, zipFile{name: "a.csv", data: csv})[:40], 0, []string{"not a readable zip archive"}, 0},
		{"declares more than allowed (a bomb)", zipOf(t, zipFile{name: "BTCUSDT-aggTrades-2024-05-31.csv", data: csv, method: zip.Deflate}),
			int64(len(csv)) - 1, []string{fmt.Sprintf("unpacks to %d bytes, more than the %d allowed", len(csv), len(csv)-1), "zip bomb"}, 0},
		{"yields more than it declares", zipOf(t, zipFile{data: csv, raw: &zip.FileHeader{Name: "BTCUSDT-aggTrades-2024-05-31.csv",
			Method: zip.Store, CompressedSize64: uint64(len(csv)), UncompressedSize64: 100, CRC32: sum}}), 0,
			[]string{"BTCUSDT-aggTrades-2024-05-31.csv is corrupt", "not a valid zip file"}, 0},
		{"wrong checksum", zipOf(t, zipFile{data: csv, raw: &zip.FileHeader{Name: "BTCUSDT-aggTrades-2024-05-31.csv",
			Method: zip.Store, CompressedSize64: uint64(len(csv)), UncompressedSize64: uint64(len(csv)), CRC32: sum + 1}}), 0,
			[]string{fmt.Sprintf("is corrupt after %d bytes", len(csv)), "checksum"}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, pts, _ := ingestS3(t, key, tc.data, func(h *Handler) { h.UnzippedMax = tc.max })
			if r.Status != report.Failed || r.ErrorCategory != ObjectBadZip {
				t.Fatalf("report %s %q %q, want FAILED %q", r.Status, r.ErrorCategory, r.Error, ObjectBadZip)
			}
			for _, s := range tc.reason {
				if !strings.Contains(r.Error, s) {
					t.Errorf("reason %q does not say %q", r.Error, s)
				}
			}
			if int64(len(pts)) != tc.accepted || r.Collector.Accepted != tc.accepted {
				t.Fatalf("%d queued, %d accepted; want %d", len(pts), r.Collector.Accepted, tc.accepted)
			}
		})
	}
}

// An archive is read through ranged GetObject calls (archive/zip needs its
// end first), never held whole: a few calls for the directory and the
// header, then one stream of the file.
func TestS3ZipReadsByRange(t *testing.T) {
	var csv []byte
	for i := range 20000 {
		csv = fmt.Appendf(csv, "%d,67512.30000000,3.00000000,%d,%d,%d,true,true\n", 26129+i, 27781+i, 27781+i, 1717162200001456+int64(i)*1000)
	}
	data := zipOf(t, zipFile{name: "BTCUSDT-aggTrades-2024-05-31.csv", data: csv, method: zip.Deflate})
	r, pts, e := ingestS3(t, "incoming/BTCUSDT-aggTrades-2024-05-31.zip", data, nil)
	if r.Status != report.Completed || len(pts) != 20000 || r.DataBytes != int64(len(csv)) {
		t.Fatalf("report %s (%s), %d queued, %d data bytes; want 20000 points of %d bytes", r.Status, r.Error, len(pts), r.DataBytes, len(csv))
	}
	t.Logf("%d GetObject calls for an archive of %d bytes", len(e.s3.gets), len(data))
	if n := len(e.s3.gets); n > 6 {
		t.Fatalf("%d GetObject calls; want a few", n)
	}
}

// failingRanges fails every ranged GetObject, as S3 unreachable mid-object.
type failingRanges struct{ *fakeS3 }

func (f failingRanges) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if in.Range != nil {
		return nil, errors.New("connection reset")
	}
	return f.fakeS3.GetObject(ctx, in, opts...)
}

// S3 failing while an archive is read is not the archive's fault: the
// invocation fails for Lambda to retry, and the report is not finished.
func TestS3ZipSourceFailureIsRetried(t *testing.T) {
	e := newEnv()
	e.h.S3 = failingRanges{e.s3}
	o := report.Object{Bucket: bucket, Key: "incoming/BTCUSDT-aggTrades-2024-05-31.zip", VersionID: "v1", ETag: "e1"}
	e.putObject(o, zipOf(t, zipFile{name: "BTCUSDT-aggTrades-2024-05-31.csv", data: vendorFixture(t, "BTCUSDT-aggTrades-2024-05-31.csv")}))
	ctx, cancel := lambdaCtx("req-1")
	defer cancel()
	err := e.h.IngestObject(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("IngestObject = %v, want the S3 failure", err)
	}
	if st := e.reports.get(o).status; st != report.InProgress {
		t.Fatalf("report %s, want it left IN_PROGRESS for the retry", st)
	}
}
