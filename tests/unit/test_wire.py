"""Round trips dataclass -> protobuf bytes -> dataclass for every wire message, and decode errors."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticDerivedStatus, SyntheticProfileWeightMap
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import FAMILY_IDS, PUBLIC_PROFILE_IDS, Direction
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import CoverageState, ScenarioWeights, SessionState, UnderlyingState
from synthmarket.v1 import regime_pb2, smart_money_pb2
from synthmarket.wire import (
    WireError,
    coverage_state_from_proto,
    coverage_state_to_proto,
    derived_status_from_proto,
    derived_status_to_proto,
    equity_quote_from_proto,
    equity_quote_to_proto,
    equity_trade_from_proto,
    equity_trade_to_proto,
    option_print_from_proto,
    option_print_to_proto,
    profile_id_from_proto,
    profile_id_to_proto,
    scenario_weights_from_proto,
    scenario_weights_to_proto,
    session_snapshot_from_proto,
    session_snapshot_to_proto,
    session_state_from_proto,
    session_state_to_proto,
    smart_money_event_from_proto,
    smart_money_event_to_proto,
    underlying_state_from_proto,
    underlying_state_to_proto,
)

TS = 1_795_000_000_123  # epoch ms, a session in late 2026


def through_bytes(message):
    """Serialize and parse, so the test covers the wire format and not just the Python object."""
    return type(message).FromString(message.SerializeToString())


def session_state(phase=SessionPhase.OPEN, regime=Regime.TREND_UP) -> SessionState:
    return SessionState(
        ts=TS, session_phase=phase, regime=regime, volatility_level=1.35, liquidity_level=0.62,
        quote_cleanliness=0.81, focus_symbols=("NVDA", "TSLA", "AAPL"), event_symbols=("AMD",),
        seed_bucket=17, regime_started_ms=TS - 600_000, regime_ends_ms=TS + 900_000, minute_of_session=42.5,
    )


def underlying_state(symbol="NVDA", **overrides) -> UnderlyingState:
    values = dict(
        symbol=symbol, ts=TS, price=131.27, bid=131.26, ask=131.28, spread_bps=1.52, volatility=0.48,
        drift_bps_per_min=-0.35, underlying_move_bps=-4.1, nbbo_spread_z=2.25, execution_iv_shock=0.02,
        atm_iv=0.51, skew=-0.12, is_focus=True, is_event=False,
    )
    values.update(overrides)
    return UnderlyingState(**values)


def option_print(**overrides) -> OptionPrint:
    values = dict(
        id="op-000001", ts=TS, underlying="AAPL", contract="AAPL  261218C00230000", expiry="2026-12-18",
        strike=230.0, right="C", price=4.35, size=250, exchange="CBOE", bid=4.3, ask=4.4, iv=0.274,
        underlying_price=228.91, multi_leg_id=None, quote_age_ms=35, condition="ISOI",
    )
    values.update(overrides)
    return OptionPrint(**values)


def smart_money_event(**overrides) -> SmartMoneyEvent:
    values = dict(
        event_id="sm-9", ts=TS, profile_id="institutional_directional", underlying="AAPL", direction="bullish",
        premium=1_087_500.0, contracts=2500, print_ids=("op-1", "op-2", "op-3"), reason="ask-side sweep across 3 venues",
        contract="AAPL  261218C00230000", expiry="2026-12-18", strike=230.0, right="C", spot=228.91,
    )
    values.update(overrides)
    return SmartMoneyEvent(**values)


# --- regime types --------------------------------------------------------------------------


@pytest.mark.parametrize("phase", list(SessionPhase))
@pytest.mark.parametrize("regime", list(Regime))
def test_session_state_roundtrips_for_every_phase_and_regime(phase, regime):
    state = session_state(phase, regime)
    assert session_state_from_proto(through_bytes(session_state_to_proto(state))) == state


def test_session_state_enum_names_on_the_wire():
    msg = session_state_to_proto(session_state(SessionPhase.POWER_HOUR, Regime.DEALER_GAMMA))
    assert msg.session_phase == regime_pb2.SESSION_PHASE_POWER_HOUR
    assert msg.regime == regime_pb2.REGIME_DEALER_GAMMA


def test_session_state_with_empty_symbol_lists():
    state = replace(session_state(), focus_symbols=(), event_symbols=())
    assert session_state_from_proto(through_bytes(session_state_to_proto(state))) == state


@pytest.mark.parametrize("field", ["session_phase", "regime"])
def test_unset_session_enums_are_rejected_on_decode(field):
    msg = session_state_to_proto(session_state())
    msg.ClearField(field)
    with pytest.raises(WireError, match=field):
        session_state_from_proto(msg)


@pytest.mark.parametrize("flags", [(True, True), (False, False), (True, False)])
def test_underlying_state_roundtrips(flags):
    state = underlying_state(is_focus=flags[0], is_event=flags[1])
    assert underlying_state_from_proto(through_bytes(underlying_state_to_proto(state))) == state


def test_scenario_weights_roundtrip_keeps_every_family_and_canonical_order():
    weights = {f: 0.25 * (i + 1) for i, f in enumerate(reversed(FAMILY_IDS))}
    original = ScenarioWeights(symbol="TSLA", ts=TS, weights=MappingProxyType(weights), intensity=3.75)
    back = scenario_weights_from_proto(through_bytes(scenario_weights_to_proto(original)))
    assert back == original
    assert list(back.weights) == list(FAMILY_IDS)
    assert back.labeled_share == pytest.approx(original.labeled_share, abs=0)


def test_scenario_weights_with_zero_and_empty():
    zero = ScenarioWeights(symbol="SPY", ts=TS, weights={"neutral_noise": 1.0, "arbitrage": 0.0}, intensity=0.0)
    assert scenario_weights_from_proto(through_bytes(scenario_weights_to_proto(zero))) == zero
    empty = ScenarioWeights(symbol="SPY", ts=TS, weights={}, intensity=0.5)
    assert scenario_weights_from_proto(through_bytes(scenario_weights_to_proto(empty))) == empty


def test_coverage_state_roundtrips_with_and_without_hits():
    full = CoverageState(
        now_ms=TS, window_minutes=20,
        hits=MappingProxyType({p: i for i, p in enumerate(PUBLIC_PROFILE_IDS)}),
        last_seen_ms=MappingProxyType({p: TS - 1000 * i for i, p in enumerate(PUBLIC_PROFILE_IDS)}),
    )
    assert coverage_state_from_proto(through_bytes(coverage_state_to_proto(full))) == full
    empty = CoverageState(now_ms=TS, window_minutes=10)
    back = coverage_state_from_proto(through_bytes(coverage_state_to_proto(empty)))
    assert back == empty and dict(back.hits) == {} and dict(back.last_seen_ms) == {}


def test_session_snapshot_roundtrips_with_control_and_symbols_in_order():
    control = DEFAULT_CONTROL.with_update(
        preset_id=SyntheticControlPresetId.DEALER_DAY, shared_seed=(1 << 64) - 1,
        profile_weights=SyntheticProfileWeightMap({"hedge_reactive": 1.6}), updated_by="ops",
    )
    underlyings = [underlying_state("TSLA"), underlying_state("AAPL", is_focus=False)]
    msg = through_bytes(session_snapshot_to_proto(session_state(), underlyings, 12, control))
    snap = session_snapshot_from_proto(msg)
    assert snap.session == session_state()
    assert snap.underlyings == tuple(underlyings)
    assert snap.control_revision == 12
    assert snap.control == control


def test_session_snapshot_without_control_and_without_session():
    snap = session_snapshot_from_proto(through_bytes(session_snapshot_to_proto(session_state(), [], 0)))
    assert snap.control is None and snap.underlyings == () and snap.control_revision == 0
    with pytest.raises(WireError, match="session"):
        session_snapshot_from_proto(regime_pb2.SessionSnapshot(control_revision=3))


# --- control status ------------------------------------------------------------------------


def test_derived_status_roundtrips():
    status = SyntheticDerivedStatus(
        session_phase="midday", regime="mean_revert", focus_symbols=("SPY", "QQQ"),
        profile_hit_counts={p: 3 * i for i, p in enumerate(PUBLIC_PROFILE_IDS)}, coverage_window_minutes=30,
    )
    back = derived_status_from_proto(through_bytes(derived_status_to_proto(status)))
    assert back == status
    assert back.to_dict() == status.to_dict()
    assert list(back.profile_hit_counts) == list(PUBLIC_PROFILE_IDS)


def test_derived_status_keeps_free_text_phase_and_empty_counts():
    status = SyntheticDerivedStatus(
        session_phase="unknown", regime="", focus_symbols=(), profile_hit_counts={}, coverage_window_minutes=20
    )
    back = derived_status_from_proto(through_bytes(derived_status_to_proto(status)))
    assert back == status
    assert back.to_dict()["profile_hit_counts"] == dict.fromkeys(PUBLIC_PROFILE_IDS, 0)


# --- market data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quote",
    [dict(bid=4.3, ask=4.4), dict(bid=None, ask=None), dict(bid=0.0, ask=0.05), dict(bid=None, ask=0.05)],
    ids=["two-sided", "missing", "zero-bid", "one-sided"],
)
def test_option_print_roundtrips_and_keeps_missing_quote_distinct_from_zero(quote):
    original = option_print(**quote)
    msg = through_bytes(option_print_to_proto(original))
    assert msg.HasField("bid") is (quote["bid"] is not None)
    assert msg.HasField("ask") is (quote["ask"] is not None)
    assert option_print_from_proto(msg) == original


@pytest.mark.parametrize("leg_id", [None, "", "ml-42"])
def test_option_print_multi_leg_id_presence(leg_id):
    original = option_print(multi_leg_id=leg_id, condition="SLFT" if leg_id else "")
    back = option_print_from_proto(through_bytes(option_print_to_proto(original)))
    assert back == original and back.multi_leg_id == leg_id


def test_option_print_dict_is_unchanged_by_the_wire():
    original = option_print(right="P", bid=None)
    assert option_print_from_proto(through_bytes(option_print_to_proto(original))).to_dict() == original.to_dict()


@pytest.mark.parametrize("off_exchange", [True, False])
def test_equity_trade_roundtrips(off_exchange):
    trade = EquityTrade(id="eq-77", ts=TS, symbol="MSFT", price=411.07, size=300,
                        venue="FINRA_TRF" if off_exchange else "XNAS", off_exchange=off_exchange)
    assert equity_trade_from_proto(through_bytes(equity_trade_to_proto(trade))) == trade


def test_equity_quote_roundtrips():
    quote = EquityQuote(ts=TS, symbol="AMZN", bid=185.51, ask=185.54, bid_size=400, ask_size=1200)
    assert equity_quote_from_proto(through_bytes(equity_quote_to_proto(quote))) == quote


@pytest.mark.parametrize("profile", PUBLIC_PROFILE_IDS)
@pytest.mark.parametrize("direction", [d.value for d in Direction])
def test_smart_money_event_roundtrips_for_every_profile_and_direction(profile, direction):
    event = smart_money_event(profile_id=profile, direction=direction)
    back = smart_money_event_from_proto(through_bytes(smart_money_event_to_proto(event)))
    assert back == event and back.to_dict() == event.to_dict()
    assert isinstance(back.profile_id, str) and isinstance(back.direction, str)


def test_smart_money_event_without_lead_contract():
    event = smart_money_event(print_ids=(), contract="", expiry="", strike=0.0, right="", spot=0.0)
    assert smart_money_event_from_proto(through_bytes(smart_money_event_to_proto(event))) == event


def test_smart_money_event_enum_numbers_on_the_wire():
    msg = smart_money_event_to_proto(smart_money_event(profile_id="hedge_reactive", direction="bearish"))
    assert msg.profile_id == smart_money_pb2.SMART_MONEY_PROFILE_ID_HEDGE_REACTIVE
    assert msg.direction == smart_money_pb2.DIRECTION_BEARISH


@pytest.mark.parametrize(
    "overrides, field", [(dict(profile_id="neutral_noise"), "profile_id"), (dict(direction="sideways"), "direction")]
)
def test_smart_money_event_with_a_non_public_value_is_refused_on_encode(overrides, field):
    with pytest.raises(WireError, match=r"neutral_noise|sideways"):
        smart_money_event_to_proto(smart_money_event(**overrides))


@pytest.mark.parametrize("field, number", [("profile_id", 0), ("direction", 0), ("profile_id", 42), ("direction", 9)])
def test_smart_money_event_with_unset_or_unknown_enum_is_refused_on_decode(field, number):
    msg = smart_money_event_to_proto(smart_money_event())
    setattr(msg, field, number)
    with pytest.raises(WireError, match=field):
        smart_money_event_from_proto(through_bytes(msg))


def test_profile_id_helpers_cover_the_six_public_profiles():
    numbers = [profile_id_to_proto(p) for p in PUBLIC_PROFILE_IDS]
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert [profile_id_from_proto(n) for n in numbers] == list(PUBLIC_PROFILE_IDS)
    with pytest.raises(WireError):
        profile_id_from_proto(smart_money_pb2.SMART_MONEY_PROFILE_ID_UNSPECIFIED)


# --- properties ----------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
text = st.text(max_size=24)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.builds(
        OptionPrint, id=text, ts=int64, underlying=text, contract=text, expiry=text, strike=finite, right=text,
        price=finite, size=int64, exchange=text, bid=st.none() | finite, ask=st.none() | finite, iv=finite,
        underlying_price=finite, multi_leg_id=st.none() | text, quote_age_ms=int64, condition=text,
    )
)
def test_property_option_prints_roundtrip(p):
    assert option_print_from_proto(through_bytes(option_print_to_proto(p))) == p


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.builds(
        SmartMoneyEvent, event_id=text, ts=int64, profile_id=st.sampled_from(PUBLIC_PROFILE_IDS), underlying=text,
        direction=st.sampled_from([d.value for d in Direction]), premium=finite, contracts=int64,
        print_ids=st.lists(text, max_size=6).map(tuple), reason=text, contract=text, expiry=text, strike=finite,
        right=text, spot=finite,
    )
)
def test_property_smart_money_events_roundtrip(e):
    assert smart_money_event_from_proto(through_bytes(smart_money_event_to_proto(e))) == e


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.builds(EquityTrade, id=text, ts=int64, symbol=text, price=finite, size=int64, venue=text, off_exchange=st.booleans()),
    st.builds(EquityQuote, ts=int64, symbol=text, bid=finite, ask=finite, bid_size=int64, ask_size=int64),
)
def test_property_equity_messages_roundtrip(trade, quote):
    assert equity_trade_from_proto(through_bytes(equity_trade_to_proto(trade))) == trade
    assert equity_quote_from_proto(through_bytes(equity_quote_to_proto(quote))) == quote


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FAMILY_IDS) | text, finite, max_size=10), finite)
def test_property_scenario_weight_maps_roundtrip(weights, intensity):
    original = ScenarioWeights(symbol="QQQ", ts=TS, weights=weights, intensity=intensity)
    back = scenario_weights_from_proto(through_bytes(scenario_weights_to_proto(original)))
    assert back == original

