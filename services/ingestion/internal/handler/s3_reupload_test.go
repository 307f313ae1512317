package handler

import (
	"crypto/md5"
	"encoding/hex"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/marketanalytics/pipeline/services/ingestion/internal/report"
)

const reuploadKey = "daily/ticks.csv"

// Contents uploaded under reuploadKey: b shares no point with a; a2 is a
// with one line appended.
const (
	fileA  = "symbol,timestamp,price,volume\nAAPL,1717243200000,189.12,300\nAAPL,1717243200000,189.12,300\nMSFT,1717243200001,415.5,100\n"
	fileA2 = fileA + "MSFT,1717243200002,415.6,200\n"
	fileB  = "symbol,timestamp,price,volume\nAAPL,1717243201000,190,10\nMSFT,1717243201001,416,20\n"
)

// s3op is one step on a versioned bucket: an upload (a new current version;
// the previous one stays readable by its version id), a delete marker
// (the current version becomes noncurrent), a version's permanent removal,
// or the delivery of an upload's ObjectCreated event.
type s3op struct {
	upload, deleteMarker, purge, deliver string // version id
	data                                 string
	eTag                                 string // default: MD5 of data (a single-part upload)
}

// versionedEnv runs ops against a fake versioned bucket that, like S3, sends
// a version id in every event.
func versionedEnv(t *testing.T, ops []s3op) *env {
	t.Helper()
	e := newEnv()
	e.s3.older = map[string]map[string]*fakeObject{reuploadKey: {}}
	uploads := map[string]*fakeObject{}
	retire := func() {
		if cur := e.s3.objects[reuploadKey]; cur != nil {
			e.s3.older[reuploadKey][cur.versionID] = cur
			delete(e.s3.objects, reuploadKey)
		}
	}
	for i, op := range ops {
		switch {
		case op.upload != "":
			retire()
			tag := op.eTag
			if tag == "" {
				sum := md5.Sum([]byte(op.data))
				tag = hex.EncodeToString(sum[:])
			}
			fo := &fakeObject{data: []byte(op.data), versionID: op.upload, eTag: tag}
			e.s3.objects[reuploadKey], uploads[op.upload] = fo, fo
		case op.deleteMarker != "":
			retire()
		case op.purge != "":
			delete(e.s3.older[reuploadKey], op.purge)
			if cur := e.s3.objects[reuploadKey]; cur != nil && cur.versionID == op.purge {
				delete(e.s3.objects, reuploadKey)
			}
		case op.deliver != "":
			fo := uploads[op.deliver]
			rec := events.S3EventRecord{EventName: "ObjectCreated:Put"}
			rec.S3.Bucket.Name = bucket
			rec.S3.Object = events.S3Object{Key: "daily/ticks.csv", Size: int64(len(fo.data)), ETag: fo.eTag,
				VersionID: fo.versionID, Sequencer: "00" + fo.versionID}
			ctx, cancel := lambdaCtx("req-" + op.deliver)
			err := e.h.S3Event(ctx, events.S3Event{Records: []events.S3EventRecord{rec}})
			cancel()
			if err != nil {
				t.Fatalf("op %d: %v", i, err)
			}
		}
	}
	return e
}

// keysOf returns the distinct range keys queued after ops.
func keysOf(t *testing.T, ops ...s3op) map[string]bool {
	t.Helper()
	byKey, _, _ := versionedEnv(t, ops).sqs.queued(t)
	keys := map[string]bool{}
	for k := range byKey {
		keys[k] = true
	}
	return keys
}

