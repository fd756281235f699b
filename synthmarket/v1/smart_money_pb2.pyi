from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SmartMoneyProfileId(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SMART_MONEY_PROFILE_ID_UNSPECIFIED: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_INSTITUTIONAL_DIRECTIONAL: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_RETAIL_WHALE: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_EVENT_DRIVEN: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_VOL_SELLER: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_ARBITRAGE: _ClassVar[SmartMoneyProfileId]
    SMART_MONEY_PROFILE_ID_HEDGE_REACTIVE: _ClassVar[SmartMoneyProfileId]

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_BULLISH: _ClassVar[Direction]
    DIRECTION_BEARISH: _ClassVar[Direction]
    DIRECTION_NEUTRAL: _ClassVar[Direction]
SMART_MONEY_PROFILE_ID_UNSPECIFIED: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_INSTITUTIONAL_DIRECTIONAL: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_RETAIL_WHALE: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_EVENT_DRIVEN: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_VOL_SELLER: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_ARBITRAGE: SmartMoneyProfileId
SMART_MONEY_PROFILE_ID_HEDGE_REACTIVE: SmartMoneyProfileId
DIRECTION_UNSPECIFIED: Direction
DIRECTION_BULLISH: Direction
DIRECTION_BEARISH: Direction
DIRECTION_NEUTRAL: Direction

class SmartMoneyEvent(_message.Message):
    __slots__ = ("event_id", "ts", "profile_id", "underlying", "direction", "premium", "contracts", "print_ids", "reason", "contract", "expiry", "strike", "right", "spot", "side", "order_type", "price", "iv", "volume", "open_interest")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    UNDERLYING_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PREMIUM_FIELD_NUMBER: _ClassVar[int]
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    PRINT_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    STRIKE_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    SPOT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    IV_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    OPEN_INTEREST_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts: int
    profile_id: SmartMoneyProfileId
    underlying: str
    direction: Direction
    premium: float
    contracts: int
    print_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    contract: str
    expiry: str
    strike: float
    right: str
    spot: float
    side: str
    order_type: str
    price: float
    iv: float
    volume: int
    open_interest: int
    def __init__(self, event_id: _Optional[str] = ..., ts: _Optional[int] = ..., profile_id: _Optional[_Union[SmartMoneyProfileId, str]] = ..., underlying: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ..., premium: _Optional[float] = ..., contracts: _Optional[int] = ..., print_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., contract: _Optional[str] = ..., expiry: _Optional[str] = ..., strike: _Optional[float] = ..., right: _Optional[str] = ..., spot: _Optional[float] = ..., side: _Optional[str] = ..., order_type: _Optional[str] = ..., price: _Optional[float] = ..., iv: _Optional[float] = ..., volume: _Optional[int] = ..., open_interest: _Optional[int] = ...) -> None: ...
