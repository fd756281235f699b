from synthmarket.v1 import control_pb2 as _control_pb2
from synthmarket.v1 import smart_money_pb2 as _smart_money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_PHASE_UNSPECIFIED: _ClassVar[SessionPhase]
    SESSION_PHASE_OPEN: _ClassVar[SessionPhase]
    SESSION_PHASE_MIDDAY: _ClassVar[SessionPhase]
    SESSION_PHASE_POWER_HOUR: _ClassVar[SessionPhase]
    SESSION_PHASE_AFTER_EVENT: _ClassVar[SessionPhase]

class Regime(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGIME_UNSPECIFIED: _ClassVar[Regime]
    REGIME_TREND_UP: _ClassVar[Regime]
    REGIME_TREND_DOWN: _ClassVar[Regime]
    REGIME_MEAN_REVERT: _ClassVar[Regime]
    REGIME_RETAIL_CHASE: _ClassVar[Regime]
    REGIME_EVENT_RAMP: _ClassVar[Regime]
    REGIME_DEALER_GAMMA: _ClassVar[Regime]
    REGIME_ARB_CALM: _ClassVar[Regime]
SESSION_PHASE_UNSPECIFIED: SessionPhase
SESSION_PHASE_OPEN: SessionPhase
SESSION_PHASE_MIDDAY: SessionPhase
SESSION_PHASE_POWER_HOUR: SessionPhase
SESSION_PHASE_AFTER_EVENT: SessionPhase
REGIME_UNSPECIFIED: Regime
REGIME_TREND_UP: Regime
REGIME_TREND_DOWN: Regime
REGIME_MEAN_REVERT: Regime
REGIME_RETAIL_CHASE: Regime
REGIME_EVENT_RAMP: Regime
REGIME_DEALER_GAMMA: Regime
REGIME_ARB_CALM: Regime

class SessionState(_message.Message):
    __slots__ = ("ts", "session_phase", "regime", "volatility_level", "liquidity_level", "quote_cleanliness", "focus_symbols", "event_symbols", "seed_bucket", "regime_started_ms", "regime_ends_ms", "minute_of_session")
    TS_FIELD_NUMBER: _ClassVar[int]
    SESSION_PHASE_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    QUOTE_CLEANLINESS_FIELD_NUMBER: _ClassVar[int]
    FOCUS_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    EVENT_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    SEED_BUCKET_FIELD_NUMBER: _ClassVar[int]
    REGIME_STARTED_MS_FIELD_NUMBER: _ClassVar[int]
    REGIME_ENDS_MS_FIELD_NUMBER: _ClassVar[int]
    MINUTE_OF_SESSION_FIELD_NUMBER: _ClassVar[int]
    ts: int
    session_phase: SessionPhase
    regime: Regime
    volatility_level: float
    liquidity_level: float
    quote_cleanliness: float
    focus_symbols: _containers.RepeatedScalarFieldContainer[str]
    event_symbols: _containers.RepeatedScalarFieldContainer[str]
    seed_bucket: int
    regime_started_ms: int
    regime_ends_ms: int
    minute_of_session: float
    def __init__(self, ts: _Optional[int] = ..., session_phase: _Optional[_Union[SessionPhase, str]] = ..., regime: _Optional[_Union[Regime, str]] = ..., volatility_level: _Optional[float] = ..., liquidity_level: _Optional[float] = ..., quote_cleanliness: _Optional[float] = ..., focus_symbols: _Optional[_Iterable[str]] = ..., event_symbols: _Optional[_Iterable[str]] = ..., seed_bucket: _Optional[int] = ..., regime_started_ms: _Optional[int] = ..., regime_ends_ms: _Optional[int] = ..., minute_of_session: _Optional[float] = ...) -> None: ...

class UnderlyingState(_message.Message):
    __slots__ = ("symbol", "ts", "price", "bid", "ask", "spread_bps", "volatility", "drift_bps_per_min", "underlying_move_bps", "nbbo_spread_z", "execution_iv_shock", "atm_iv", "skew", "is_focus", "is_event")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_FIELD_NUMBER: _ClassVar[int]
    DRIFT_BPS_PER_MIN_FIELD_NUMBER: _ClassVar[int]
    UNDERLYING_MOVE_BPS_FIELD_NUMBER: _ClassVar[int]
    NBBO_SPREAD_Z_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_IV_SHOCK_FIELD_NUMBER: _ClassVar[int]
    ATM_IV_FIELD_NUMBER: _ClassVar[int]
    SKEW_FIELD_NUMBER: _ClassVar[int]
    IS_FOCUS_FIELD_NUMBER: _ClassVar[int]
    IS_EVENT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    ts: int
    price: float
    bid: float
    ask: float
    spread_bps: float
    volatility: float
    drift_bps_per_min: float
    underlying_move_bps: float
    nbbo_spread_z: float
    execution_iv_shock: float
    atm_iv: float
    skew: float
    is_focus: bool
    is_event: bool
    def __init__(self, symbol: _Optional[str] = ..., ts: _Optional[int] = ..., price: _Optional[float] = ..., bid: _Optional[float] = ..., ask: _Optional[float] = ..., spread_bps: _Optional[float] = ..., volatility: _Optional[float] = ..., drift_bps_per_min: _Optional[float] = ..., underlying_move_bps: _Optional[float] = ..., nbbo_spread_z: _Optional[float] = ..., execution_iv_shock: _Optional[float] = ..., atm_iv: _Optional[float] = ..., skew: _Optional[float] = ..., is_focus: _Optional[bool] = ..., is_event: _Optional[bool] = ...) -> None: ...

class ScenarioWeights(_message.Message):
    __slots__ = ("symbol", "ts", "weights", "intensity")
    class WeightsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    INTENSITY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    ts: int
    weights: _containers.ScalarMap[str, float]
    intensity: float
    def __init__(self, symbol: _Optional[str] = ..., ts: _Optional[int] = ..., weights: _Optional[_Mapping[str, float]] = ..., intensity: _Optional[float] = ...) -> None: ...

class CoverageState(_message.Message):
    __slots__ = ("now_ms", "window_minutes", "hits", "last_seen_ms")
    class HitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class LastSeenMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NOW_MS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    now_ms: int
    window_minutes: int
    hits: _containers.ScalarMap[str, int]
    last_seen_ms: _containers.ScalarMap[str, int]
    def __init__(self, now_ms: _Optional[int] = ..., window_minutes: _Optional[int] = ..., hits: _Optional[_Mapping[str, int]] = ..., last_seen_ms: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SessionSnapshot(_message.Message):
    __slots__ = ("session", "underlyings", "control_revision", "control")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    UNDERLYINGS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_REVISION_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    session: SessionState
    underlyings: _containers.RepeatedCompositeFieldContainer[UnderlyingState]
    control_revision: int
    control: _control_pb2.SyntheticControlState
    def __init__(self, session: _Optional[_Union[SessionState, _Mapping]] = ..., underlyings: _Optional[_Iterable[_Union[UnderlyingState, _Mapping]]] = ..., control_revision: _Optional[int] = ..., control: _Optional[_Union[_control_pb2.SyntheticControlState, _Mapping]] = ...) -> None: ...

class GetSessionStateRequest(_message.Message):
    __slots__ = ("ts", "symbols")
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ts: _Optional[int] = ..., symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class GetUnderlyingStateRequest(_message.Message):
    __slots__ = ("symbol", "ts")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    ts: int
    def __init__(self, symbol: _Optional[str] = ..., ts: _Optional[int] = ...) -> None: ...

class GetScenarioWeightsRequest(_message.Message):
    __slots__ = ("symbol", "ts")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    ts: int
    def __init__(self, symbol: _Optional[str] = ..., ts: _Optional[int] = ...) -> None: ...

class GetCoverageBoostRequest(_message.Message):
    __slots__ = ("profile_id", "coverage_state")
    PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_STATE_FIELD_NUMBER: _ClassVar[int]
    profile_id: _smart_money_pb2.SmartMoneyProfileId
    coverage_state: CoverageState
    def __init__(self, profile_id: _Optional[_Union[_smart_money_pb2.SmartMoneyProfileId, str]] = ..., coverage_state: _Optional[_Union[CoverageState, _Mapping]] = ...) -> None: ...

class GetCoverageBoostResponse(_message.Message):
    __slots__ = ("boost",)
    BOOST_FIELD_NUMBER: _ClassVar[int]
    boost: float
    def __init__(self, boost: _Optional[float] = ...) -> None: ...

class GetControlRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetControlResponse(_message.Message):
    __slots__ = ("control", "revision")
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    control: _control_pb2.SyntheticControlState
    revision: int
    def __init__(self, control: _Optional[_Union[_control_pb2.SyntheticControlState, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class StreamSessionStateRequest(_message.Message):
    __slots__ = ("symbols", "interval_ms")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    interval_ms: int
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., interval_ms: _Optional[int] = ...) -> None: ...
