# A fidelity shim for moto's S3 event notifications, loaded before
# moto_server when motoserver.Options.S3Events is set (the local pipeline
# always sets it).
#
# moto 5.2.5 builds an ObjectCreated record with the key, size and eTag
# only. AWS also sends, for a versioning-enabled bucket, the version id the
# upload created, and for every bucket a sequencer: a hexadecimal string
# that orders the events of one key (compared at equal length, a greater
# value is a later event). Without the version id a consumer cannot read
# the exact version once the key was overwritten or delete-marked, which
# is how AWS behaves. This shim wraps moto's record builder and adds both;
# everything else is moto's own (motoserver's tests compare the records
# with plain moto's).
import threading
import time

from moto.s3 import notifications

_orig_get_s3_event = notifications._get_s3_event
_lock = threading.Lock()
_last = 0


def _sequencer():
    # Strictly growing across the server, from the wall clock in
    # nanoseconds: 18 upper-case hex digits, like AWS's.
    global _last
    with _lock:
        _last = max(_last + 1, time.time_ns())
        return "%018X" % _last


def _get_s3_event(event_name, bucket, key, notification_id):
    event = _orig_get_s3_event(event_name, bucket, key, notification_id)
    for record in event.get("Records", []):
        obj = record.get("s3", {}).get("object")
        if obj is None:
            continue
        version = getattr(key, "_version_id", None)
        if getattr(bucket, "is_versioned", False) and version and version != "null":
            obj["versionId"] = str(version)
        obj["sequencer"] = _sequencer()
    return event


notifications._get_s3_event = _get_s3_event
