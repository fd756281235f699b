"""Classifier rules: thresholds, which cluster a print joins, and what a closed cluster means.

The rule order and thresholds follow docs/flow_footprints.md ("Classifier rules"). Routing
sends every print to at most one cluster, so a print is explained by at most one event.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

from flow_svc import reasons as txt
from flow_svc.clusters import Cluster, PrintView, WindowSpec
from flow_svc.structures import arbitrage_structure
from synthmarket.domain.chain import FRONT_EXPIRY_MAX_DTE, SIDE_BUY, SIDE_MID, SIDE_SELL, SWEEP_CONDITIONS
from synthmarket.domain.profiles import Direction, SmartMoneyProfileId

KIND_MULTILEG = "multileg"
KIND_SWEEP = "sweep"
KIND_EVENT = "event"
KIND_HEDGE = "hedge"
KIND_RETAIL = "retail"
KIND_VOL_SELL = "vol_sell"
KIND_BLOCK = "block"
KIND_ACCUM = "accumulation"

INSTITUTIONAL = SmartMoneyProfileId.INSTITUTIONAL_DIRECTIONAL.value
RETAIL = SmartMoneyProfileId.RETAIL_WHALE.value
EVENT = SmartMoneyProfileId.EVENT_DRIVEN.value
VOL_SELLER = SmartMoneyProfileId.VOL_SELLER.value
ARBITRAGE = SmartMoneyProfileId.ARBITRAGE.value
HEDGE = SmartMoneyProfileId.HEDGE_REACTIVE.value

BULLISH = Direction.BULLISH.value
BEARISH = Direction.BEARISH.value
NEUTRAL = Direction.NEUTRAL.value


@dataclass(frozen=True)
class Thresholds:
    min_contracts: int = 10                 # smaller prints are noise
    min_premium: float = 25_000.0           # every event that starts a pattern
    repeat_min_premium: float = 10_000.0    # a repeat hit on a pattern already reported
    multileg_gap_ms: int = 50               # legs of one multi_leg_id print together
    multileg_max_span_ms: int = 1_000
    sweep_gap_ms: int = 50                  # ISO legs chained at most this far apart
    sweep_min_venues: int = 3
    sweep_min_dte: int = 10
    event_max_dte: int = 14
    event_gap_ms: int = 60_000
    hedge_max_dte: int = FRONT_EXPIRY_MAX_DTE
    hedge_max_otm: float = 0.0075           # |OTM| as a fraction of spot
    hedge_min_prints: int = 2
    hedge_gap_ms: int = 120_000
    retail_max_dte: int = 14
    retail_min_otm: float = 0.009
    retail_min_prints: int = 3
    retail_gap_ms: int = 90_000
    vol_sell_min_otm: float = 0.025
    vol_sell_min_dte: int = 14
    vol_sell_gap_ms: int = 300_000
    block_min_dte: int = 150
    block_min_contracts: int = 250
    block_gap_ms: int = 60_000
    accum_min_dte: int = 14
    accum_min_prints: int = 3
    accum_gap_ms: int = 120_000
    accum_max_span_ms: int = 600_000

    def window_specs(self) -> dict[str, WindowSpec]:
        return {
            KIND_MULTILEG: WindowSpec(self.multileg_gap_ms, max_span_ms=self.multileg_max_span_ms),
            KIND_SWEEP: WindowSpec(self.sweep_gap_ms),
            KIND_EVENT: WindowSpec(self.event_gap_ms, eager=True),
            KIND_HEDGE: WindowSpec(self.hedge_gap_ms, eager=True),
            KIND_RETAIL: WindowSpec(self.retail_gap_ms, eager=True),
            KIND_VOL_SELL: WindowSpec(self.vol_sell_gap_ms, eager=True),
            KIND_BLOCK: WindowSpec(self.block_gap_ms, eager=True),
            KIND_ACCUM: WindowSpec(self.accum_gap_ms, max_span_ms=self.accum_max_span_ms, eager=True),
        }

    def continuation(self) -> Thresholds:
        """The rules for prints that follow an event in the same cluster: the pattern is already
        established, so a repeat hit needs neither the print count again nor the full premium."""
        return replace(self, hedge_min_prints=1, retail_min_prints=1, accum_min_prints=1,
                       min_premium=self.repeat_min_premium)

    @property
    def longest_window_ms(self) -> int:
        return max(max(s.window_ms, s.max_span_ms or 0) for s in self.window_specs().values())


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Decision:
    profile: str
    direction: str
    reason: str
    prints: tuple[PrintView, ...]


# ---------------------------------------------------------------------------------------------
# Routing: which cluster a usable print (>= min_contracts, known side) joins


def route(pv: PrintView, th: Thresholds) -> tuple[str, Hashable] | None:
    p = pv.p
    if p.multi_leg_id:
        return KIND_MULTILEG, p.multi_leg_id                                   # rule 1
    if p.condition in SWEEP_CONDITIONS:
        return KIND_SWEEP, p.contract                                           # rule 2
    return route_single(pv, th)


def route_single(pv: PrintView, th: Thresholds) -> tuple[str, Hashable] | None:
    """Rules 3-7 for a single-leg print (also for ISO legs that did not make a sweep)."""
    p, side, dte, otm = pv.p, pv.side, pv.dte, pv.otm
    if side == SIDE_BUY and pv.event and dte <= th.event_max_dte:
        return KIND_EVENT, (p.underlying, p.right)                             # rule 3
    if (side in (SIDE_BUY, SIDE_SELL)) and dte <= th.hedge_max_dte and abs(otm) <= th.hedge_max_otm \
            and _is_gamma(p.strike, p.underlying_price):
        return KIND_HEDGE, (p.underlying, p.expiry, p.strike, side)            # rule 4
    if side == SIDE_BUY:
        if dte <= th.retail_max_dte and otm >= th.retail_min_otm:
            return KIND_RETAIL, (p.underlying, p.right)                        # rule 5
        if dte >= th.block_min_dte and p.size >= th.block_min_contracts:
            return KIND_BLOCK, (p.underlying, p.right)                         # rule 7, blocks
        if dte >= th.accum_min_dte:
            return KIND_ACCUM, p.contract                                      # rule 7, accumulation
    elif side == SIDE_SELL and otm >= th.vol_sell_min_otm and dte >= th.vol_sell_min_dte:
        return KIND_VOL_SELL, (p.underlying, p.right)                          # rule 6
    return None


def _is_gamma(strike: float, spot: float) -> bool:
    # Same rule as chain.is_gamma_strike, inlined on the hot path.
    step = 5.0 if spot < 300 else 10.0
    q = strike / step
    return abs(q - round(q)) < 1e-6


# ---------------------------------------------------------------------------------------------
# Decisions: what a closed cluster means (None = explains nothing)


def decide(cluster: Cluster, th: Thresholds) -> tuple[Decision | None, list[PrintView]]:
    """A closing sweep or multi-leg cluster's event (if any) and the prints to hand back to the
    single-leg rules."""
    if cluster.kind == KIND_SWEEP:
        return _sweep(cluster, th)
    return _multileg(cluster.prints, th), []


def decide_pending(cluster: Cluster, th: Thresholds) -> Decision | None:
    """An eager cluster's event from the prints no event has explained yet, once its rule is met."""
    if cluster.premium < th.min_premium:
        return None     # every rule needs the premium floor: the usual answer, asked on every print
    return _EAGER_DECIDERS[cluster.kind](cluster.prints, th)


