from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyntheticControlPresetId(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNTHETIC_CONTROL_PRESET_ID_UNSPECIFIED: _ClassVar[SyntheticControlPresetId]
    SYNTHETIC_CONTROL_PRESET_ID_BALANCED_DEMO: _ClassVar[SyntheticControlPresetId]
    SYNTHETIC_CONTROL_PRESET_ID_EVENT_DAY: _ClassVar[SyntheticControlPresetId]
    SYNTHETIC_CONTROL_PRESET_ID_DEALER_DAY: _ClassVar[SyntheticControlPresetId]
    SYNTHETIC_CONTROL_PRESET_ID_RETAIL_CHASE: _ClassVar[SyntheticControlPresetId]
    SYNTHETIC_CONTROL_PRESET_ID_QUIET_RANGE: _ClassVar[SyntheticControlPresetId]
SYNTHETIC_CONTROL_PRESET_ID_UNSPECIFIED: SyntheticControlPresetId
SYNTHETIC_CONTROL_PRESET_ID_BALANCED_DEMO: SyntheticControlPresetId
SYNTHETIC_CONTROL_PRESET_ID_EVENT_DAY: SyntheticControlPresetId
SYNTHETIC_CONTROL_PRESET_ID_DEALER_DAY: SyntheticControlPresetId
SYNTHETIC_CONTROL_PRESET_ID_RETAIL_CHASE: SyntheticControlPresetId
SYNTHETIC_CONTROL_PRESET_ID_QUIET_RANGE: SyntheticControlPresetId

class SyntheticProfileWeightMap(_message.Message):
    __slots__ = ("institutional_directional", "retail_whale", "event_driven", "vol_seller", "arbitrage", "hedge_reactive")
    INSTITUTIONAL_DIRECTIONAL_FIELD_NUMBER: _ClassVar[int]
    RETAIL_WHALE_FIELD_NUMBER: _ClassVar[int]
    EVENT_DRIVEN_FIELD_NUMBER: _ClassVar[int]
    VOL_SELLER_FIELD_NUMBER: _ClassVar[int]
    ARBITRAGE_FIELD_NUMBER: _ClassVar[int]
    HEDGE_REACTIVE_FIELD_NUMBER: _ClassVar[int]
    institutional_directional: float
    retail_whale: float
    event_driven: float
    vol_seller: float
    arbitrage: float
    hedge_reactive: float
    def __init__(self, institutional_directional: _Optional[float] = ..., retail_whale: _Optional[float] = ..., event_driven: _Optional[float] = ..., vol_seller: _Optional[float] = ..., arbitrage: _Optional[float] = ..., hedge_reactive: _Optional[float] = ...) -> None: ...

class SyntheticControlState(_message.Message):
    __slots__ = ("preset_id", "coverage_assist", "coverage_window_minutes", "shared_seed", "profile_weights", "updated_at", "updated_by")
    PRESET_ID_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_ASSIST_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    SHARED_SEED_FIELD_NUMBER: _ClassVar[int]
    PROFILE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    preset_id: SyntheticControlPresetId
    coverage_assist: bool
    coverage_window_minutes: int
    shared_seed: int
    profile_weights: SyntheticProfileWeightMap
    updated_at: str
    updated_by: str
    def __init__(self, preset_id: _Optional[_Union[SyntheticControlPresetId, str]] = ..., coverage_assist: _Optional[bool] = ..., coverage_window_minutes: _Optional[int] = ..., shared_seed: _Optional[int] = ..., profile_weights: _Optional[_Union[SyntheticProfileWeightMap, _Mapping]] = ..., updated_at: _Optional[str] = ..., updated_by: _Optional[str] = ...) -> None: ...

class SyntheticDerivedStatus(_message.Message):
    __slots__ = ("session_phase", "regime", "focus_symbols", "profile_hit_counts", "coverage_window_minutes")
    class ProfileHitCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SESSION_PHASE_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    FOCUS_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_HIT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_WINDOW_MINUTES_FIELD_NUMBER: _ClassVar[int]
    session_phase: str
    regime: str
    focus_symbols: _containers.RepeatedScalarFieldContainer[str]
    profile_hit_counts: _containers.ScalarMap[str, int]
    coverage_window_minutes: int
    def __init__(self, session_phase: _Optional[str] = ..., regime: _Optional[str] = ..., focus_symbols: _Optional[_Iterable[str]] = ..., profile_hit_counts: _Optional[_Mapping[str, int]] = ..., coverage_window_minutes: _Optional[int] = ...) -> None: ...