// Re-uploading a file under the same key on a versioned bucket (a new
// version id each time) never stores a point twice: a point is identified
// by the object key, its position and its content, not by the version. A
// changed file adds the points it does not share with the earlier versions;
// every version is read by its own version id, even after an overwrite or
// a delete marker.
func TestS3ReuploadSameKey(t *testing.T) {
	aKeys := keysOf(t, s3op{upload: "v1", data: fileA}, s3op{deliver: "v1"})
	bKeys := keysOf(t, s3op{upload: "v1", data: fileB}, s3op{deliver: "v1"})
	if len(aKeys) != 3 || len(bKeys) != 2 {
		t.Fatalf("fresh uploads queued %d and %d keys; want 3 and 2", len(aKeys), len(bKeys))
	}
	union := func(ms ...map[string]bool) map[string]bool {
		out := map[string]bool{}
		for _, m := range ms {
			maps.Copy(out, m)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		ops       []s3op
		wantKeys  map[string]bool // nil: check wantCount and that aKeys are kept
		wantCount int
		wantReads []string // version ids read, in order
	}{
		{"identical bytes, new version id: read once, nothing new", []s3op{
			{upload: "v1", data: fileA}, {deliver: "v1"}, {upload: "v2", data: fileA}, {deliver: "v2"},
		}, aKeys, 0, []string{"v1"}},
		{"identical bytes uploaded in parts (another ETag): read again, same keys", []s3op{
			{upload: "v1", data: fileA}, {deliver: "v1"}, {upload: "v2", data: fileA, eTag: "9b2cf535f27731c974343645a3985328-2"}, {deliver: "v2"},
		}, aKeys, 0, []string{"v1", "v2"}},
		{"identical bytes while the first is unread: the first version's event reads it", []s3op{
			{upload: "v1", data: fileA}, {upload: "v2", data: fileA}, {deliver: "v1"}, {deliver: "v2"},
		}, aKeys, 0, []string{"v1"}},
		{"an appended line adds only that point", []s3op{
			{upload: "v1", data: fileA}, {deliver: "v1"}, {upload: "v2", data: fileA2}, {deliver: "v2"},
		}, nil, len(aKeys) + 1, []string{"v1", "v2"}},
		{"overwritten before its event: both versions read in full", []s3op{
			{upload: "v1", data: fileA}, {upload: "v2", data: fileB}, {deliver: "v1"}, {deliver: "v2"},
		}, union(aKeys, bKeys), 0, []string{"v1", "v2"}},
		{"delete marker before its event: the version is still read", []s3op{
			{upload: "v1", data: fileA}, {deleteMarker: "m1"}, {deliver: "v1"},
		}, aKeys, 0, []string{"v1"}},
		{"identical re-upload after the first version vanished unread: ingested", []s3op{
			{upload: "v1", data: fileA}, {purge: "v1"}, {deliver: "v1"}, {upload: "v2", data: fileA}, {deliver: "v2"},
		}, aKeys, 0, []string{"v1", "v2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := versionedEnv(t, tc.ops)
			byKey, _, _ := e.sqs.queued(t)
			got := map[string]bool{}
			for k := range byKey {
				got[k] = true
			}
			if tc.wantKeys != nil && !maps.Equal(got, tc.wantKeys) {
				t.Fatalf("queued %d distinct keys %v; want %d %v", len(got), slices.Sorted(maps.Keys(got)), len(tc.wantKeys), slices.Sorted(maps.Keys(tc.wantKeys)))
			}
			if tc.wantKeys == nil {
				if len(got) != tc.wantCount {
					t.Fatalf("queued %d distinct keys; want %d", len(got), tc.wantCount)
				}
				for k := range aKeys {
					if !got[k] {
						t.Fatalf("key %s of the first version missing", k)
					}
				}
			}
			var reads []string
			for _, in := range e.s3.gets {
				reads = append(reads, aws.ToString(in.VersionId))
			}
			if !slices.Equal(reads, tc.wantReads) {
				t.Fatalf("read versions %v; want %v", reads, tc.wantReads)
			}
		})
	}
}

// An identical re-upload is told apart from a re-delivered event in the
// log, and the first version's report stands.
func TestS3IdenticalReuploadReport(t *testing.T) {
	e := versionedEnv(t, []s3op{{upload: "v1", data: fileA}, {deliver: "v1"}, {upload: "v2", data: fileA}, {deliver: "v2"}})
	first := report.Object{Bucket: bucket, Key: reuploadKey, VersionID: "v1", ETag: e.s3.older[reuploadKey]["v1"].eTag}
	r := e.reports.get(first)
	if r == nil || r.status != report.Completed || r.result.Collector.Accepted != 3 || r.redeliveries != 1 {
		t.Fatalf("report of the first version %+v", r)
	}
}