def lead(prints: list[PrintView] | tuple[PrintView, ...]) -> PrintView:
    """The print with the most premium (earliest on ties): it names the event's contract."""
    best = prints[0]
    for pv in prints[1:]:
        if pv.premium > best.premium:
            best = pv
    return best


def _premium(prints: list[PrintView]) -> float:
    return sum(pv.premium for pv in prints)


def _directional(right: str) -> str:
    return BULLISH if right == "C" else BEARISH


def _count(prints: list[PrintView], kind: str = "") -> str:
    noun = f"{kind} print" if kind else "print"
    return f"1 {noun}" if len(prints) == 1 else f"{len(prints)} {noun}s"


def _span(prints: list[PrintView], word: str) -> str:
    """" over 50 s" for several prints; nothing for one."""
    if len(prints) == 1:
        return ""
    stamps = [pv.p.ts for pv in prints]
    return f" {word} {txt.duration(max(stamps) - min(stamps))}"


def _sweep(cluster: Cluster, th: Thresholds) -> tuple[Decision | None, list[PrintView]]:
    bought = [pv for pv in cluster.prints if pv.side == SIDE_BUY]
    venues = {pv.p.exchange for pv in bought}
    prem = _premium(bought)
    if not bought or len(venues) < th.sweep_min_venues or bought[0].dte < th.sweep_min_dte or prem < th.min_premium:
        return None, list(cluster.prints)
    first = bought[0]
    profile = EVENT if first.event and first.dte <= th.event_max_dte else INSTITUTIONAL
    word = txt.RIGHT_WORD[first.p.right].capitalize()
    where = " on an event symbol" if profile == EVENT else ""
    reason = (f"{word} sweep across {len(venues)} venues at the ask{where}, {txt.money(prem)}, "
              f"{txt.tenor(first.dte)}, {txt.moneyness(first.otm)}")
    leftovers = [pv for pv in cluster.prints if pv.side != SIDE_BUY]
    return Decision(profile, _directional(first.p.right), reason, tuple(bought)), leftovers


