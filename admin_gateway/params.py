"""Query-parameter parsing for the public smart-money routes: filters, limits, ranges, cursors."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from admin_gateway.errors import BadParameter
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS, Direction

DIRECTIONS: tuple[str, ...] = tuple(d.value for d in Direction)
FILTER_PARAMS: tuple[str, ...] = ("profile", "symbol", "direction", "min_premium")

FLOW_LIMIT_DEFAULT, FLOW_LIMIT_MAX = 50, 500
HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX = 100, 500
REPLAY_SPEED_MAX = 10_000.0
MIN_PREMIUM_MAX = 1e15
# Epoch ms bounds: 1970 .. 2100. Anything outside is a typo (seconds vs ms, say), not a range.
TS_MAX = 4_102_444_800_000

_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
# What the OpenAPI document allows for one symbol: the check above, before upper-casing.
SYMBOL_PATTERN = r"^[A-Za-z][A-Za-z0-9.\-]{0,9}$"
_CURSOR_PREFIX = "v1:"


def _cursor_pattern() -> str:
    """The cursors this API issues, as a regular expression over their base64url text.

    A cursor is base64url("v1:" + decimal sequence), unpadded; "v1:" encodes as ``djE6``. Each
    three ASCII digits encode as four characters and a last one or two digits as two or three,
    so the digits' bit patterns fix which characters can stand where. The first digit is
    never 0 and there are at most 17 digits, so every match decodes to a sequence in
    1 .. 2**63 - 1, as ``decode_cursor`` requires.
    """
    hi, hi_first = "(?:[MN][DTjz]|O[DT])", "(?:M[Tjz]|N[DTjz]|O[DT])"   # a digit's high bits
    mid, low = "[AEIMQUYcgk]", "[w-z0-5]"      # the second digit's bits, the third's
    one, one_first = "(?:[MN][AQgw]|O[AQ])", "(?:M[Qgw]|N[AQgw]|O[AQ])"
    three = hi + mid + low
    tail = f"(?:{hi}{mid}|{one})"              # a last two digits, or a last one
    return (f"^djE6(?:{hi_first}{mid}{low}(?:{three}){{0,4}}{tail}?"
            f"|{hi_first}{mid}|{one_first})$")


CURSOR_PATTERN = _cursor_pattern()


@dataclass(frozen=True)
class EventFilter:
    """Which events a caller wants; an empty tuple means "any"."""

    profiles: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    min_premium: float = 0.0

    def matches(self, event: SmartMoneyEvent) -> bool:
        if self.profiles and event.profile_id not in self.profiles:
            return False
        if self.symbols and event.underlying not in self.symbols:
            return False
        if self.directions and event.direction not in self.directions:
            return False
        return event.premium >= self.min_premium


@dataclass(frozen=True)
class HistoryQuery:
    start: int
    end: int
    limit: int
    cursor: int | None          # next stream sequence to scan, decoded
    filter: EventFilter


@dataclass(frozen=True)
class ReplayQuery:
    start: int
    end: int
    speed: float                # 0 = as fast as possible
    filter: EventFilter


def _single(args: Mapping[str, list[str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0]


def _check_known(args: Mapping[str, list[str]], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for name in sorted(args):
        if name not in allowed:
            raise BadParameter(name, f"unknown parameter; allowed: {', '.join(sorted(allowed))}")


def _list(raw: str | None, name: str) -> list[str]:
    if raw is None:
        return []
    items = [part.strip() for part in raw.split(",")]
    if not all(items):
        raise BadParameter(name, "must be a comma-separated list without empty items")
    return items


def _int(raw: str, name: str, lo: int, hi: int) -> int:
    if not re.fullmatch(r"[+-]?\d{1,19}", raw.strip()):
        raise BadParameter(name, f"must be an integer, got {raw[:40]!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadParameter(name, f"must be between {lo} and {hi}, got {value}")
    return value


def _float(raw: str, name: str, lo: float, hi: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadParameter(name, f"must be a finite number between {lo:g} and {hi:g}, got {raw[:40]!r}")
    return value


def parse_filter(args: Mapping[str, list[str]]) -> EventFilter:
    profiles = _list(_single(args, "profile"), "profile")
    for p in profiles:
        if p not in PUBLIC_PROFILE_IDS:
            raise BadParameter("profile", f"unknown profile {p[:40]!r}; one of {', '.join(PUBLIC_PROFILE_IDS)}")
    symbols = [s.upper() for s in _list(_single(args, "symbol"), "symbol")]
    for s in symbols:
        if not _SYMBOL_RE.match(s):
            raise BadParameter("symbol", f"not a ticker symbol: {s[:40]!r}")
    directions = _list(_single(args, "direction"), "direction")
    for d in directions:
        if d not in DIRECTIONS:
            raise BadParameter("direction", f"unknown direction {d[:40]!r}; one of {', '.join(DIRECTIONS)}")
    raw_premium = _single(args, "min_premium")
    min_premium = 0.0 if raw_premium is None else _float(raw_premium, "min_premium", 0.0, MIN_PREMIUM_MAX)
    return EventFilter(tuple(profiles), tuple(symbols), tuple(directions), min_premium)


def parse_limit(args: Mapping[str, list[str]], default: int, maximum: int) -> int:
    raw = _single(args, "limit")
    return default if raw is None else _int(raw, "limit", 1, maximum)


def parse_flow(args: Mapping[str, list[str]]) -> tuple[int, EventFilter]:
    _check_known(args, FILTER_PARAMS + ("limit",))
    return parse_limit(args, FLOW_LIMIT_DEFAULT, FLOW_LIMIT_MAX), parse_filter(args)


def parse_ws(args: Mapping[str, list[str]]) -> EventFilter:
    _check_known(args, FILTER_PARAMS)
    return parse_filter(args)


def _range(args: Mapping[str, list[str]]) -> tuple[int, int]:
    raw_start, raw_end = _single(args, "start"), _single(args, "end")
    if raw_start is None:
        raise BadParameter("start", "required (epoch milliseconds)")
    if raw_end is None:
        raise BadParameter("end", "required (epoch milliseconds)")
    start = _int(raw_start, "start", 0, TS_MAX)
    end = _int(raw_end, "end", 0, TS_MAX)
    if end < start:
        raise BadParameter("end", f"must not be before start ({end} < {start})")
    return start, end


def encode_cursor(next_seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{next_seq}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadParameter("cursor", "not a cursor returned by this API") from None
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX):].isdigit():
        raise BadParameter("cursor", "not a cursor returned by this API")
    value = int(text[len(_CURSOR_PREFIX):])
    if not 1 <= value < 1 << 63:
        raise BadParameter("cursor", "not a cursor returned by this API")
    return value


def parse_history(args: Mapping[str, list[str]]) -> HistoryQuery:
    _check_known(args, FILTER_PARAMS + ("start", "end", "limit", "cursor"))
    start, end = _range(args)
    raw_cursor = _single(args, "cursor")
    cursor = None if raw_cursor is None else decode_cursor(raw_cursor)
    limit = parse_limit(args, HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX)
    return HistoryQuery(start, end, limit, cursor, parse_filter(args))


def parse_replay(args: Mapping[str, list[str]]) -> ReplayQuery:
    _check_known(args, FILTER_PARAMS + ("start", "end", "speed"))
    start, end = _range(args)
    raw_speed = _single(args, "speed")
    speed = 0.0 if raw_speed is None else _float(raw_speed, "speed", 0.0, REPLAY_SPEED_MAX)
    return ReplayQuery(start, end, speed, parse_filter(args))
