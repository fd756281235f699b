"""Stepping the options generator under the control timeline as it stood at each instant of the tape.

A scenario draws all its prints when it starts, some of them seconds or minutes later, priced on
the market of their own ts. Under a timeline that already holds a later change, the prints past
the change would be priced on the changed market. A live service learns of a change at a moment
set by the wall clock, the session speed and the network (the change's lead), so its tape would
depend on them, and replicas and the offline runner would disagree about the prints of scenarios
running across a change. Drawing every scenario under the changes up to its own start makes the
tape one function of the timeline: live at any speed, in any replica, replayed or offline.
"""

from __future__ import annotations

from typing import Protocol

from synthmarket.domain.control_timeline import Control, ControlTimeline
from synthmarket.domain.marketdata import OptionPrint


class Generator(Protocol):
    def set_control(self, control: Control) -> None: ...

    def step(self, t0_ms: int, t1_ms: int) -> list[OptionPrint]: ...


def known_at(control: Control, ts: int) -> Control:
    """The timeline as known at ``ts``: its changes up to ``ts`` (a plain control without any)."""
    if not isinstance(control, ControlTimeline):
        return control
    seen = tuple((t, c) for t, c in control.changes if t <= ts)
    return ControlTimeline(control.initial, seen) if seen else control.initial


class KnownControlSteps:
    """Steps ``generator`` (built with ``known_at(control, start_ts)``) cutting each step at the
    changes inside it, each part under the timeline known at its start."""

    def __init__(self, generator: Generator, control: Control, start_ts: int) -> None:
        self.generator = generator
        self.control = control
        self._given = known_at(control, start_ts)

    def set_control(self, control: Control) -> None:
        self.control = control

    def step(self, t0_ms: int, t1_ms: int) -> list[OptionPrint]:
        t0, t1 = int(t0_ms), int(t1_ms)
        cuts = [ts for ts, _ in self.control.changes if t0 < ts < t1] \
            if isinstance(self.control, ControlTimeline) else []
        out: list[OptionPrint] = []
        for end in (*cuts, t1):
            known = known_at(self.control, t0)
            if known != self._given:
                self.generator.set_control(known)
                self._given = known
            out += self.generator.step(t0, end)
            t0 = end
        return out
