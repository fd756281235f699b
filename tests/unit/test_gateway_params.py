"""Query parsing, cursors, the events cache's fan-out and time-ordered replay, without any server."""

from __future__ import annotations

import datetime as dt
import re
import threading

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from admin_gateway.errors import BadParameter
from admin_gateway.events_cache import CachedEvent, EventsCache
from admin_gateway.history import decode_event, time_ordered
from admin_gateway.params import (
    CURSOR_PATTERN,
    ISO_TIME_PATTERN,
    SYMBOL_PATTERN,
    TS_MAX,
    EventFilter,
    decode_cursor,
    encode_cursor,
    parse_flow,
    parse_history,
    parse_replay,
    parse_ws,
)
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from tests.support.gateway import make_event

BASE_TS = 1_800_000_000_000


def _q(**kwargs) -> dict[str, list[str]]:
    return {k: (v if isinstance(v, list) else [v]) for k, v in kwargs.items()}


def test_flow_defaults_and_filters():
    limit, flt = parse_flow({})
    assert limit == 50 and flt == EventFilter()
    limit, flt = parse_flow(_q(limit="500", profile="vol_seller,arbitrage", symbol="aapl", direction="bearish",
                               min_premium="1e5"))
    assert limit == 500
    assert flt == EventFilter(("vol_seller", "arbitrage"), ("AAPL",), ("bearish",), 100_000.0)


@pytest.mark.parametrize("args,param", [
    (_q(limit="0"), "limit"),
    (_q(limit="501"), "limit"),
    (_q(limit="ten"), "limit"),
    (_q(limit="1.5"), "limit"),
    (_q(limit=["1", "2"]), "limit"),
    (_q(profile="call_sweep"), "profile"),        # a hidden family name is not a public profile
    (_q(profile="vol_seller,"), "profile"),
    (_q(symbol="AAPL;DROP"), "symbol"),
    (_q(direction="up"), "direction"),
    (_q(min_premium="-1"), "min_premium"),
    (_q(min_premium="nan"), "min_premium"),
    (_q(min_premium="inf"), "min_premium"),
    (_q(colour="red"), "colour"),
])
def test_bad_flow_parameters_name_the_parameter(args, param):
    with pytest.raises(BadParameter) as info:
        parse_flow(args)
    assert info.value.extra["parameter"] == param
    assert info.value.message.startswith(param)


@pytest.mark.parametrize("args,param", [
    (_q(end="2"), "start"),
    (_q(start="1"), "end"),
    (_q(start="5", end="4"), "end"),
    (_q(start="-1", end="4"), "start"),
    (_q(start="1", end="99999999999999999999"), "end"),
    (_q(start="1", end="2", cursor="!!"), "cursor"),
    (_q(start="1", end="2", cursor="djE6MA"), "cursor"),   # v1:0 is never issued
    (_q(start="1", end="2", speed="2"), "speed"),           # speed belongs to replay
])
def test_bad_history_parameters_name_the_parameter(args, param):
    with pytest.raises(BadParameter) as info:
        parse_history(args)
    assert info.value.extra["parameter"] == param


NOV20_1430_UTC = 1_795_185_000_000   # 2026-11-20T14:30:00Z


@pytest.mark.parametrize("raw,expected", [
    ("2026-11-20T14:30:00Z", NOV20_1430_UTC),
    ("2026-11-20T09:30:00-05:00", NOV20_1430_UTC),
    ("2026-11-20T20:00:00+05:30", NOV20_1430_UTC),
    ("2026-11-20t14:30:00z", NOV20_1430_UTC),                # RFC 3339 letters in either case
    ("2026-11-20T14:30Z", NOV20_1430_UTC),                   # seconds may be left out
    ("2026-11-20T14:30:00.5Z", NOV20_1430_UTC + 500),
    ("2026-11-20T14:30:00.123456789Z", NOV20_1430_UTC + 123),  # beyond the millisecond: dropped
    ("2026-11-20T09:30:00.250-0500", NOV20_1430_UTC + 250),
    (str(NOV20_1430_UTC), NOV20_1430_UTC),                   # epoch ms as before
])
def test_time_parameters_take_iso_8601_with_an_offset_and_epoch_ms(raw, expected):
    for parse in (parse_history, parse_replay):
        query = parse(_q(start=raw, end=raw))
        assert (query.start, query.end) == (expected, expected)


def test_start_and_end_may_each_be_written_either_way():
    query = parse_history(_q(start=str(NOV20_1430_UTC), end="2026-11-20T09:31:00-05:00"))
    assert (query.start, query.end) == (NOV20_1430_UTC, NOV20_1430_UTC + 60_000)


