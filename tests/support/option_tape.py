"""Option prints fed straight to the classifier: a hand-made tape and the run that collects its events."""

from __future__ import annotations

import datetime as dt

from flow_svc.classifier import SmartMoneyClassifier
from synthmarket.domain import chain
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.chain import occ_symbol
from synthmarket.domain.marketdata import OptionPrint, SmartMoneyEvent

DAY = trading_day(dt.date(2026, 11, 25))  # a Wednesday


T0 = DAY.at("10:00")


VENUES = ("CBOE", "ISE", "PHLX", "ARCA", "BOX", "MIAX", "EDGX")


class Tape:
    """Builds public prints with a quote that puts them on the wanted side."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.n = 0

    def opt(self, ts: int, *, und: str = "AAPL", right: str = "C", strike: float | None = None,
            otm: float = 0.04, dte: int = 30, price: float = 2.0, size: int = 100, side: str = "buy",
            exchange: str = "CBOE", spot: float = 228.0, mleg: str | None = None, cond: str | None = None,
            spread: float = 0.10, age: int = 150, quote: bool = True) -> OptionPrint:
        if strike is None:
            raw = spot * (1 + otm) if right == "C" else spot * (1 - otm)
            strike = round(raw * 2) / 2
        expiry = DAY.date + dt.timedelta(days=dte)
        if side == "buy":
            bid, ask = price - spread, price
        elif side == "sell":
            bid, ask = price, price + spread
        else:
            bid, ask = price - spread / 2, price + spread / 2
        self.n += 1
        return OptionPrint(
            id=f"{self.prefix}{self.n:06d}", ts=ts, underlying=und, contract=occ_symbol(und, expiry, right, strike),
            expiry=expiry.isoformat(), strike=float(strike), right=right, price=round(price, 4), size=size,
            exchange=exchange, bid=round(bid, 4) if quote else None, ask=round(ask, 4) if quote else None,
            iv=0.3, underlying_price=spot, multi_leg_id=mleg, quote_age_ms=age,
            condition=cond if cond is not None else (chain.COND_MLET if mleg else chain.COND_AUTO),
        )


def run(prints: list[OptionPrint], clf: SmartMoneyClassifier | None = None, tail_ms: int = 3_600_000
        ) -> list[SmartMoneyEvent]:
    clf = clf or SmartMoneyClassifier()
    events: list[SmartMoneyEvent] = []
    for p in sorted(prints, key=lambda p: p.ts):
        events.extend(clf.observe(p))
    events.extend(clf.flush(max(p.ts for p in prints) + tail_ms))
    return events
