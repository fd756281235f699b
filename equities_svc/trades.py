"""Trade sides and prices against the NBBO in force: lit at or inside the quote, TRF with sub-penny fills.

Prices are computed in integer ten-thousandths of a dollar ("micros") so the grids are exact:
lit prints are multiples of 100 micros (the penny); off-exchange prints may use any micro.

Documented exceptions (the only prints outside the NBBO in force):
- lit trade-throughs, one tick through the quote, probability ``P_TRADE_THROUGH`` per lit print
  (an intermarket-sweep fill racing a stale NBBO);
- off-exchange odd prices up to three spreads away, probability ``P_ODD_OFF_EXCHANGE`` per TRF
  print (late or derivatively priced reports).
"""

from __future__ import annotations

import numpy as np

MICROS_PER_CENT = 100
MICROS_PER_DOLLAR = 10_000

P_TRADE_THROUGH = 0.001
P_ODD_OFF_EXCHANGE = 0.002
P_LIT_INSIDE = 0.12          # hidden / midpoint-peg liquidity on lit books fills inside the spread
P_WHOLESALER_ODD_LOT = 0.60  # retail odd lots mostly get sub-penny price improvement
P_WHOLESALER_ROUND = 0.25
P_DARK_MIDPOINT = 0.50       # of the non-wholesaler TRF prints


def trade_sides(
    u_own: np.ndarray,
    u_inherit: np.ndarray,
    parents: np.ndarray,
    p_buy: float | np.ndarray,
    persistence: float | np.ndarray,
) -> np.ndarray:
    """+1 (buyer-initiated) or -1 per trade.

    A triggered trade keeps its parent's side with probability ``persistence``: a large order
    worked in pieces gives the long memory in trade signs seen in real tapes.
    """
    own = np.where(u_own < p_buy, 1, -1).astype(np.int64)
    inherit = (parents >= 0) & (u_inherit < persistence)
    sides = own.copy()
    src = np.where(parents >= 0, parents, 0)
    # Parents always precede children, so each pass settles one more generation.
    for _ in range(12):
        updated = np.where(inherit, sides[src], own)
        if np.array_equal(updated, sides):
            break
        sides = updated
    return sides


def trade_prices_micros(
    uniforms: np.ndarray,
    bid_c: np.ndarray,
    ask_c: np.ndarray,
    sides: np.ndarray,
    off_exchange: np.ndarray,
    sizes: np.ndarray,
) -> np.ndarray:
    """Price of each trade in micros, given the bid/ask in cents in force at the trade.

    ``uniforms`` has shape (4, n): kind, inside-tick, improvement and exception draws.
    """
    bid_m = bid_c * MICROS_PER_CENT
    ask_m = ask_c * MICROS_PER_CENT
    width_c = ask_c - bid_c
    buy = sides > 0
    touch = np.where(buy, ask_m, bid_m)

    u_kind, u_inside, u_imp, u_odd = uniforms

    # Lit: at the touch, sometimes a penny strictly inside, rarely one tick through.
    inside_c = bid_c + 1 + np.floor(u_inside * np.maximum(width_c - 1, 1)).astype(np.int64)
    lit = np.where((u_kind < P_LIT_INSIDE) & (width_c >= 2), inside_c * MICROS_PER_CENT, touch)
    through = u_odd < P_TRADE_THROUGH
    lit = np.where(through, touch + sides * MICROS_PER_CENT, lit)

    # Off exchange: wholesaler sub-penny improvement, dark midpoint crosses, or the touch.
    wholesale_p = np.where(sizes < 100, P_WHOLESALER_ODD_LOT, P_WHOLESALER_ROUND)
    is_wholesale = u_kind < wholesale_p
    is_mid = (~is_wholesale) & (u_kind < wholesale_p + (1.0 - wholesale_p) * P_DARK_MIDPOINT)
    max_imp = np.maximum(1, width_c * MICROS_PER_CENT // 2 - 1)
    improvement = 1 + np.floor(u_imp * np.minimum(max_imp, 49)).astype(np.int64)
    wholesale = touch - sides * improvement
    midpoint = (bid_m + ask_m) // 2
    off = np.where(is_wholesale, wholesale, np.where(is_mid, midpoint, touch))
    odd = u_odd < P_ODD_OFF_EXCHANGE
    away = midpoint + sides * (width_c * MICROS_PER_CENT) * (1 + np.floor(u_imp * 3).astype(np.int64)) + 37
    off = np.where(odd, away, off)

    price = np.where(off_exchange, off, lit)
    return np.maximum(price, MICROS_PER_CENT)
