"""The live options ingest service: the options generator as a tape of protobuf prints for the shared ingest loop."""

from __future__ import annotations

import collections
from collections.abc import Sequence

from options_svc.generator import OptionsGenerator
from options_svc.known_control import KnownControlSteps, known_at
from synthmarket import names, wire
from synthmarket.domain.calendar import MS_PER_MINUTE, trading_day_for
from synthmarket.domain.control_timeline import Control, control_at
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.ingest import IngestService, UniverseEngine

SERVICE = "options_svc"


# Fast-forwarding from the open runs in steps of this much session time.
CATCH_UP_STEP_MS = 60_000
# Session time drawn ahead while the tape is built.
AHEAD_MS = 1_000


class OptionsTape:
    """Option prints on ``md.options.prints.<SYM>``. Hidden labels are popped and dropped every step.

    Started mid-session, the generator runs from the session's open to ``start_ts`` without
    publishing: its state (self-exciting arrivals, coverage) is then the one a service running
    since the open has, so the tape from here on is that service's tape, print for print, and the
    flow service's replay of the session so far joins it seamlessly.

    The generator runs over the whole universe and the tape publishes only ``symbols``: scenarios
    are numbered across all names, coverage assist weighs the hits of all names and a hedge may
    land on another name, so a generator of a part of the universe draws another tape. This way
    the prints of n replicas together are, byte for byte, the prints of one.
    """

    def __init__(self, control: Control, symbols: Sequence[str], universe: Sequence[str],
                 start_ts: int) -> None:
        open_ms = min(trading_day_for(start_ts).open_ms, start_ts)
        self.generator = OptionsGenerator(known_at(control, open_ms), universe, start_ts=open_ms,
                                          engine=UniverseEngine(universe))
        self._steps = KnownControlSteps(self.generator, control, open_ms)
        self._subjects = {s: names.option_prints_subject(s) for s in symbols}
        self._control = control
        # Scenarios of our own names (ts, family) in the coverage window: the hits this replica
        # reports, so the replicas' reports add up to the universe's.
        self._own_hits: collections.deque[tuple[int, str]] = collections.deque()
        self._now = open_ms
        for t0 in range(open_ms, start_ts, CATCH_UP_STEP_MS):
            self._steps.step(t0, min(t0 + CATCH_UP_STEP_MS, start_ts))
            self._drop_hidden(min(t0 + CATCH_UP_STEP_MS, start_ts))
        # The first prints of a day come with that day's setup (price paths, yesterday's open
        # interest: seconds of CPU). Drawing its first second here keeps that off the service's
        # event loop (this constructor runs in a worker thread); the tape does not depend on
        # where steps fall.
        self._ahead_until = start_ts + AHEAD_MS
        self._ahead: list[OptionPrint] = self._steps.step(start_ts, self._ahead_until)
        self._drop_hidden(start_ts)

    def set_control(self, control: Control) -> None:
        self._control = control
        self._steps.set_control(control)

    def step(self, t0_ms: int, t1_ms: int) -> list[tuple[int, str, bytes]]:
        prints = []
        if self._ahead:
            prints = [p for p in self._ahead if t0_ms <= p.ts < t1_ms]
            self._ahead = [p for p in self._ahead if p.ts >= t1_ms]
        if t1_ms > self._ahead_until:
            prints += self._steps.step(max(t0_ms, self._ahead_until), t1_ms)
        self._drop_hidden(t1_ms)
        subjects = self._subjects
        return [
            (p.ts, subjects[p.underlying], wire.option_print_to_proto(p).SerializeToString())
            for p in prints if p.underlying in subjects
        ]

    def _drop_hidden(self, now_ms: int) -> None:
        # The (family, subtype) labels exist for offline tests only; they never leave the process.
        self.generator.pop_labels()
        self._own_hits.extend((s.ts, s.family) for s in self.generator.pop_scenarios()
                              if s.symbol in self._subjects and s.family in PUBLIC_PROFILE_IDS)
        self._now = max(self._now, int(now_ms))

    def hit_counts(self) -> dict[str, int]:
        window = control_at(self._control, self._now).coverage_window_minutes * MS_PER_MINUTE
        while self._own_hits and self._own_hits[0][0] <= self._now - window:
            self._own_hits.popleft()
        hits = collections.Counter(family for _ts, family in self._own_hits)
        return {p: int(hits.get(p, 0)) for p in PUBLIC_PROFILE_IDS}

    def coverage_debt(self) -> int:
        hits = self.generator.hit_counts()
        return sum(1 for p in PUBLIC_PROFILE_IDS if hits.get(p, 0) == 0)


async def start_options_service(settings, nc, **kwargs) -> IngestService:
    """Build and start the options ingest service on ``nc`` (keywords as for ``IngestService``)."""
    kwargs.setdefault("replica", settings.options_replica)
    kwargs.setdefault("replicas", settings.options_replicas)
    service = IngestService(SERVICE, settings, nc, OptionsTape, **kwargs)
    await service.start()
    return service
