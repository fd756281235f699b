"""The fast equity and option line formatters write exactly what the generic JSON encoder would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equities_svc.generator import EquitiesGenerator, row_record
from synthmarket import tape_lines
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint
from synthmarket_cli.simulate import _dumps, _option_line

prices = st.floats(min_value=1e-6, max_value=1e17, allow_nan=False, allow_infinity=False)
texts = st.text(min_size=1, max_size=12)
ints = st.integers(min_value=0, max_value=2**53)


plain = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789_.-", min_size=1, max_size=12)
column = st.lists(st.tuples(ints, prices, prices, ints, ints, plain, st.booleans()), min_size=0, max_size=30)
whole_cents = st.integers(min_value=0, max_value=10**13 - 1)
quote_column = st.lists(st.tuples(ints, whole_cents, whole_cents, ints, ints), min_size=0, max_size=30)


def _lines(lines: tape_lines.Lines) -> list[str]:
    text, starts = tape_lines.join([lines], np.arange(lines[0]))
    assert starts[-1] == len(text)
    return [text[a:b] for a, b in zip(starts, starts[1:])]


@settings(max_examples=300, derandomize=True)
@given(plain, quote_column)
def test_column_quote_lines_match_the_json_encoder(symbol, cols):
    ts, bid_c, ask_c, bid_size, ask_size = ([c[i] for c in cols] for i in range(5))
    sym = tape_lines.texts([symbol])[np.zeros(len(ts), np.intp)]
    lines = _lines(tape_lines.quote_lines(np.array(ts, np.int64), sym, np.array(bid_c, np.int64),
                                          np.array(ask_c, np.int64), np.array(bid_size, np.int64),
                                          np.array(ask_size, np.int64)))
    bid, ask = [c / 100 for c in bid_c], [c / 100 for c in ask_c]
    want = [_dumps(EquityQuote(*fields).to_dict()) + "\n" for fields in zip(ts, [symbol] * len(ts), bid, ask,
                                                                              bid_size, ask_size)]
    assert lines == want


def test_whole_cents_are_written_as_the_floats_they_make():
    """Every amount up to $30,000 and a spread of larger ones, against float.__repr__ itself."""
    rng = np.random.default_rng(5)
    values = np.concatenate([np.arange(3_000_000), rng.integers(0, 10**13, 200_000), [10**13 - 1]])
    text, _ = tape_lines.join([(values.size, [tape_lines.cents(values), "\n"])], np.arange(values.size))
    assert text.split() == [repr(c / 100) for c in values.tolist()]
    for bad in (-1, 10**13):
        with pytest.raises(ValueError):
            tape_lines.cents(np.array([5, bad]))


@settings(max_examples=300, derandomize=True)
@given(plain, column)
def test_column_trade_lines_match_the_json_encoder(symbol, cols):
    ts, price, size, venue, off = ([c[i] for c in cols] for i in (0, 1, 3, 5, 6))
    ids = [f"e-{symbol}-{t}-{n}" for n, t in enumerate(ts)]
    n = len(ts)
    sym = tape_lines.texts([symbol])[np.zeros(n, np.intp)]
    regular = tape_lines.texts(["REGULAR"])[np.zeros(n, np.intp)]
    lines = _lines(tape_lines.trade_lines(tape_lines.texts(ids), tape_lines.digits(np.array(ts, np.int64)), sym,
                                          np.array(price, dtype=float), np.array(size, np.int64),
                                          tape_lines.texts(venue), np.array(off, bool), regular))
    records = [EquityTrade(*fields) for fields in zip(ids, ts, [symbol] * n, price, size, venue, off)]
    assert lines == [_dumps(r.to_dict()) + "\n" for r in records]
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in records]


def test_lines_are_joined_in_the_order_given():
    a = tape_lines.concat((3, ["a", tape_lines.digits(np.array([0, 7, 1234567])), "\n"]))
    b = (2, ["bb", tape_lines.texts(["x", "yz"]), "\n"])
    text, starts = tape_lines.join([(3, [a]), b], np.array([3, 0, 4, 1, 2]))
    assert text == "bbx\na0\nbbyz\na7\na1234567\n"
    assert starts == [0, 4, 7, 12, 15, 24]


def test_repeated_prices_are_written_alike():
    bid = np.array([228.12, 0.05, 1000.0, 228.12, 0.1 + 0.2])
    text, _ = tape_lines.join([(5, [tape_lines.floats(bid), "\n"])], np.arange(5))
    assert text.split() == ["228.12", "0.05", "1000.0", "228.12", "0.30000000000000004"]


def test_text_that_would_need_escaping_is_refused():
    for bad in ('A"B', "A\\B", "A B", "É"):
        with pytest.raises(ValueError):
            tape_lines.texts(["SPY", bad])


def test_non_finite_prices_and_negative_integers_are_refused():
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError):
            tape_lines.floats(np.array([1.0, bad]))
    with pytest.raises(ValueError):
        tape_lines.digits(np.array([1, -1]))


def test_generator_lines_are_the_records_lines_and_its_rows_the_trades():
    day = trading_day(dt.date(2026, 11, 24))
    records = EquitiesGenerator(DEFAULT_CONTROL, ("SPY", "BAC"), start_ts=day.open_ms, block_minutes=2)
    tape = EquitiesGenerator(DEFAULT_CONTROL, ("SPY", "BAC"), start_ts=day.open_ms, block_minutes=2, with_lines=True)
    # Steps that cut blocks anywhere, one of them across a block edge.
    for t0, t1 in ((0, 700), (700, 119_999), (119_999, 121_000), (121_000, 125_000)):
        expected = records.step(day.open_ms + t0, day.open_ms + t1)
        trade_rows, text, count = tape.step_tape(day.open_ms + t0, day.open_ms + t1)
        assert text == "".join(_dumps(r.to_dict()) + "\n" for r in expected) and text
        assert count == len(expected)
        assert [row_record(r) for r in trade_rows] == [r for r in expected if isinstance(r, EquityTrade)]
        assert trade_rows
    with pytest.raises(ValueError, match="with_lines"):
        records.step_tape(day.open_ms, day.open_ms + 1)
    with pytest.raises(ValueError, match="step_tape"):
        tape.step(day.open_ms, day.open_ms + 1)


maybe_prices = st.one_of(st.none(), prices, st.floats(allow_nan=False, allow_infinity=False))


option_prints = st.builds(
    OptionPrint, texts, ints, texts, texts, texts, prices, texts, prices, ints, texts, maybe_prices, maybe_prices,
    st.floats(allow_nan=False, allow_infinity=False), prices, st.one_of(st.none(), texts), ints, texts,
)


@settings(max_examples=300, derandomize=True)
@given(option_prints)
def test_option_lines_match_the_json_encoder(option_print):
    line = _option_line(option_print)
    assert line == _dumps(option_print.to_dict()) + "\n"
    assert json.loads(line) == option_print.to_dict()


def test_non_finite_option_fields_are_refused():
    base = OptionPrint("o", 1, "X", "X  261218C00230000", "2026-12-18", 230.0, "C", 1.5, 1, "CBOE", 1.4, 1.6,
                       0.3, 229.5)
    assert _option_line(base) == _dumps(base.to_dict()) + "\n"
    with pytest.raises(ValueError):
        _option_line(dataclasses.replace(base, iv=float("nan")))
