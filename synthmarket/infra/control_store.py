"""The control state in JetStream KV: bucket setup, load with defaults, compare-and-set write, watch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from nats.js import JetStreamContext
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
    NotFoundError,
)
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from synthmarket.domain.control import (
    DEFAULT_CONTROL,
    ControlValidationError,
    SyntheticControlState,
    control_from_json,
)
from synthmarket.domain.control_timeline import Control, TimelineBook
from synthmarket.names import CONTROL_BUCKET, CONTROL_KEY, STATUS_BUCKET

log = logging.getLogger(__name__)

# Keep every recent revision so operators can see who changed what (JetStream's maximum).
CONTROL_HISTORY = 64
STATUS_HISTORY = 1


class RevisionConflict(Exception):
    """A compare-and-set write lost: the entry changed since the writer last read it."""

    def __init__(self, expected_revision: int, current_revision: int | None) -> None:
        self.expected_revision = expected_revision
        self.current_revision = current_revision
        current = "absent" if current_revision is None else f"at revision {current_revision}"
        super().__init__(
            f"control entry changed since revision {expected_revision}: it is now {current}; "
            "reload and retry"
        )


async def _ensure_bucket(js: JetStreamContext, bucket: str, history: int, description: str,
                         replicas: int) -> KeyValue:
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    # Two processes may race to create it; creating with an identical config is idempotent.
    return await js.create_key_value(bucket=bucket, history=history, description=description, replicas=replicas)


# An existing bucket is used as it is, whatever ``replicas`` says: the deployment creates the buckets
# with its replica count before the services start (see synthmarket/infra/jetstream_setup.py), and a
# service that finds one missing creates it with ``replicas`` (1 unless told).
async def ensure_control_bucket(js: JetStreamContext, bucket: str = CONTROL_BUCKET, replicas: int = 1) -> KeyValue:
    return await _ensure_bucket(js, bucket, CONTROL_HISTORY, "synthetic market operator control", replicas)


async def ensure_status_bucket(js: JetStreamContext, bucket: str = STATUS_BUCKET, replicas: int = 1) -> KeyValue:
    return await _ensure_bucket(js, bucket, STATUS_HISTORY, "synthetic market service status", replicas)


def decode_control(raw: bytes | None, revision: int | None = None) -> SyntheticControlState:
    """Decode one stored value; anything unreadable means defaults plus a warning."""
    where = f"{CONTROL_BUCKET}/{CONTROL_KEY}" + (f" revision {revision}" if revision else "")
    if raw is None or raw == b"":
        log.warning("control entry %s is empty; using defaults", where)
        return DEFAULT_CONTROL
    try:
        return control_from_json(raw)
    except ControlValidationError as exc:
        log.warning("control entry %s is unreadable (%s); using defaults", where, exc)
        return DEFAULT_CONTROL


class AbsenceLog:
    """Warns that the control entry is absent once per absence, for a reader that loads it again
    and again (the gateway loads it on every admin request): again only after the entry has been
    present and gone again."""

    def __init__(self) -> None:
        self._absent = False

    def absent(self, key: str) -> None:
        if not self._absent:
            log.warning("control entry %s/%s is absent; using defaults", CONTROL_BUCKET, key)
        self._absent = True

    def present(self) -> None:
        self._absent = False


async def load_control(
    kv: KeyValue, key: str = CONTROL_KEY, absence: AbsenceLog | None = None
) -> tuple[SyntheticControlState, int | None]:
    """The stored control state and its revision.

    Absent (or deleted) entry: ``(defaults, None)``. Unreadable entry: ``(defaults, revision)``
    so a compare-and-set write can still replace the bad value. Either case logs one warning;
    with ``absence``, an absence already warned about by it is not warned about again.
    """
    absence = absence or AbsenceLog()
    try:
        entry = await kv.get(key)
    except (KeyNotFoundError, NotFoundError):
        absence.absent(key)
        return DEFAULT_CONTROL, None
    absence.present()
    return decode_control(entry.value, entry.revision), entry.revision


async def load_timeline(kv: KeyValue, session_ts: Callable[[int], int], key: str = CONTROL_KEY,
                        absence: AbsenceLog | None = None) -> Control:
    """The entry's stored revisions as the timeline every service runs (see ``TimelineBook``); defaults
    when there are none."""
    absence = absence or AbsenceLog()
    try:
        entries = await kv.history(key)
    except (KeyNotFoundError, NotFoundError, NoKeysError):
        absence.absent(key)
        return DEFAULT_CONTROL
    absence.present()
    book = TimelineBook(session_ts, DEFAULT_CONTROL)
    timeline: Control = DEFAULT_CONTROL
    for entry in entries:
        deleted = entry.operation in (KV_DEL, KV_PURGE)
        timeline = book.add(DEFAULT_CONTROL if deleted else decode_control(entry.value, entry.revision))
    return timeline


async def _current_revision(kv: KeyValue, key: str) -> int | None:
    try:
        return (await kv.get(key)).revision
    except (KeyNotFoundError, NotFoundError):
        return None


async def write_control(
    kv: KeyValue,
    state: SyntheticControlState,
    expected_revision: int | None,
    key: str = CONTROL_KEY,
) -> int:
    """Store ``state`` and return its new revision.

    ``expected_revision=None``: last writer wins. An int: compare-and-set against that revision
    (``0`` means "only if absent"); a mismatch raises ``RevisionConflict``.
    """
    payload = state.to_json_bytes()
    if expected_revision is None:
        return await kv.put(key, payload)
    try:
        if expected_revision == 0:
            return await kv.create(key, payload)
        return await kv.update(key, payload, last=expected_revision)
    except KeyWrongLastSequenceError:
        raise RevisionConflict(expected_revision, await _current_revision(kv, key)) from None


async def watch_control(
    kv: KeyValue, key: str = CONTROL_KEY, history: bool = False
) -> AsyncIterator[tuple[SyntheticControlState, int | None]]:
    """Yield ``(state, revision)`` for the current entry (with ``history``, for every stored
    revision in order: the day's control timeline), then again on every change.

    A deleted or purged entry yields ``(defaults, revision of the delete marker)``; a corrupt
    one yields defaults with a warning. Stops when the consumer stops iterating.
    """
    watcher = await kv.watch(key, include_history=history)
    seen_entry = False
    try:
        while True:
            entry = await watcher.updates(timeout=None)
            if entry is None:
                # The end-of-replay marker. With nothing replayed the state is the defaults;
                # after a replayed entry it carries no news.
                if not seen_entry:
                    log.warning("control entry %s/%s is absent; using defaults", CONTROL_BUCKET, key)
                    yield DEFAULT_CONTROL, None
                continue
            seen_entry = True
            if entry.operation in (KV_DEL, KV_PURGE):
                log.warning("control entry %s/%s was deleted; using defaults", CONTROL_BUCKET, key)
                yield DEFAULT_CONTROL, entry.revision
                continue
            yield decode_control(entry.value, entry.revision), entry.revision
    finally:
        try:
            await watcher.stop()
        except Exception:  # noqa: BLE001 - the connection may already be closed
            pass