def test_iso_times_at_the_ends_of_the_allowed_years_stay_within_the_epoch_ms_bounds():
    query = parse_history(_q(start="1970-01-01T00:00:00+05:00", end="2099-12-31T23:59:59-05:00"))
    assert (query.start, query.end) == (0, TS_MAX)


@pytest.mark.parametrize("raw,says", [
    ("2026-11-20T14:30:00", "no UTC offset"),                 # which zone was meant is not guessed
    ("2026-11-20T14:30:00.123", "no UTC offset"),
    ("2026-11-20T09:30:00 05:00", "%2B"),                     # an unencoded '+' arrives as a space
    ("2026-11-20", "ISO-8601 time with a UTC offset"),
    ("yesterday", "ISO-8601 time with a UTC offset"),
    ("2026-02-30T00:00:00Z", "not a valid date and time"),
    ("2026-11-20T24:00:00Z", "not a valid date and time"),
    ("2026-11-20T14:30:00+24:00", "not a UTC offset"),
    ("1969-12-31T23:59:59Z", "year must be between 1970 and 2099"),
    ("2100-01-01T00:00:00Z", "year must be between 1970 and 2099"),
])
def test_bad_iso_times_are_refused_with_a_clear_message(raw, says):
    with pytest.raises(BadParameter) as info:
        parse_replay(_q(start=raw, end="2026-11-21T00:00:00Z"))
    assert info.value.extra["parameter"] == "start"
    assert info.value.message.startswith("start: ") and says in info.value.message, info.value.message


def test_every_bad_parameter_is_named_in_one_error():
    with pytest.raises(BadParameter) as info:
        parse_history(_q(start="2026-11-20T14:30:00", end="soon", limit="0", cursor="!!", profile="call_sweep,nope",
                         symbol="AAPL;DROP", direction="up", min_premium="-1", colour="red"))
    named = [p["parameter"] for p in info.value.extra["parameters"]]
    assert named == ["colour", "start", "end", "cursor", "limit", "profile", "symbol", "direction", "min_premium"]
    assert info.value.extra["parameter"] == "colour"
    for problem in info.value.extra["parameters"]:
        assert f"{problem['parameter']}: {problem['message']}" in info.value.message
    assert "'call_sweep', 'nope'" in info.value.message, "every bad item of a list is named"


@pytest.mark.parametrize("parse,args,named", [
    (parse_history, {}, ["start", "end"]),
    (parse_replay, _q(speed="fast"), ["start", "end", "speed"]),
    (parse_replay, _q(start="5", end="4", speed="-1"), ["end", "speed"]),
    (parse_flow, _q(limit="0", direction="up"), ["limit", "direction"]),
    (parse_ws, _q(limit="5", symbol="$"), ["limit", "symbol"]),
])
def test_missing_and_bad_parameters_are_all_reported_together(parse, args, named):
    with pytest.raises(BadParameter) as info:
        parse(args)
    assert [p["parameter"] for p in info.value.extra["parameters"]] == named
    assert all(f"{name}: " in info.value.message for name in named)
    if not args:
        assert "start: required" in info.value.message and "end: required" in info.value.message


_DATE_TIME = jsonschema_rs.Draft202012Validator({"type": "string", "format": "date-time"}, validate_formats=True)


