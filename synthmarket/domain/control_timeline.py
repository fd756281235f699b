"""The control over time: the control in force at the open and every change after it, with its session ts.

The engine takes a timeline wherever it takes a control, so a change in the middle of a session
changes the market's dynamics from its instant on without moving any level (see
``synthmarket.engine.timeline_paths``). A plain ``SyntheticControlState`` is the timeline without
changes. Changes are stamped in session time: every process maps the operator's write to the same
instant, so replicas and the offline runner agree on where the market changed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from synthmarket.domain.calendar import EXCHANGE_TZ
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.presets import SyntheticControlPresetId

# A change written at wall time w takes effect at the session instant of w + this lead, so every
# process has it (NATS delivers in milliseconds) before its tape reaches that instant.
CHANGE_LEAD_MS = 1_000


@dataclass(frozen=True)
class ControlTimeline:
    """``initial`` until the first change; each change in force from its ts (ascending) on."""

    initial: SyntheticControlState
    changes: tuple[tuple[int, SyntheticControlState], ...] = ()
    # Hashed once: a timeline keys the engine's caches on every call it serves.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stamps = [ts for ts, _ in self.changes]
        if stamps != sorted(stamps):
            raise ValueError("control changes must be in ts order")
        object.__setattr__(self, "_hash", hash((self.initial, self.changes)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def latest(self) -> SyntheticControlState:
        return self.changes[-1][1] if self.changes else self.initial

    def at(self, ts: int) -> SyntheticControlState:
        """The control in force at ``ts`` (a change is in force from its own ts)."""
        k = bisect.bisect_right(self._stamps(), ts)
        return self.changes[k - 1][1] if k else self.initial

    def with_change(self, ts: int, control: SyntheticControlState) -> ControlTimeline:
        """This timeline plus ``control`` from ``ts`` on (a change at or before the last one replaces
        what followed it: the newest word wins)."""
        kept = tuple((t, c) for t, c in self.changes if t < ts)
        return ControlTimeline(self.initial, (*kept, (int(ts), control)))

    def between(self, open_ms: int, close_ms: int) -> Control:
        """The part that matters for one session: the control at the open, then the session's changes.
        Without a change inside the session, that is just a control."""
        inside = tuple((t, c) for t, c in self.changes if open_ms < t <= close_ms)
        start = self.at(open_ms)
        return ControlTimeline(start, inside) if inside else start

    def _stamps(self) -> list[int]:
        return [ts for ts, _ in self.changes]


Control = SyntheticControlState | ControlTimeline


def control_at(control: Control, ts: int) -> SyntheticControlState:
    return control.at(ts) if isinstance(control, ControlTimeline) else control


def latest(control: Control) -> SyntheticControlState:
    return control.latest if isinstance(control, ControlTimeline) else control


def change_ts(updated_at: str | None, session_ts_of_wall: Callable[[int], int]) -> int | None:
    """The session ts a stored control takes effect at, from its ``updated_at`` (ISO-8601 UTC) and the
    session clock's ``ts(wall_ms)``; None when the entry carries no time (defaults, hand-written)."""
    if not updated_at:
        return None
    try:
        wall = dt.datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=dt.UTC)
    return int(session_ts_of_wall(int(wall.timestamp() * 1000) + CHANGE_LEAD_MS))


class TimelineBook:
    """The live timeline, from the stored control entry's revisions in order (its KV history).

    Each revision takes effect at the session instant of its ``updated_at`` plus the lead; one
    without a time (written by hand) stands for the whole timeline, as if it had always been in force.
    """

    def __init__(self, session_ts: Callable[[int], int], initial: SyntheticControlState) -> None:
        self._session_ts = session_ts
        self.timeline = ControlTimeline(initial)

    def add(self, control: SyntheticControlState) -> Control:
        ts = change_ts(control.updated_at, self._session_ts)
        if ts is None:
            self.timeline = ControlTimeline(control)
        elif control != self.timeline.latest:
            self.timeline = self.timeline.with_change(ts, control)
        return self.timeline if self.timeline.changes else self.timeline.initial


def describe_day(control: Control, open_ms: int, close_ms: int) -> str:
    """One session's timeline in a line, e.g. ``balanced_demo@09:30 event_day@12:00:01`` (New York time)."""
    day = control.between(open_ms, close_ms) if isinstance(control, ControlTimeline) else control
    start = control_at(day, open_ms)
    parts = [f"{_label(start)}@{_clock(open_ms)}"]
    if isinstance(day, ControlTimeline):
        parts += [f"{_label(c)}@{_clock(ts)}" for ts, c in day.changes]
    return " ".join(parts)


def _label(control: SyntheticControlState) -> str:
    return f"{SyntheticControlPresetId(control.preset_id).value}/seed {control.shared_seed}"


def _clock(ts: int) -> str:
    local = dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ)
    return local.strftime("%H:%M:%S") if local.second or local.microsecond else local.strftime("%H:%M")
