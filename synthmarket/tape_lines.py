"""JSON lines of equity records built a block at a time, byte-identical to ``json.dumps`` of their dicts.

A replay writes hundreds of thousands of quotes and trades: formatting each from a dict (or even
one ``%`` format per line) costs more than generating them. Here each line is a row of a byte
matrix: every field is written into its own columns by array operations, padded with NUL bytes
that JSON text never holds, and dropping the padding leaves the lines end to end. Every distinct
price is written once per block (by ``float.__repr__``, what ``json.dumps`` writes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

# Text that JSON writes between quotes unchanged: no escapes needed, so it can go in verbatim.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]*\Z")
_PAD = 0

# Lines as pieces side by side: a constant goes in every line; an array holds one NUL-padded row of
# bytes per line.
Piece = str | np.ndarray
Lines = tuple[int, Sequence[Piece]]     # (how many lines, their pieces)

# Every four-digit group as its four ASCII bytes in one machine word: a number is written a group
# at a time, a quarter of the array passes of a digit at a time.
_GROUPS = np.array([f"{i:04d}" for i in range(10_000)], dtype="S4").view(np.uint32)
_TENS = 10 ** np.arange(1, 19, dtype=np.int64)


def plain(text: str) -> str:
    """``text`` itself, if JSON needs no escaping for it; otherwise a ValueError."""
    if not _PLAIN.match(text):
        raise ValueError(f"not a plain identifier for the tape: {text!r}")
    return text


def texts(values: Sequence[str]) -> np.ndarray:
    """One NUL-padded row of bytes per text (each must be ``plain``): index it to place texts in lines."""
    for value in values:
        plain(value)
    return _table(values)


def _table(values: Sequence[str]) -> np.ndarray:
    table = np.array(list(values) or [""], dtype=np.bytes_)
    return table.view(np.uint8).reshape(-1, table.itemsize)[:len(values)]


def digits(values: np.ndarray) -> np.ndarray:
    """Each non-negative integer in decimal, one NUL-padded row per value."""
    v = np.asarray(values, dtype=np.int64)
    if v.size and int(v.min()) < 0:
        raise ValueError("negative integer in the tape")
    width = len(str(int(v.max()))) if v.size else 1
    groups = -(-width // 4)
    out = np.empty((v.size, groups), np.uint32)
    rest = v
    for g in range(groups - 1, 0, -1):
        rest, low = np.divmod(rest, 10_000)
        out[:, g] = _GROUPS[low]
    out[:, 0] = _GROUPS[rest]
    text = out.view(np.uint8)[:, 4 * groups - width:]
    # Blank the leading zeros: a value of n digits keeps its last n columns ("0" keeps one).
    n_digits = np.searchsorted(_TENS, v, side="right") + 1
    text *= np.arange(width - 1, -1, -1) < n_digits[:, None]
    return text


def floats(values: np.ndarray) -> np.ndarray:
    """``repr`` of each number (what ``json.dumps`` writes), each distinct value formatted once."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("non-finite number in the tape")
    distinct, inverse = np.unique(values, return_inverse=True)
    return _table([float.__repr__(v) for v in distinct.tolist()])[inverse.reshape(-1)]


def cents(values: np.ndarray) -> np.ndarray:
    """``floats`` of ``values / 100`` for whole cents (0 up to 10^13), without formatting a float.

    ``repr`` writes the shortest decimal that reads back as the same float. For a whole number of
    cents that is its dollars and two places, a trailing zero place dropped ("12.05", "12.5",
    "12.0"): no shorter decimal lies within half a unit in the last place of such a float.
    """
    c = np.asarray(values, dtype=np.int64)
    if c.size and (int(c.min()) < 0 or int(c.max()) >= _MAX_CENTS):
        raise ValueError("a price in cents out of the tape's range")
    dollars, fraction = np.divmod(c, 100)
    tens, units = np.divmod(fraction, 10)
    places = np.empty((c.size, 3), np.uint8)
    places[:, 0] = _DOT
    places[:, 1] = _ZERO + tens
    places[:, 2] = np.where(units == 0, _PAD, _ZERO + units)
    return np.concatenate([digits(dollars), places], axis=1)


_MAX_CENTS = 10 ** 13
_DOT, _ZERO = ord("."), ord("0")


def booleans(flags: np.ndarray) -> np.ndarray:
    return _BOOL[np.asarray(flags, dtype=bool).astype(np.intp)]


_BOOL = texts(["false", "true"])


def quote_lines(ts: np.ndarray, symbol: np.ndarray, bid_c: np.ndarray, ask_c: np.ndarray,
                bid_size: np.ndarray, ask_size: np.ndarray) -> Lines:
    """One line per quote, the fields of ``EquityQuote.to_dict`` in order (``symbol`` from ``texts``;
    the bid and ask in whole cents, written as the dollars they are)."""
    return len(ts), ['{"type":"quote","ts":', digits(ts), ',"symbol":"', symbol, '","bid":', cents(bid_c),
                     ',"ask":', cents(ask_c), ',"bid_size":', digits(bid_size), ',"ask_size":', digits(ask_size),
                     "}\n"]


def trade_lines(ids: np.ndarray, ts: np.ndarray, symbol: np.ndarray, price: np.ndarray, size: np.ndarray,
                venue: np.ndarray, off_exchange: np.ndarray, condition: np.ndarray) -> Lines:
    """One line per trade, the fields of ``EquityTrade.to_dict`` in order. The text fields come as
    rows of bytes (``symbol``, ``venue`` and ``condition`` from ``texts``, ``ids`` from ``concat``),
    and so does ``ts`` (from ``digits``: an id usually holds it too)."""
    return len(ts), ['{"type":"trade","id":"', ids, '","ts":', ts, ',"symbol":"', symbol, '","price":',
                     floats(price), ',"size":', digits(size), ',"venue":"', venue, '","off_exchange":',
                     booleans(off_exchange), ',"condition":"', condition, '"}\n']


def concat(lines: Lines) -> np.ndarray:
    """The lines' bytes, one NUL-padded row per line (a field made of pieces, or lines to ``join``)."""
    return _rows([lines])


def join(parts: Sequence[Lines], order: np.ndarray) -> tuple[str, list[int]]:
    """The lines of ``parts`` (one after the other) taken in ``order``, as one text, and where each of
    them starts in it (one entry more than lines: the last is the text's length)."""
    text = _rows(parts)[order].ravel()
    text = text[text != _PAD]
    starts = np.zeros(len(order) + 1, np.int64)
    starts[1:] = np.flatnonzero(text == _NEWLINE) + 1   # every line ends in its only newline
    return text.tobytes().decode("ascii"), starts.tolist()


_NEWLINE = ord("\n")


def _rows(parts: Sequence[Lines]) -> np.ndarray:
    widths = [sum(len(p) if isinstance(p, str) else p.shape[1] for p in pieces) for _, pieces in parts]
    rows = np.empty((sum(n for n, _ in parts), max(widths, default=0)), np.uint8)
    at = 0
    for n, pieces in parts:
        # The constants and the padding go in as one whole-row copy; the fields a column range each.
        template = np.full(rows.shape[1], _PAD, np.uint8)
        fields, col = [], 0
        for piece in pieces:
            if isinstance(piece, str):
                template[col:col + len(piece)] = np.frombuffer(piece.encode("ascii"), np.uint8)
                col += len(piece)
            else:
                fields.append((col, piece))
                col += piece.shape[1]
        block = rows[at:at + n]
        block[:] = template
        for col, piece in fields:
            block[:, col:col + piece.shape[1]] = piece
        at += n
    return rows
