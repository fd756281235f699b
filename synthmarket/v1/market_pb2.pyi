from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class OptionPrint(_message.Message):
    __slots__ = ("id", "ts", "underlying", "contract", "expiry", "strike", "right", "price", "size", "exchange", "bid", "ask", "iv", "underlying_price", "multi_leg_id", "quote_age_ms", "condition", "open_interest")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    UNDERLYING_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    STRIKE_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    IV_FIELD_NUMBER: _ClassVar[int]
    UNDERLYING_PRICE_FIELD_NUMBER: _ClassVar[int]
    MULTI_LEG_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    OPEN_INTEREST_FIELD_NUMBER: _ClassVar[int]
    id: str
    ts: int
    underlying: str
    contract: str
    expiry: str
    strike: float
    right: str
    price: float
    size: int
    exchange: str
    bid: float
    ask: float
    iv: float
    underlying_price: float
    multi_leg_id: str
    quote_age_ms: int
    condition: str
    open_interest: int
    def __init__(self, id: _Optional[str] = ..., ts: _Optional[int] = ..., underlying: _Optional[str] = ..., contract: _Optional[str] = ..., expiry: _Optional[str] = ..., strike: _Optional[float] = ..., right: _Optional[str] = ..., price: _Optional[float] = ..., size: _Optional[int] = ..., exchange: _Optional[str] = ..., bid: _Optional[float] = ..., ask: _Optional[float] = ..., iv: _Optional[float] = ..., underlying_price: _Optional[float] = ..., multi_leg_id: _Optional[str] = ..., quote_age_ms: _Optional[int] = ..., condition: _Optional[str] = ..., open_interest: _Optional[int] = ...) -> None: ...

class EquityTrade(_message.Message):
    __slots__ = ("id", "ts", "symbol", "price", "size", "venue", "off_exchange", "condition")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    OFF_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    id: str
    ts: int
    symbol: str
    price: float
    size: int
    venue: str
    off_exchange: bool
    condition: str
    def __init__(self, id: _Optional[str] = ..., ts: _Optional[int] = ..., symbol: _Optional[str] = ..., price: _Optional[float] = ..., size: _Optional[int] = ..., venue: _Optional[str] = ..., off_exchange: _Optional[bool] = ..., condition: _Optional[str] = ...) -> None: ...

class EquityQuote(_message.Message):
    __slots__ = ("ts", "symbol", "bid", "ask", "bid_size", "ask_size")
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    ts: int
    symbol: str
    bid: float
    ask: float
    bid_size: int
    ask_size: int
    def __init__(self, ts: _Optional[int] = ..., symbol: _Optional[str] = ..., bid: _Optional[float] = ..., ask: _Optional[float] = ..., bid_size: _Optional[int] = ..., ask_size: _Optional[int] = ...) -> None: ...
