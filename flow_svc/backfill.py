"""The session so far: the option tape from the open replayed through the classifier before going live.

The market is deterministic, so a flow service that starts mid-session can compute the events a
service running since the open would have published, with the same ids and timestamps, and publish
the ones the stream does not hold yet. Pure: the tape comes from a ``PrintHistory`` the caller
supplies (the command line wires in the options generator; this package never imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flow_svc.classifier import SmartMoneyClassifier
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.marketdata import OptionPrint, SmartMoneyEvent

REPLAY_STEP_MS = 60_000
# Events reach the stream in the order they are decided, which trails their ts by at most a
# sweep's or multi-leg order's window plus the flush slack (well under a second). Every event
# more than this older than the newest stored one was therefore stored before it.
STORED_ORDER_SLACK_MS = 60_000


class PrintSteps(Protocol):
    def step(self, t0_ms: int, t1_ms: int) -> list[OptionPrint]:
        """Every print with ts in [t0, t1), in ts order, exactly as the live options tape has them."""
        ...


# (control or timeline, universe, session open) -> the options tape of that session from its open.
PrintHistory = Callable[[Control, Sequence[str], int], PrintSteps]


def replay(classifier: SmartMoneyClassifier, tape: PrintSteps, start_ms: int, end_ms: int,
           step_ms: int = REPLAY_STEP_MS) -> list[SmartMoneyEvent]:
    """Feed the tape's prints in [start, end) to ``classifier``; the events, in the order decided.

    Ends with a flush at ``end_ms``: the caller promises no print older than that follows.
    """
    events: list[SmartMoneyEvent] = []
    t0 = start_ms
    while t0 < end_ms:
        t1 = min(t0 + step_ms, end_ms)
        for p in tape.step(t0, t1):
            events.extend(classifier.observe(p))
        events.extend(classifier.flush(t1))
        t0 = t1
    return events


@dataclass(frozen=True)
class StoredTail:
    """What the stream already holds at its end: the newest event's ts and the ids near it."""

    newest_ts: int | None = None
    recent_ids: frozenset[str] = frozenset()   # every stored id with ts >= newest_ts - STORED_ORDER_SLACK_MS


def not_yet_stored(events: list[SmartMoneyEvent], tail: StoredTail) -> list[SmartMoneyEvent]:
    """The replayed events a restart must still publish: none twice, none lost."""
    if tail.newest_ts is None:
        return list(events)
    horizon = tail.newest_ts - STORED_ORDER_SLACK_MS
    return [e for e in events if e.ts >= horizon and e.event_id not in tail.recent_ids]
