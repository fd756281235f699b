"""Explicit encode/decode between the shared dataclasses and their synthmarket.v1 protobuf messages.

Enum mapping: a Python enum value ``v`` travels as the proto enum value ``PREFIX + v.upper()``
(e.g. ``institutional_directional`` <-> ``SMART_MONEY_PROFILE_ID_INSTITUTIONAL_DIRECTIONAL``);
the ``*_UNSPECIFIED = 0`` value never decodes to a Python value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar

from synthmarket.domain.control import SyntheticControlState, SyntheticDerivedStatus, validate_control
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import FAMILY_IDS, PUBLIC_PROFILE_IDS, Direction, SmartMoneyProfileId
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import CoverageState, ScenarioWeights, SessionState, UnderlyingState
from synthmarket.v1 import control_pb2, market_pb2, regime_pb2, smart_money_pb2

__all__ = [
    "SessionSnapshot",
    "WireError",
    "control_from_proto",
    "control_to_proto",
    "coverage_state_from_proto",
    "coverage_state_to_proto",
    "derived_status_from_proto",
    "derived_status_to_proto",
    "equity_quote_from_proto",
    "equity_quote_to_proto",
    "equity_trade_from_proto",
    "equity_trade_to_proto",
    "option_print_from_proto",
    "option_print_to_proto",
    "profile_id_from_proto",
    "profile_id_to_proto",
    "scenario_weights_from_proto",
    "scenario_weights_to_proto",
    "session_snapshot_from_proto",
    "session_snapshot_to_proto",
    "session_state_from_proto",
    "session_state_to_proto",
    "smart_money_event_from_proto",
    "smart_money_event_to_proto",
    "underlying_state_from_proto",
    "underlying_state_to_proto",
]

E = TypeVar("E", bound=Enum)

PRESET_PREFIX = "SYNTHETIC_CONTROL_PRESET_ID_"
PROFILE_PREFIX = "SMART_MONEY_PROFILE_ID_"
DIRECTION_PREFIX = "DIRECTION_"
PHASE_PREFIX = "SESSION_PHASE_"
REGIME_PREFIX = "REGIME_"


class WireError(ValueError):
    """A protobuf message cannot become a dataclass (unset or unknown enum, missing sub-message)."""


class _ProtoEnum:
    """Name/number lookups for one generated enum, with the PREFIX + UPPER(value) convention."""

    def __init__(self, wrapper: Any, prefix: str, py_enum: type[E]) -> None:
        self._wrapper = wrapper
        self._prefix = prefix
        self._py_enum = py_enum

    def to_proto(self, value: Enum | str) -> Any:  # the stubs type enum fields as their wrapper
        raw = value.value if isinstance(value, Enum) else str(value)
        try:
            return self._wrapper.Value(self._prefix + raw.upper())
        except ValueError:
            raise WireError(f"{raw!r} is not a {self._py_enum.__name__} value") from None

    def name_of(self, number: int) -> str | None:
        """The Python value string for ``number``, or None when it is UNSPECIFIED or unknown."""
        try:
            name = self._wrapper.Name(number)
        except ValueError:
            return None
        value = name[len(self._prefix):].lower()
        return None if value == "unspecified" else value

    def from_proto(self, number: int, field: str):
        value = self.name_of(number)
        if value is None:
            raise WireError(f"{field}: unset or unknown {self._py_enum.__name__} enum number {number}")
        return self._py_enum(value)


_PRESET = _ProtoEnum(control_pb2.SyntheticControlPresetId, PRESET_PREFIX, SyntheticControlPresetId)
_PROFILE = _ProtoEnum(smart_money_pb2.SmartMoneyProfileId, PROFILE_PREFIX, SmartMoneyProfileId)
_DIRECTION = _ProtoEnum(smart_money_pb2.Direction, DIRECTION_PREFIX, Direction)
_PHASE = _ProtoEnum(regime_pb2.SessionPhase, PHASE_PREFIX, SessionPhase)
_REGIME = _ProtoEnum(regime_pb2.Regime, REGIME_PREFIX, Regime)


def _ordered(mapping: Mapping[str, Any], preferred: Iterable[str]) -> MappingProxyType:
    """A read-only copy with the known ids first in their canonical order, then the rest sorted,
    so a decoded mapping does not depend on protobuf's map iteration order."""
    preferred = tuple(preferred)
    keys = [k for k in preferred if k in mapping] + sorted(k for k in mapping if k not in preferred)
    return MappingProxyType({k: mapping[k] for k in keys})


