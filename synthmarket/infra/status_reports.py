"""Reading the ingest replicas' status reports from KV: every reader (gateway, `synthmarket status`) the same way.

Keys are listed from the bucket's stream (its per-subject counts), not with a KV watcher: a
watcher never signals "done" while the bucket is empty or being purged, and ``kv.keys()`` raises
``NoKeysError`` then. A key deleted between the listing and its read is simply not reported.
"""

from __future__ import annotations

import logging

from google.protobuf.message import DecodeError
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

from synthmarket.names import STATUS_BUCKET
from synthmarket.v1 import status_pb2

log = logging.getLogger(__name__)

Reports = dict[str, tuple[status_pb2.StatusReport, int]]


async def read_status_reports(js: JetStreamContext, bucket: str = STATUS_BUCKET) -> Reports:
    """Every readable report: key -> (report, KV revision). Empty when there are none yet."""
    prefix = f"$KV.{bucket}."
    try:
        kv = await js.key_value(bucket)
        info = await js.stream_info(f"KV_{bucket}", subjects_filter=f"{prefix}>")
    except (BucketNotFoundError, NotFoundError):
        return {}
    out: Reports = {}
    for subject in sorted(info.state.subjects or {}):
        key = subject[len(prefix):]
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:   # deleted or purged since the listing
            continue
        try:
            out[key] = (status_pb2.StatusReport.FromString(entry.value or b""), int(entry.revision or 0))
        except DecodeError as exc:   # one bad report must not hide the rest
            log.warning("unreadable status report %s: %s", key, exc)
    return out