@hsettings(max_examples=300)
@given(st.from_regex(ISO_TIME_PATTERN, fullmatch=True).filter(_DATE_TIME.is_valid))
def test_every_time_the_documented_pattern_allows_is_taken_as_the_instant_it_names(text):
    # The document lets a client send these (pattern and format date-time), so the server must take
    # every one, and read it as Python's own ISO parser does (to the millisecond, within the bounds).
    expected = dt.datetime.fromisoformat(text.upper()) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    millis = min(max(expected // dt.timedelta(milliseconds=1), 0), TS_MAX)
    assert parse_history(_q(start=text, end=text)).start == millis


@pytest.mark.parametrize("speed,ok", [("0", True), ("2.5", True), ("10000", True), ("-1", False),
                                      ("10001", False), ("fast", False)])
def test_replay_speed_bounds(speed, ok):
    args = _q(start="1", end="2", speed=speed)
    if ok:
        assert parse_replay(args).speed == float(speed)
    else:
        with pytest.raises(BadParameter):
            parse_replay(args)


def test_ws_takes_only_filters():
    assert parse_ws(_q(profile="arbitrage")).profiles == ("arbitrage",)
    with pytest.raises(BadParameter):
        parse_ws(_q(limit="5"))


@pytest.mark.parametrize("seq", [1, 2, 99, 1 << 40])
def test_cursor_round_trip(seq):
    token = encode_cursor(seq)
    assert str(seq) not in token, "cursor should be opaque"
    assert decode_cursor(token) == seq


@pytest.mark.parametrize("seq", [1, 9, 10, 99, 100, 101, 999, 1000, 123_456_789, 10**16, 10**17 - 1])
def test_every_cursor_issued_matches_the_documented_pattern(seq):
    assert re.fullmatch(CURSOR_PATTERN, encode_cursor(seq))


@hsettings(max_examples=300)
@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_string_the_documented_cursor_pattern_allows_is_a_cursor(token):
    # The document lets a client send these, so the server must take every one.
    assert encode_cursor(decode_cursor(token)) == token


@hsettings(max_examples=300)
@given(st.lists(st.from_regex(SYMBOL_PATTERN, fullmatch=True), min_size=1, max_size=4))
def test_every_symbol_list_the_document_allows_is_accepted(symbols):
    assert parse_flow(_q(symbol=",".join(symbols)))[1].symbols == tuple(s.strip().upper() for s in symbols)


def test_filter_matches_each_dimension():
    e = make_event(0, BASE_TS, profile="vol_seller", symbol="SPY", direction="bearish", premium=1000.0)
    assert EventFilter().matches(e)
    assert EventFilter(profiles=("vol_seller",)).matches(e)
    assert not EventFilter(profiles=("arbitrage",)).matches(e)
    assert not EventFilter(symbols=("AAPL",)).matches(e)
    assert not EventFilter(directions=("bullish",)).matches(e)
    assert EventFilter(min_premium=1000.0).matches(e)
    assert not EventFilter(min_premium=1000.01).matches(e)


def test_cache_keeps_the_newest_and_answers_newest_first():
    cache = EventsCache(size=5)
    for i in range(1, 9):
        cache.add(i, make_event(i, BASE_TS + i))
    assert len(cache) == 5
    assert [c.seq for c in cache.recent(10, EventFilter())] == [8, 7, 6, 5, 4]
    cache.add(3, make_event(3, BASE_TS))  # a redelivered old sequence is ignored
    assert [c.seq for c in cache.recent(2, EventFilter())] == [8, 7]


def test_slow_subscriber_skips_ahead_without_blocking_the_feeder():
    cache = EventsCache(size=100)
    slow = cache.subscribe(EventFilter(), maxsize=4)
    fast = cache.subscribe(EventFilter(profiles=("arbitrage",)), maxsize=1000)
    done = threading.Event()

    def feed():
        for i in range(1, 201):
            cache.add(i, make_event(i, BASE_TS + i))
        done.set()

    thread = threading.Thread(target=feed)
    thread.start()
    assert done.wait(5), "the feeder must never wait on a subscriber"
    thread.join()
    got = [slow.get(0).seq for _ in range(4)]
    assert got == [197, 198, 199, 200], "the slow reader keeps the newest events"
    assert slow.skipped == 196 and slow.get(0) is None
    fast_seqs = []
    while (item := fast.get(0)) is not None:
        fast_seqs.append(item.seq)
    assert fast_seqs == [i for i in range(1, 201) if PUBLIC_PROFILE_IDS[i % 6] == "arbitrage"]
    cache.unsubscribe(slow)
    cache.unsubscribe(fast)
    assert cache.subscriber_count() == 0


def test_time_ordered_repairs_late_arrivals_within_the_slack():
    ts = [0, 10, 5, 20, 15, 30, 25, 1000, 999]
    items = [CachedEvent(i + 1, make_event(i, BASE_TS + t)) for i, t in enumerate(ts)]
    pages = [items[:4], items[4:]]
    out = list(time_ordered(pages, slack_ms=50))
    assert [c.event.ts - BASE_TS for c in out] == sorted(ts)
    assert len(out) == len(items)


def test_decode_event_drops_junk():
    assert decode_event(b"") is None
    assert decode_event(b"\xff\x00garbage") is None
    # A message with an unset profile enum is not a public event.
    from synthmarket.v1 import smart_money_pb2

    assert decode_event(smart_money_pb2.SmartMoneyEvent(event_id="x").SerializeToString()) is None


def test_close_all_ends_live_subscriptions_and_refuses_new_ones():
    cache = EventsCache(size=10)
    sub = cache.subscribe(EventFilter())
    cache.close_all()
    assert sub.closed and cache.subscriber_count() == 0
    late = cache.subscribe(EventFilter())
    assert late.closed
    cache.add(1, make_event(1, BASE_TS))
    assert late.get(0) is None, "a closed subscription receives nothing"
