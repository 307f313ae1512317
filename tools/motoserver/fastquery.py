# A performance shim for moto's DynamoDB Query, loaded before moto_server
# when motoserver.Options.FastQuery is set (the local pipeline's large runs).
#
# moto 5.2.5 answers a Query on a table by walking every item of the table
# and sorting the queried partition on each call, so a Query costs O(table):
# about 9 microseconds per stored item (0.45 s with 50,000 items, ~9 s with
# a million). This shim keeps, per queried partition, the items sorted by
# range key (updated on every put and delete), and hands moto's own Query
# only the items that can match: the partition, cut to the key condition's
# range for BETWEEN and comparisons. moto then does everything it always
# does (the comparison, filters, paging, limits, counting) on that superset,
# so the answers are the same; motoserver's tests compare them with moto's
# unpatched answers.
import bisect
import sys
import threading

from moto.dynamodb.models.table import Table

_lock = threading.RLock()
_local = threading.local()
_orig_query = Table.query
_orig_all_items = Table.all_items
_orig_put = Table.put_item
_orig_delete = Table.delete_item


class _Partition:
    __slots__ = ("keys", "items")

    def __init__(self, items):
        pairs = sorted(((i.range_key.cast_value, i) for i in items), key=lambda p: p[0])
        self.keys = [p[0] for p in pairs]
        self.items = [p[1] for p in pairs]


def _index(table):
    # The index is dropped when the table's items were replaced wholesale
    # (restore from a backup).
    idx = table.__dict__.get("_fq_index")
    if idx is None or idx[0] is not table.items:
        idx = (table.items, {})
        table.__dict__["_fq_index"] = idx
    return idx[1]


def _put(self, *args, **kwargs):
    with _lock:
        item = _orig_put(self, *args, **kwargs)
        if self.range_key_attr and item is not None and item.range_key is not None:
            part = _index(self).get(item.hash_key)
            if part is not None:
                k = item.range_key.cast_value
                i = bisect.bisect_left(part.keys, k)
                if i < len(part.keys) and part.keys[i] == k:
                    part.items[i] = item
                else:
                    part.keys.insert(i, k)
                    part.items.insert(i, item)
        return item


def _delete(self, hash_key, range_key):
    with _lock:
        item = _orig_delete(self, hash_key, range_key)
        if item is not None and range_key is not None:
            part = _index(self).get(hash_key)
            if part is not None:
                k = range_key.cast_value
                i = bisect.bisect_left(part.keys, k)
                if i < len(part.keys) and part.keys[i] == k:
                    del part.keys[i]
                    del part.items[i]
        return item


def _all_items(self):
    cand = getattr(_local, "candidates", None)
    if cand is not None and cand[0] is self:
        return cand[1]
    return _orig_all_items(self)


def _query(self, hash_key, range_comparison, range_objs, *args, **kwargs):
    # Table.query(hash_key, range_comparison, range_objs, limit,
    # exclusive_start_key, scan_index_forward, projection_expressions,
    # index_name, ...): index queries keep moto's own path.
    index_name = kwargs.get("index_name") or (args[4] if len(args) > 4 else None)
    if index_name or hash_key is None or not self.range_key_attr or \
            len(kwargs.get("hash_key_conditions") or []) > 1:
        return _orig_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
    with _lock:
        idx = _index(self)
        part = idx.get(hash_key)
        if part is None:
            part = _Partition(self.items.get(hash_key, {}).values() if hash_key in self.items else [])
            idx[hash_key] = part
        lo, hi = 0, len(part.items)
        try:
            vals = [o.cast_value for o in range_objs or []]
            op = (range_comparison or "").upper()
            if op == "BETWEEN" and len(vals) == 2:
                lo, hi = bisect.bisect_left(part.keys, vals[0]), bisect.bisect_right(part.keys, vals[1])
            elif op in (">", ">=") and vals:
                lo = bisect.bisect_left(part.keys, vals[0])
            elif op in ("<", "<=") and vals:
                hi = bisect.bisect_right(part.keys, vals[0])
            elif op in ("=", "EQ") and vals:
                lo, hi = bisect.bisect_left(part.keys, vals[0]), bisect.bisect_right(part.keys, vals[0])
        except TypeError:
            lo, hi = 0, len(part.items)  # incomparable values: let moto decide
        # One neighbour on each side: moto reports a LastEvaluatedKey when a
        # page is full and another item follows, matching or not.
        candidates = part.items[max(lo - 1, 0):hi + 1]
    _local.candidates = (self, candidates)
    try:
        return _orig_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
    finally:
        _local.candidates = None


Table.query = _query
Table.all_items = _all_items
Table.put_item = _put
Table.delete_item = _delete

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
