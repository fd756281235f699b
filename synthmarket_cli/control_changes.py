"""`simulate --control-change HH:MM=PRESET|seed:N`: a session's control changes, as the live market has them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from synthmarket.domain.calendar import TradingDay
from synthmarket.domain.control import SEED_MAX, SyntheticControlState
from synthmarket.domain.control_timeline import Control, ControlTimeline
from synthmarket.domain.presets import SyntheticControlPresetId

PRESETS = tuple(p.value for p in SyntheticControlPresetId)


@dataclass(frozen=True)
class ControlChange:
    at: str                     # HH:MM, exchange time
    preset: str | None = None
    seed: int | None = None

    def apply(self, control: SyntheticControlState) -> SyntheticControlState:
        if self.seed is not None:
            return control.with_update(shared_seed=self.seed)
        return control.with_update(preset_id=SyntheticControlPresetId(self.preset))


def parse_change(text: str) -> ControlChange:
    """argparse type for one ``HH:MM=PRESET`` or ``HH:MM=seed:N``."""
    at, sep, what = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected HH:MM=PRESET or HH:MM=seed:N, got {text!r}")
    try:
        hour, minute = (int(p) for p in at.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"the time of a change must be HH:MM, got {at!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise argparse.ArgumentTypeError(f"the time of a change must be HH:MM, got {at!r}")
    at = f"{hour:02d}:{minute:02d}"
    if what.startswith("seed:"):
        try:
            seed = int(what[5:], 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"seed must be an integer, got {what[5:]!r}") from None
        if not 0 <= seed <= SEED_MAX:
            raise argparse.ArgumentTypeError(f"seed must be between 0 and {SEED_MAX}")
        return ControlChange(at, seed=seed)
    if what not in PRESETS:
        raise argparse.ArgumentTypeError(f"unknown preset {what!r}; choose one of {', '.join(PRESETS)} or seed:N")
    return ControlChange(at, preset=what)


def timeline(initial: SyntheticControlState, changes: list[ControlChange], day: TradingDay) -> Control:
    """The session's control: ``initial`` from the open, each change from its minute (in time order;
    two at one minute apply in the order given). Raises ValueError for a change outside the session."""
    stamped = []
    for order, change in enumerate(changes):
        ts = day.at(change.at)
        if not day.open_ms < ts < day.close_ms:
            raise ValueError(f"--control-change {change.at} is not inside the {day.date} session")
        stamped.append((ts, order, change))
    result = ControlTimeline(initial)
    control = initial
    for ts, _order, change in sorted(stamped):
        control = change.apply(control)
        result = result.with_change(ts, control)
    return result if result.changes else initial


def describe(control: Control) -> list[dict]:
    """The changes for the manifest (empty without any)."""
    if not isinstance(control, ControlTimeline):
        return []
    return [{"ts": ts, "control": c.to_dict()} for ts, c in control.changes]