def _multileg(legs: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(legs)
    if prem < th.min_premium or len(legs) < 2:
        return None
    sides = {pv.side for pv in legs}
    rights = {pv.p.right for pv in legs}
    expiries = {pv.p.expiry for pv in legs}
    strikes = sorted({pv.p.strike for pv in legs})
    if sides == {SIDE_MID}:
        found = arbitrage_structure(legs)
        if found is None:
            return None
        return Decision(ARBITRAGE, NEUTRAL, f"{len(legs)}-leg {found.detail}, all at mid, {txt.money(prem)}", tuple(legs))
    if len(legs) != 2 or rights != {"C", "P"} or len(expiries) != 1:
        return None
    shape = "straddle" if len(strikes) == 1 else "strangle"
    at = "/".join(f"{k:g}" for k in strikes)
    if sides == {SIDE_BUY} and legs[0].event:
        return Decision(EVENT, NEUTRAL, f"Long {shape} {at} bought at the ask on an event symbol, "
                        f"{txt.money(prem)}, {txt.tenor(legs[0].dte)}", tuple(legs))
    if sides == {SIDE_SELL} and len(strikes) == 1:
        return Decision(VOL_SELLER, NEUTRAL, f"Short straddle {at} sold at the bid, {txt.money(prem)}, "
                        f"{txt.tenor(legs[0].dte)}", tuple(legs))
    return None


def _event(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if prem < th.min_premium:
        return None
    top = lead(prints)
    word = txt.RIGHT_WORD[top.p.right]
    reason = (f"Event-symbol {word} buying: {_count(prints)} at the ask{_span(prints, 'over')}, "
              f"{txt.money(prem)}, {txt.tenor(top.dte)}, {txt.moneyness(top.otm)}")
    return Decision(EVENT, _directional(top.p.right), reason, tuple(prints))


def _hedge(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if len(prints) < th.hedge_min_prints or prem < th.min_premium:
        return None
    top = lead(prints)
    strike = f"{top.p.strike:g}"
    if prints[0].side == SIDE_SELL:
        direction = NEUTRAL
        head = f"Dealer unwind at gamma strike {strike}: {_count(prints, txt.rights_word(prints))} at the bid"
    else:
        calls = sum(pv.premium for pv in prints if pv.p.right == "C")
        direction = BULLISH if calls * 2 >= prem else BEARISH
        word = "call" if direction == BULLISH else "put"
        head = f"Gamma-strike {strike} {word} hedging: {_count(prints)} at the ask"
    reason = f"{head}{_span(prints, 'over')}, {txt.money(prem)}, {txt.tenor(top.dte)}, spot {top.p.underlying_price:.2f}"
    return Decision(HEDGE, direction, reason, tuple(prints))


def _retail(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if len(prints) < th.retail_min_prints or prem < th.min_premium:
        return None
    top = lead(prints)
    word = txt.RIGHT_WORD[top.p.right]
    reason = (f"Short-dated {word} chase: {_count(prints)} at the ask{_span(prints, 'in')}, "
              f"{txt.money(prem)}, {txt.tenor(top.dte)}, {txt.moneyness(top.otm)}")
    return Decision(RETAIL, _directional(top.p.right), reason, tuple(prints))


def _vol_sell(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if prem < th.min_premium:
        return None
    top = lead(prints)
    n = sum(pv.p.size for pv in prints)
    if top.p.right == "C":
        direction, head = NEUTRAL, "Call overwrite"
    else:
        direction, head = BULLISH, "Cash-secured put write"
    reason = (f"{head}: {txt.contracts(n)} sold at the bid in {_count(prints)}, {txt.money(prem)}, "
              f"{txt.tenor(top.dte)}, {txt.moneyness(top.otm)}")
    return Decision(VOL_SELLER, direction, reason, tuple(prints))


def _block(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if prem < th.min_premium:
        return None
    top = lead(prints)
    n = sum(pv.p.size for pv in prints)
    reason = (f"Far-dated {txt.RIGHT_WORD[top.p.right]} block at the ask: {txt.contracts(n)}, {txt.money(prem)}, "
              f"{txt.tenor(top.dte)}, {txt.moneyness(top.otm)}")
    return Decision(INSTITUTIONAL, _directional(top.p.right), reason, tuple(prints))


def _accumulation(prints: list[PrintView], th: Thresholds) -> Decision | None:
    prem = _premium(prints)
    if len(prints) < th.accum_min_prints or prem < th.min_premium:
        return None
    top = lead(prints)
    reason = (f"{txt.RIGHT_WORD[top.p.right].capitalize()} accumulation: {_count(prints)} lifting the ask"
              f"{_span(prints, 'over')}, {txt.money(prem)}, {txt.tenor(top.dte)}, {txt.moneyness(top.otm)}")
    return Decision(INSTITUTIONAL, _directional(top.p.right), reason, tuple(prints))


_EAGER_DECIDERS = {
    KIND_EVENT: _event,
    KIND_HEDGE: _hedge,
    KIND_RETAIL: _retail,
    KIND_VOL_SELL: _vol_sell,
    KIND_BLOCK: _block,
    KIND_ACCUM: _accumulation,
}
