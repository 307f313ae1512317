# Loaded into every moto server this repository starts.
#
# moto 5.2.5 keeps a DynamoDB table's items in plain dicts, and its server
# answers requests on many threads: a Query or Scan walks the table's items
# while a concurrent BatchWriteItem inserts into them, and the walk fails with
# "dictionary changed size during iteration", an HTTP 500 that the SDK
# retries and that, under enough concurrent writers, outlasts its attempts.
# DynamoDB itself has no such failure, so the local stand-in must not either.
# This shim makes a table's inserts, deletes, queries and scans mutually
# exclusive: one lock per server process (moto runs under the GIL anyway, so
# little concurrency is lost, and SQS long polls and other services are not
# held up by it).
import functools
import threading

from moto.dynamodb.models.table import Table

_lock = threading.RLock()


def _locked(f):
    @functools.wraps(f)
    def g(*args, **kwargs):
        with _lock:
            return f(*args, **kwargs)

    return g


for _name in ("put_item", "delete_item", "query", "scan"):
    setattr(Table, _name, _locked(getattr(Table, _name)))
