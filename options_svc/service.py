"""The live options ingest service: the options generator as a tape of protobuf prints for the shared ingest loop."""

from __future__ import annotations

from collections.abc import Sequence

from options_svc.generator import OptionsGenerator
from synthmarket import names, wire
from synthmarket.domain.calendar import trading_day_for
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.ingest import IngestService, UniverseEngine

SERVICE = "options_svc"


# Fast-forwarding from the open runs in steps of this much session time.
CATCH_UP_STEP_MS = 60_000


class OptionsTape:
    """Option prints on ``md.options.prints.<SYM>``. Hidden labels are popped and dropped every step.

    Started mid-session, the generator runs from the session's open to ``start_ts`` without
    publishing: its state (self-exciting arrivals, coverage) is then the one a service running
    since the open has, so the tape from here on is that service's tape, print for print, and the
    flow service's replay of the session so far joins it seamlessly.
    """

    def __init__(self, control: Control, symbols: Sequence[str], universe: Sequence[str],
                 start_ts: int) -> None:
        open_ms = min(trading_day_for(start_ts).open_ms, start_ts)
        self.generator = OptionsGenerator(control, symbols, start_ts=open_ms, engine=UniverseEngine(universe))
        self._subjects = {s: names.option_prints_subject(s) for s in self.generator.symbols}
        for t0 in range(open_ms, start_ts, CATCH_UP_STEP_MS):
            self.generator.step(t0, min(t0 + CATCH_UP_STEP_MS, start_ts))
            self.generator.pop_labels()
            self.generator.pop_scenarios()

    def set_control(self, control: Control) -> None:
        self.generator.set_control(control)

    def step(self, t0_ms: int, t1_ms: int) -> list[tuple[int, str, bytes]]:
        prints = self.generator.step(t0_ms, t1_ms)
        # The (family, subtype) labels exist for offline tests only; they never leave the process.
        self.generator.pop_labels()
        self.generator.pop_scenarios()
        return [
            (p.ts, self._subjects[p.underlying], wire.option_print_to_proto(p).SerializeToString())
            for p in prints
        ]

    def hit_counts(self) -> dict[str, int]:
        hits = self.generator.hit_counts()
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