def _optional(msg: Any, field: str) -> Any:
    return getattr(msg, field) if msg.HasField(field) else None


def profile_id_to_proto(profile_id: SmartMoneyProfileId | str) -> int:
    return _PROFILE.to_proto(profile_id)


def profile_id_from_proto(number: int) -> str:
    """The public profile id string (``SmartMoneyEvent.profile_id`` holds strings)."""
    return _PROFILE.from_proto(number, "profile_id").value


# --- control -------------------------------------------------------------------------------


def control_to_proto(state: SyntheticControlState) -> control_pb2.SyntheticControlState:
    msg = control_pb2.SyntheticControlState(
        preset_id=_PRESET.to_proto(state.preset_id),
        coverage_assist=state.coverage_assist,
        coverage_window_minutes=state.coverage_window_minutes,
        shared_seed=state.shared_seed,
        profile_weights=control_pb2.SyntheticProfileWeightMap(**state.profile_weights.to_dict()),
    )
    if state.updated_at is not None:
        msg.updated_at = state.updated_at
    if state.updated_by is not None:
        msg.updated_by = state.updated_by
    return msg


def control_from_proto(msg: control_pb2.SyntheticControlState) -> SyntheticControlState:
    """Decode through ``validate_control`` so a bad message fails with the same field errors as JSON.

    An UNSPECIFIED preset or an unset ``profile_weights`` reads as a missing field; an enum
    number this build does not know is passed on as its digits and rejected as an unknown preset.
    """
    payload: dict[str, Any] = {
        "coverage_assist": msg.coverage_assist,
        "coverage_window_minutes": msg.coverage_window_minutes,
        "shared_seed": msg.shared_seed,
        "updated_at": _optional(msg, "updated_at"),
        "updated_by": _optional(msg, "updated_by"),
    }
    if msg.preset_id != control_pb2.SYNTHETIC_CONTROL_PRESET_ID_UNSPECIFIED:
        payload["preset_id"] = _PRESET.name_of(msg.preset_id) or str(msg.preset_id)
    if msg.HasField("profile_weights"):
        payload["profile_weights"] = {p: getattr(msg.profile_weights, p) for p in PUBLIC_PROFILE_IDS}
    return validate_control(payload)


def derived_status_to_proto(status: SyntheticDerivedStatus) -> control_pb2.SyntheticDerivedStatus:
    return control_pb2.SyntheticDerivedStatus(
        session_phase=status.session_phase,
        regime=status.regime,
        focus_symbols=list(status.focus_symbols),
        profile_hit_counts={k: int(v) for k, v in status.profile_hit_counts.items()},
        coverage_window_minutes=status.coverage_window_minutes,
    )


def derived_status_from_proto(msg: control_pb2.SyntheticDerivedStatus) -> SyntheticDerivedStatus:
    return SyntheticDerivedStatus(
        session_phase=msg.session_phase,
        regime=msg.regime,
        focus_symbols=tuple(msg.focus_symbols),
        profile_hit_counts=_ordered(dict(msg.profile_hit_counts), PUBLIC_PROFILE_IDS),
        coverage_window_minutes=msg.coverage_window_minutes,
    )


# --- regime --------------------------------------------------------------------------------


