from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class StatusReport(_message.Message):
    __slots__ = ("service", "replica", "applied_control_revision", "profile_hit_counts", "session_phase", "regime", "focus_symbols", "last_publish_ts", "prints_published", "control_timeline")
    class ProfileHitCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONTROL_REVISION_FIELD_NUMBER: _ClassVar[int]
    PROFILE_HIT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    SESSION_PHASE_FIELD_NUMBER: _ClassVar[int]
    REGIME_FIELD_NUMBER: _ClassVar[int]
    FOCUS_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    LAST_PUBLISH_TS_FIELD_NUMBER: _ClassVar[int]
    PRINTS_PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    CONTROL_TIMELINE_FIELD_NUMBER: _ClassVar[int]
    service: str
    replica: str
    applied_control_revision: int
    profile_hit_counts: _containers.ScalarMap[str, int]
    session_phase: str
    regime: str
    focus_symbols: _containers.RepeatedScalarFieldContainer[str]
    last_publish_ts: int
    prints_published: int
    control_timeline: str
    def __init__(self, service: _Optional[str] = ..., replica: _Optional[str] = ..., applied_control_revision: _Optional[int] = ..., profile_hit_counts: _Optional[_Mapping[str, int]] = ..., session_phase: _Optional[str] = ..., regime: _Optional[str] = ..., focus_symbols: _Optional[_Iterable[str]] = ..., last_publish_ts: _Optional[int] = ..., prints_published: _Optional[int] = ..., control_timeline: _Optional[str] = ...) -> None: ...
