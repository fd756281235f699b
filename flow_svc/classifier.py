"""The streaming smart-money classifier: option prints in, public SmartMoneyEvents out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import replace

from flow_svc.clusters import Cluster, ClusterBook, PrintView
from flow_svc.context import EventSymbolSource, MarketContext
from flow_svc.reasons import REPEAT_PREFIX
from flow_svc.rules import (
    DEFAULT_THRESHOLDS,
    KIND_MULTILEG,
    KIND_SWEEP,
    Decision,
    Thresholds,
    decide,
    decide_pending,
    lead,
    route,
    route_single,
)
from synthmarket.domain.calendar import exchange_date
from synthmarket.domain.chain import CONTRACT_MULTIPLIER, SIDE_UNKNOWN, otm_frac, side_of
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent

_MS_PER_HOUR = 3_600_000
_CACHE_LIMIT = 4_096
_PRICE_EPS = 1e-9


class SmartMoneyClassifier:
    """Turns the public option tape into smart-money events (see docs/flow_footprints.md).

    Prints must arrive in ts order. ``observe`` returns the events that print completes: most
    patterns are decided on the print that meets their rule, and the prints that keep coming in
    the same cluster make repeat events; a sweep or a multi-leg order is decided when its
    millisecond window closes, on a later print or on ``flush(now_ts)`` (calling it says no print
    older than ``now_ts`` will follow). An event's ts is its last print's ts, so the output does
    not depend on how often ``flush`` is called. Deterministic, and memory is bounded by the open
    clusters, none of which outlives the longest window (``Thresholds.longest_window_ms``).
    """

    def __init__(
        self,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        event_symbols: Iterable[str] = (),
        event_symbol_source: EventSymbolSource | None = None,
    ) -> None:
        self.thresholds = thresholds
        self._continuation = thresholds.continuation()
        self._min_contracts = thresholds.min_contracts
        self.context = MarketContext(event_symbols, event_symbol_source)
        specs = thresholds.window_specs()
        self._eager = frozenset(kind for kind, spec in specs.items() if spec.eager)
        self._book = ClusterBook(specs)
        self._seq = 0
        self._dates: dict[int, int] = {}        # UTC hour -> exchange-date ordinal
        self._volume: dict[str, int] = {}       # contract -> contracts traded on ``_volume_day``
        self._volume_day = 0
        self._expiries: dict[str, int] = {}     # "YYYY-MM-DD" -> date ordinal

    # -- context ------------------------------------------------------------------------------

    def set_event_symbols(self, ts: int, symbols: Iterable[str]) -> None:
        self.context.set_event_symbols(ts, symbols)

    def observe_equity(self, item: EquityTrade | EquityQuote) -> None:
        self.context.observe_equity(item)

    @property
    def open_clusters(self) -> int:
        return len(self._book)

    # -- the tape -----------------------------------------------------------------------------

    def observe(self, p: OptionPrint) -> list[SmartMoneyEvent]:
        events = self._close_due(p.ts)
        self._count_volume(p)
        pv = self._view(p)
        if pv is None:
            return events
        target = route(pv, self.thresholds)
        if target is not None:
            self._add(target[0], target[1], pv, events)
        return events

    def flush(self, now_ts: int) -> list[SmartMoneyEvent]:
        return self._close_due(now_ts)

    # -- internals ----------------------------------------------------------------------------

    def _view(self, p: OptionPrint) -> PrintView | None:
        size = p.size
        if size < self._min_contracts:
            return None
        price = p.price
        side = side_of(price, p.bid, p.ask, p.quote_age_ms)
        if side == SIDE_UNKNOWN:
            return None
        ts = p.ts
        self._seq += 1
        return PrintView(
            p,
            side,
            self._dte(ts, p.expiry),
            otm_frac(p.right, p.strike, p.underlying_price),
            price * size * CONTRACT_MULTIPLIER,
            p.underlying in self.context.event_symbols(ts),
            self._seq,
        )

    def _count_volume(self, p: OptionPrint) -> None:
        day = self._today(p.ts)
        if day != self._volume_day:
            self._volume, self._volume_day = {}, day
            self.context.new_day()
        self._volume[p.contract] = self._volume.get(p.contract, 0) + p.size
        self.context.open_interest[p.contract] = p.open_interest

    def _today(self, ts: int) -> int:
        hour = ts // _MS_PER_HOUR
        today = self._dates.get(hour)
        if today is None:
            if len(self._dates) >= _CACHE_LIMIT:
                self._dates.clear()
            today = self._dates[hour] = exchange_date(ts).toordinal()
        return today

    def _dte(self, ts: int, expiry: str) -> int:
        """chain.dte with caches: the exchange date changes only on a UTC hour boundary."""
        today = self._today(ts)
        day = self._expiries.get(expiry)
        if day is None:
            if len(self._expiries) >= _CACHE_LIMIT:
                self._expiries.clear()
            day = self._expiries[expiry] = _parse_expiry(expiry)
        return day - today

    def _event(self, decision: Decision, kind: str) -> SmartMoneyEvent:
        prints = sorted(decision.prints, key=lambda pv: pv.seq)
        top = lead(prints)
        p = top.p
        on_lead = [pv.p for pv in prints if pv.p.contract == p.contract]
        lead_contracts = sum(q.size for q in on_lead)
        return SmartMoneyEvent(
            event_id=f"sm-{prints[0].p.id}",
            ts=max(pv.p.ts for pv in prints),
            profile_id=decision.profile,
            underlying=p.underlying,
            direction=decision.direction,
            premium=round(sum(pv.premium for pv in prints), 2),
            contracts=sum(pv.p.size for pv in prints),
            print_ids=tuple(pv.p.id for pv in prints),
            reason=decision.reason,
            contract=p.contract,
            expiry=p.expiry,
            strike=p.strike,
            right=p.right,
            spot=p.underlying_price,
            side=_side(p.price, p.bid, p.ask),
            order_type=_order_type(kind, len(prints)),
            price=round(sum(q.price * q.size for q in on_lead) / lead_contracts, 4),
            iv=p.iv,
            volume=self._volume.get(p.contract, 0),
            open_interest=self.context.open_interest.get(p.contract),
        )

    def _close_due(self, now_ts: int) -> list[SmartMoneyEvent]:
        if not self._book.has_due(now_ts):
            return []       # the usual answer, asked on every print and every flush
        events: list[SmartMoneyEvent] = []
        while True:
            due = self._book.pop_due(now_ts)
            if not due:
                return events
            events.extend(self._close(due))

    def _add(self, kind: str, key: Hashable, pv: PrintView, events: list[SmartMoneyEvent]) -> None:
        cluster, evicted = self._book.add(kind, key, pv)
        if evicted is not None:
            events.extend(self._close([evicted]))
        if kind in self._eager:
            repeat = cluster.fired > 0
            decision = decide_pending(cluster, self._continuation if repeat else self.thresholds)
            if decision is not None:
                cluster.take()
                if repeat:
                    decision = replace(decision, reason=REPEAT_PREFIX + decision.reason)
                events.append(self._event(decision, kind))

    def _close(self, clusters: list[Cluster]) -> list[SmartMoneyEvent]:
        events: list[SmartMoneyEvent] = []
        for cluster in clusters:
            if cluster.kind in self._eager:
                continue    # decided print by print: what is left never met the rule
            decision, leftovers = decide(cluster, self.thresholds)
            if decision is not None:
                events.append(self._event(decision, cluster.kind))
            for pv in leftovers:
                target = route_single(pv, self.thresholds)
                if target is not None:
                    self._add(target[0], target[1], pv, events)
        return events


def _parse_expiry(expiry: str) -> int:
    return dt.date.fromisoformat(expiry).toordinal()


def _order_type(kind: str, n_prints: int) -> str:
    if kind == KIND_SWEEP:
        return "sweep"
    if kind == KIND_MULTILEG:
        return "multi_leg"
    return "block" if n_prints == 1 else "split"


def _side(price: float, bid: float | None, ask: float | None) -> str:
    """Where a print traded against its quote, as flow tools tag it (the quote is known: side was)."""
    if bid is None or ask is None:
        return "mid"
    if price > ask + _PRICE_EPS:
        return "above_ask"
    if price < bid - _PRICE_EPS:
        return "below_bid"
    quarter = 0.25 * (ask - bid)
    if price >= ask - quarter:
        return "ask"
    if price <= bid + quarter:
        return "bid"
    return "mid"
