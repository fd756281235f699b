"""The fast equity-line formatter writes exactly what the generic JSON encoder would."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from synthmarket.marketdata import EquityQuote, EquityTrade
from synthmarket.simulate import _dumps, _equity_line

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
