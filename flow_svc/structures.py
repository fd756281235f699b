"""Multi-leg structure recognition: verticals, conversions/reversals and boxes, with parity checks.

Listed US equity options are American: without dividends a call is worth its European value and a
put may be worth more, so C - P sits between S - K and S - K e^(-rT) (MARKET_FACTS, "No-arbitrage
relations"), and a box, the difference of two such pairs, between K2 e^(-rT) - K1 and K2 - K1 e^(-rT).
The checks accept those bands (European prices sit at C - P = S - K e^(-rT), box = (K2 - K1) e^(-rT)).
"""

from __future__ import annotations

from dataclasses import dataclass

from flow_svc.clusters import PrintView
from synthmarket.domain.chain import discount_factor

# Absolute slack on every bound, in USD per share: a leg printed on the penny grid may sit half a
# tick off the exact mid.
PRICE_SLACK = 0.005


@dataclass(frozen=True)
class Structure:
    name: str                       # "vertical" | "conversion" | "box"
    detail: str                     # short text for the event reason


def _half_spread(pv: PrintView) -> float:
    p = pv.p
    return 0.5 * (p.ask - p.bid)  # type: ignore[operator]  # side is known, so the quote exists


def _same_expiry_and_size(legs: list[PrintView]) -> bool:
    first = legs[0].p
    return all(pv.p.expiry == first.expiry and pv.p.size == first.size for pv in legs)


def vertical(legs: list[PrintView]) -> Structure | None:
    """Two legs of one right and expiry, K1 < K2: the debit must lie in [0, K2 - K1]."""
    if len(legs) != 2 or not _same_expiry_and_size(legs):
        return None
    a, b = sorted((pv.p for pv in legs), key=lambda p: p.strike)
    if a.right != b.right or a.strike >= b.strike:
        return None
    width = b.strike - a.strike
    # Calls are worth more at the lower strike, puts at the higher one.
    net = a.price - b.price if a.right == "C" else b.price - a.price
    slack = PRICE_SLACK + _half_spread(legs[0]) + _half_spread(legs[1])
    if not -slack <= net <= width + slack:
        return None
    kind = "call" if a.right == "C" else "put"
    return Structure("vertical", f"{kind} vertical {a.strike:g}/{b.strike:g} at {net:.2f} within [0, {width:g}]")


def conversion(legs: list[PrintView]) -> Structure | None:
    """Call and put at one strike and expiry: C - P within the quoted spreads of [S - K, S - K e^(-rT)]."""
    if len(legs) != 2 or not _same_expiry_and_size(legs):
        return None
    by_right = {pv.p.right: pv for pv in legs}
    if set(by_right) != {"C", "P"}:
        return None
    c, p = by_right["C"].p, by_right["P"].p
    if c.strike != p.strike:
        return None
    spot = c.underlying_price
    fair = spot - c.strike * discount_factor(c.ts, c.expiry)
    spreads = (c.ask - c.bid) + (p.ask - p.bid)  # type: ignore[operator]
    gap = (c.price - p.price) - fair
    # Early exercise of the put can take C - P down to S - K.
    if not (spot - c.strike) - fair - spreads - PRICE_SLACK <= gap <= spreads + PRICE_SLACK:
        return None
    return Structure("conversion", f"conversion/reversal at {c.strike:g}, C-P {c.price - p.price:+.2f} vs parity {fair:+.2f}")


def box(legs: list[PrintView]) -> Structure | None:
    """+C(K1) -C(K2) +P(K2) -P(K1): net within the summed half-spreads of [K2 e^(-rT) - K1, K2 - K1 e^(-rT)]."""
    if len(legs) != 4 or not _same_expiry_and_size(legs):
        return None
    quotes: dict[tuple[str, float], PrintView] = {(pv.p.right, pv.p.strike): pv for pv in legs}
    strikes = sorted({pv.p.strike for pv in legs})
    if len(quotes) != 4 or len(strikes) != 2:
        return None
    k1, k2 = strikes
    try:
        c1, c2, p1, p2 = (quotes[("C", k1)].p, quotes[("C", k2)].p, quotes[("P", k1)].p, quotes[("P", k2)].p)
    except KeyError:
        return None
    net = c1.price - c2.price + p2.price - p1.price
    df = discount_factor(c1.ts, c1.expiry)
    fair = (k2 - k1) * df
    tolerance = sum(_half_spread(pv) for pv in legs) + PRICE_SLACK
    # C(K) - P(K) within [S - K, S - K e^(-rT)] at both strikes bounds the box.
    if not k2 * df - k1 - tolerance <= net <= k2 - k1 * df + tolerance:
        return None
    return Structure("box", f"box {k1:g}/{k2:g} at {net:.2f} vs {fair:.2f} discounted width")


def arbitrage_structure(legs: list[PrintView]) -> Structure | None:
    """The first structure (vertical, conversion, box) the legs form and whose bound they pass."""
    for check in (vertical, conversion, box):
        found = check(legs)
        if found is not None:
            return found
    return None
