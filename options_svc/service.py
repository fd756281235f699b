"""The live options ingest service: the options generator as a tape of protobuf prints for the shared ingest loop."""

from __future__ import annotations

from collections.abc import Sequence

from options_svc.generator import OptionsGenerator
from synthmarket import names, wire
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.ingest import IngestService, UniverseEngine

SERVICE = "options_svc"


class OptionsTape:
    """Option prints on ``md.options.prints.<SYM>``. Hidden labels are popped and dropped every step."""

    def __init__(self, control: SyntheticControlState, symbols: Sequence[str], universe: Sequence[str],
                 start_ts: int) -> None:
        self.generator = OptionsGenerator(control, symbols, start_ts=start_ts, engine=UniverseEngine(universe))
        self._subjects = {s: names.option_prints_subject(s) for s in self.generator.symbols}

    def set_control(self, control: SyntheticControlState) -> None:
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
