"""Trade sides, prices against the NBBO in force and sale conditions: lit at or inside the quote, TRF with sub-penny fills.

Prices are computed in integer ten-thousandths of a dollar ("micros") so the grids are exact:
lit prints are multiples of 100 micros (the penny); off-exchange prints may use any micro.

The only prints outside the NBBO in force carry the condition that allows it:
- ``ISO``: lit trade-throughs, one tick through the quote, probability ``P_TRADE_THROUGH`` per lit
  print (an intermarket-sweep fill racing a quote being replaced); a share ``P_LIT_ISO`` of the other
  lit prints are sweep fills at the quote;
- ``LATE``: off-exchange prints reported up to a minute and a half after they traded, at the price
  of that moment (probability ``P_LATE`` per TRF print);
- ``AVERAGE_PRICE``: off-exchange reports of an order worked over the last half hour, at its
  average price (``P_AVERAGE_PRICE``).
"""

from __future__ import annotations

import numpy as np

from synthmarket.domain.marketdata import EQUITY_TRADE_CONDITIONS, NBBO_EXEMPT_CONDITIONS

# Condition codes: an index into CONDITIONS (EQUITY_TRADE_CONDITIONS' order).
CONDITIONS = np.array(EQUITY_TRADE_CONDITIONS, dtype=object)
REGULAR, ODD_LOT, ISO, OPENING_CROSS, CLOSING_CROSS, LATE, AVERAGE_PRICE = range(len(EQUITY_TRADE_CONDITIONS))
EXC_NONE, EXC_THROUGH, EXC_LATE, EXC_AVERAGE = range(4)
# Every print this module may price outside the quote carries a condition that allows it.
if not {CONDITIONS[c] for c in (ISO, LATE, AVERAGE_PRICE, OPENING_CROSS, CLOSING_CROSS)} <= NBBO_EXEMPT_CONDITIONS:
    raise TypeError("an exception's condition must be in NBBO_EXEMPT_CONDITIONS")

MICROS_PER_CENT = 100
MICROS_PER_DOLLAR = 10_000

P_TRADE_THROUGH = 0.001
P_LIT_ISO = 0.20
P_LATE = 0.0015
P_AVERAGE_PRICE = 0.0005
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
) -> tuple[np.ndarray, np.ndarray]:
    """(price of each trade in micros, exception code) given the bid/ask in cents in force at the trade.

    ``uniforms`` has shape (4, n): kind, inside-tick, improvement and exception draws. The exception
    is ``EXC_THROUGH`` (priced here), ``EXC_LATE`` or ``EXC_AVERAGE`` (priced at the touch here; the
    caller reprices them from the path) or ``EXC_NONE``.
    """
    bid_m = bid_c * MICROS_PER_CENT
    ask_m = ask_c * MICROS_PER_CENT
    width_c = ask_c - bid_c
    buy = sides > 0
    touch = np.where(buy, ask_m, bid_m)

    u_kind, u_inside, u_imp, u_exc = uniforms

    # Lit: at the touch, sometimes a penny strictly inside, rarely one tick through.
    inside_c = bid_c + 1 + np.floor(u_inside * np.maximum(width_c - 1, 1)).astype(np.int64)
    lit = np.where((u_kind < P_LIT_INSIDE) & (width_c >= 2), inside_c * MICROS_PER_CENT, touch)
    through = ~off_exchange & (u_exc < P_TRADE_THROUGH)
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

    price = np.maximum(np.where(off_exchange, off, lit), MICROS_PER_CENT)
    late = off_exchange & (u_exc < P_LATE)
    average = off_exchange & ~late & (u_exc < P_LATE + P_AVERAGE_PRICE)
    exc = np.where(through, EXC_THROUGH, np.where(late, EXC_LATE, np.where(average, EXC_AVERAGE, EXC_NONE)))
    return price, exc.astype(np.int8)


def conditions(exc: np.ndarray, sizes: np.ndarray, off_exchange: np.ndarray, u_iso: np.ndarray) -> np.ndarray:
    """Condition code of each print (an index into ``CONDITIONS``): exception, then ISO, then odd lot."""
    iso = (exc == EXC_THROUGH) | (~off_exchange & (u_iso < P_LIT_ISO))
    code = np.where(sizes < 100, ODD_LOT, REGULAR)
    code = np.where(iso, ISO, code)
    code = np.where(exc == EXC_LATE, LATE, np.where(exc == EXC_AVERAGE, AVERAGE_PRICE, code))
    return code.astype(np.int8)