def session_state_to_proto(state: SessionState) -> regime_pb2.SessionState:
    return regime_pb2.SessionState(
        ts=state.ts,
        session_phase=_PHASE.to_proto(state.session_phase),
        regime=_REGIME.to_proto(state.regime),
        volatility_level=state.volatility_level,
        liquidity_level=state.liquidity_level,
        quote_cleanliness=state.quote_cleanliness,
        focus_symbols=list(state.focus_symbols),
        event_symbols=list(state.event_symbols),
        seed_bucket=state.seed_bucket,
        regime_started_ms=state.regime_started_ms,
        regime_ends_ms=state.regime_ends_ms,
        minute_of_session=state.minute_of_session,
    )


def session_state_from_proto(msg: regime_pb2.SessionState) -> SessionState:
    return SessionState(
        ts=msg.ts,
        session_phase=_PHASE.from_proto(msg.session_phase, "session_phase"),
        regime=_REGIME.from_proto(msg.regime, "regime"),
        volatility_level=msg.volatility_level,
        liquidity_level=msg.liquidity_level,
        quote_cleanliness=msg.quote_cleanliness,
        focus_symbols=tuple(msg.focus_symbols),
        event_symbols=tuple(msg.event_symbols),
        seed_bucket=msg.seed_bucket,
        regime_started_ms=msg.regime_started_ms,
        regime_ends_ms=msg.regime_ends_ms,
        minute_of_session=msg.minute_of_session,
    )


_UNDERLYING_FIELDS: tuple[str, ...] = (
    "symbol", "ts", "price", "bid", "ask", "spread_bps", "volatility", "drift_bps_per_min",
    "underlying_move_bps", "nbbo_spread_z", "execution_iv_shock", "atm_iv", "skew", "is_focus", "is_event",
)


def underlying_state_to_proto(state: UnderlyingState) -> regime_pb2.UnderlyingState:
    return regime_pb2.UnderlyingState(**{f: getattr(state, f) for f in _UNDERLYING_FIELDS})


def underlying_state_from_proto(msg: regime_pb2.UnderlyingState) -> UnderlyingState:
    return UnderlyingState(**{f: getattr(msg, f) for f in _UNDERLYING_FIELDS})


def scenario_weights_to_proto(weights: ScenarioWeights) -> regime_pb2.ScenarioWeights:
    return regime_pb2.ScenarioWeights(
        symbol=weights.symbol,
        ts=weights.ts,
        weights={k: float(v) for k, v in weights.weights.items()},
        intensity=weights.intensity,
    )


def scenario_weights_from_proto(msg: regime_pb2.ScenarioWeights) -> ScenarioWeights:
    return ScenarioWeights(
        symbol=msg.symbol,
        ts=msg.ts,
        weights=_ordered(dict(msg.weights), FAMILY_IDS),
        intensity=msg.intensity,
    )


def coverage_state_to_proto(state: CoverageState) -> regime_pb2.CoverageState:
    return regime_pb2.CoverageState(
        now_ms=state.now_ms,
        window_minutes=state.window_minutes,
        hits={k: int(v) for k, v in state.hits.items()},
        last_seen_ms={k: int(v) for k, v in state.last_seen_ms.items()},
    )


def coverage_state_from_proto(msg: regime_pb2.CoverageState) -> CoverageState:
    return CoverageState(
        now_ms=msg.now_ms,
        window_minutes=msg.window_minutes,
        hits=_ordered(dict(msg.hits), FAMILY_IDS),
        last_seen_ms=_ordered(dict(msg.last_seen_ms), FAMILY_IDS),
    )


@dataclass(frozen=True)
class SessionSnapshot:
    """One ``StreamSessionState``/``GetSessionState`` answer, decoded."""

    session: SessionState
    underlyings: tuple[UnderlyingState, ...]
    control_revision: int
    control: SyntheticControlState | None  # None only if the server sent no control


def session_snapshot_to_proto(
    session: SessionState,
    underlyings: Sequence[UnderlyingState],
    control_revision: int,
    control: SyntheticControlState | None = None,
) -> regime_pb2.SessionSnapshot:
    msg = regime_pb2.SessionSnapshot(
        session=session_state_to_proto(session),
        underlyings=[underlying_state_to_proto(u) for u in underlyings],
        control_revision=control_revision,
    )
    if control is not None:
        msg.control.CopyFrom(control_to_proto(control))
    return msg


