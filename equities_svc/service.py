"""The live equities ingest service: the equities generator as a tape of protobuf trades and quotes."""

from __future__ import annotations

from collections.abc import Sequence

from equities_svc.generator import EquitiesGenerator
from synthmarket import names, wire
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.marketdata import EquityTrade
from synthmarket.infra.ingest import IngestService, UniverseEngine

SERVICE = "equities_svc"


class EquitiesTape:
    """Trades on ``md.equities.trades.<SYM>``, NBBO quotes on ``md.equities.quotes.<SYM>``."""

    def __init__(self, control: Control, symbols: Sequence[str], universe: Sequence[str],
                 start_ts: int) -> None:
        self.generator = EquitiesGenerator(control, symbols, start_ts=start_ts, engine=UniverseEngine(universe))
        syms = self.generator.symbols
        self._trades = {s: names.equity_trades_subject(s) for s in syms}
        self._quotes = {s: names.equity_quotes_subject(s) for s in syms}

    def set_control(self, control: Control) -> None:
        self.generator.set_control(control)

    def step(self, t0_ms: int, t1_ms: int) -> list[tuple[int, str, bytes]]:
        out = []
        for r in self.generator.step(t0_ms, t1_ms):
            if isinstance(r, EquityTrade):
                out.append((r.ts, self._trades[r.symbol], wire.equity_trade_to_proto(r).SerializeToString()))
            else:
                out.append((r.ts, self._quotes[r.symbol], wire.equity_quote_to_proto(r).SerializeToString()))
        return out

    def hit_counts(self) -> dict[str, int]:
        return {}  # scenario profiles live on the option tape

    def coverage_debt(self) -> int:
        return 0


async def start_equities_service(settings, nc, **kwargs) -> IngestService:
    """Build and start the equities ingest service on ``nc`` (keywords as for ``IngestService``)."""
    kwargs.setdefault("replica", settings.equities_replica)
    kwargs.setdefault("replicas", settings.equities_replicas)
    service = IngestService(SERVICE, settings, nc, EquitiesTape, **kwargs)
    await service.start()
    return service
