"""The fast equity and option line formatters write exactly what the generic JSON encoder would."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hypothesis import given, settings, strategies as st

from synthmarket.marketdata import EquityQuote, EquityTrade, OptionPrint
from equities_svc.generator import row_record
from synthmarket.simulate import _dumps, _equity_line, _equity_row_line, _option_line

prices = st.floats(min_value=1e-6, max_value=1e17, allow_nan=False, allow_infinity=False)
texts = st.text(min_size=1, max_size=12)
ints = st.integers(min_value=0, max_value=2**53)


@settings(max_examples=300, derandomize=True)
@given(texts, ints, texts, prices, ints, texts, st.booleans())
def test_trade_lines_match_the_json_encoder(trade_id, ts, symbol, price, size, venue, off):
    trade = EquityTrade(trade_id, ts, symbol, price, size, venue, off)
    line = _equity_line(trade)
    assert line == _dumps(trade.to_dict()) + "\n"
    assert json.loads(line) == trade.to_dict()


@settings(max_examples=300, derandomize=True)
@given(ints, texts, prices, prices, ints, ints)
def test_quote_lines_match_the_json_encoder(ts, symbol, bid, ask, bid_size, ask_size):
    quote = EquityQuote(ts, symbol, bid, ask, bid_size, ask_size)
    assert _equity_line(quote) == _dumps(quote.to_dict()) + "\n"


# Beyond the tape's own prices: zero, negative zero, negatives and integers take the general path.
odd_numbers = st.one_of(st.sampled_from([0.0, -0.0, 0, 5, -1.5, 5e-324, 1.7976931348623157e308]),
                        st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**60, 2**60))


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.tuples(odd_numbers, odd_numbers), min_size=1, max_size=8))
def test_repeated_and_unusual_prices_match_the_json_encoder(pairs):
    # Each pair twice: the second line is written from remembered price texts.
    for bid, ask in pairs + pairs:
        quote = EquityQuote(1, "X", bid, ask, 1, 2)
        assert _equity_line(quote) == _dumps(quote.to_dict()) + "\n"
        trade = EquityTrade("t", 1, "X", bid, 3, "V", True)
        assert _equity_line(trade) == _dumps(trade.to_dict()) + "\n"


@settings(max_examples=300, derandomize=True)
@given(texts, ints, texts, prices, ints, texts, st.booleans(), prices, ints)
def test_row_lines_match_the_record_lines(trade_id, ts, symbol, price, size, venue, off, ask, ask_size):
    # The simulator formats the equity tape from rows; each line must equal its record's line.
    for row in ((trade_id, ts, symbol, price, size, venue, off), (ts, symbol, price, ask, size, ask_size)):
        assert _equity_row_line(row) == _equity_line(row_record(row))


def test_non_finite_prices_are_refused():
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError):
            _equity_line(EquityQuote(1, "X", bad, 1.0, 1, 1))


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
