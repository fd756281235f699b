"""JSON lines of equity records built a column at a time, byte-identical to ``json.dumps`` of their dicts.

A replay writes hundreds of thousands of quotes and trades: formatting each from a dict (or even
field by field) costs more than generating it. Here every distinct price is written once per
column and each line is one ``%`` format of plain ints and ready-made texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from synthmarket.domain.marketdata import COND_REGULAR

# Text that JSON writes between quotes unchanged: no escapes needed, so it can go in verbatim.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]*\Z")
_BOOL = np.array(["false", "true"], dtype=object)


def plain(text: str) -> str:
    """``text`` itself, if JSON needs no escaping for it; otherwise a ValueError."""
    if not _PLAIN.match(text):
        raise ValueError(f"not a plain identifier for the tape: {text!r}")
    return text


def price_texts(prices: np.ndarray) -> list[str]:
    """``repr`` of each price (what ``json.dumps`` writes), each distinct value formatted once."""
    values = np.asarray(prices, dtype=np.float64)
    if values.size == 0:
        return []
    if not np.all(np.isfinite(values)):
        raise ValueError("non-finite number in the tape")
    distinct, inverse = np.unique(values, return_inverse=True)
    texts = np.array([float.__repr__(v) for v in distinct.tolist()], dtype=object)
    return texts[inverse].tolist()


def quote_lines(symbol: str, ts: Sequence[int], bid: np.ndarray, ask: np.ndarray,
                bid_size: Sequence[int], ask_size: Sequence[int]) -> list[str]:
    """One line per quote, the fields of ``EquityQuote.to_dict`` in order."""
    fmt = ('{"type":"quote","ts":%d,"symbol":"' + plain(symbol)
           + '","bid":%s,"ask":%s,"bid_size":%d,"ask_size":%d}\n')
    return list(map(fmt.__mod__, zip(ts, price_texts(bid), price_texts(ask), bid_size, ask_size)))


def trade_lines(symbol: str, ids: Sequence[str], ts: Sequence[int], price: np.ndarray, size: Sequence[int],
                venue: Sequence[str], off_exchange: np.ndarray, conditions: Sequence[str] | None = None) -> list[str]:
    """One line per trade, the fields of ``EquityTrade.to_dict`` in order (ids, venues and conditions
    plain text; no ``conditions`` means every trade is regular)."""
    fmt = ('{"type":"trade","id":"%s","ts":%d,"symbol":"' + plain(symbol)
           + '","price":%s,"size":%d,"venue":"%s","off_exchange":%s,"condition":"%s"}\n')
    flags = _BOOL[np.asarray(off_exchange, dtype=bool).astype(np.int64)].tolist()
    if conditions is None:
        conditions = [COND_REGULAR] * len(flags)
    return list(map(fmt.__mod__, zip(ids, ts, price_texts(price), size, venue, flags, conditions)))