def session_snapshot_from_proto(msg: regime_pb2.SessionSnapshot) -> SessionSnapshot:
    if not msg.HasField("session"):
        raise WireError("session: missing in SessionSnapshot")
    return SessionSnapshot(
        session=session_state_from_proto(msg.session),
        underlyings=tuple(underlying_state_from_proto(u) for u in msg.underlyings),
        control_revision=msg.control_revision,
        control=control_from_proto(msg.control) if msg.HasField("control") else None,
    )


# --- market data ---------------------------------------------------------------------------


_PRINT_FIELDS: tuple[str, ...] = (
    "id", "ts", "underlying", "contract", "expiry", "strike", "right", "price", "size", "exchange",
    "iv", "underlying_price", "quote_age_ms", "condition", "open_interest",
)
_PRINT_OPTIONAL: tuple[str, ...] = ("bid", "ask", "multi_leg_id")


def option_print_to_proto(p: OptionPrint) -> market_pb2.OptionPrint:
    fields = {f: getattr(p, f) for f in _PRINT_FIELDS}
    # None stays unset so a missing quote is distinguishable from a zero bid.
    fields.update({f: getattr(p, f) for f in _PRINT_OPTIONAL if getattr(p, f) is not None})
    return market_pb2.OptionPrint(**fields)


def option_print_from_proto(msg: market_pb2.OptionPrint) -> OptionPrint:
    fields = {f: getattr(msg, f) for f in _PRINT_FIELDS}
    fields.update({f: _optional(msg, f) for f in _PRINT_OPTIONAL})
    return OptionPrint(**fields)


_TRADE_FIELDS: tuple[str, ...] = ("id", "ts", "symbol", "price", "size", "venue", "off_exchange", "condition")
_QUOTE_FIELDS: tuple[str, ...] = ("ts", "symbol", "bid", "ask", "bid_size", "ask_size")


def equity_trade_to_proto(t: EquityTrade) -> market_pb2.EquityTrade:
    return market_pb2.EquityTrade(**{f: getattr(t, f) for f in _TRADE_FIELDS})


def equity_trade_from_proto(msg: market_pb2.EquityTrade) -> EquityTrade:
    return EquityTrade(**{f: getattr(msg, f) for f in _TRADE_FIELDS})


def equity_quote_to_proto(q: EquityQuote) -> market_pb2.EquityQuote:
    return market_pb2.EquityQuote(**{f: getattr(q, f) for f in _QUOTE_FIELDS})


def equity_quote_from_proto(msg: market_pb2.EquityQuote) -> EquityQuote:
    return EquityQuote(**{f: getattr(msg, f) for f in _QUOTE_FIELDS})


_EVENT_FIELDS: tuple[str, ...] = (
    "event_id", "ts", "underlying", "premium", "contracts", "reason", "contract", "expiry", "strike",
    "right", "spot", "side", "order_type", "price", "iv", "volume",
)


def smart_money_event_to_proto(e: SmartMoneyEvent) -> smart_money_pb2.SmartMoneyEvent:
    return smart_money_pb2.SmartMoneyEvent(
        profile_id=_PROFILE.to_proto(e.profile_id),
        direction=_DIRECTION.to_proto(e.direction),
        print_ids=list(e.print_ids),
        open_interest=e.open_interest,     # None leaves the optional field unset
        **{f: getattr(e, f) for f in _EVENT_FIELDS},
    )


def smart_money_event_from_proto(msg: smart_money_pb2.SmartMoneyEvent) -> SmartMoneyEvent:
    # The dataclass holds plain strings for profile_id and direction (public JSON contract).
    return SmartMoneyEvent(
        profile_id=_PROFILE.from_proto(msg.profile_id, "profile_id").value,
        direction=_DIRECTION.from_proto(msg.direction, "direction").value,
        print_ids=tuple(msg.print_ids),
        open_interest=_optional(msg, "open_interest"),
        **{f: getattr(msg, f) for f in _EVENT_FIELDS},
    )
