"""Query-parameter parsing for the public smart-money routes: filters, limits, ranges, cursors.

Every parameter of a request is checked, and one 400 names every bad one (``Problems``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

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
# The years an ISO-8601 time may name; the instant it names is then kept within 0 .. TS_MAX (an
# offset can reach a few hours past either end, where no event is anyway).
ISO_YEAR_MIN, ISO_YEAR_MAX = 1970, 2099
TIME_EXAMPLE = "2026-11-20T14:30:00Z"
# What the OpenAPI document allows for an ISO-8601 time (with format date-time, which also rules
# out days a month does not have): RFC 3339 in the years above, a fraction of up to 9 digits.
ISO_TIME_PATTERN = (r"^(?:19[7-9][0-9]|20[0-9]{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
                    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
                    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
# What the server takes: the above, seconds optional, and loose enough in the offset to say what
# is wrong with it (none at all, or a '+' that arrived as a space because it was not encoded).
_ISO_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<offset>[Zz]|(?P<sign>[+\- ])(?P<off_hour>\d{2}):?(?P<off_minute>\d{2}))?", re.ASCII)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

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


T = TypeVar("T")


class Problems:
    """The bad parameters of one request, gathered so that one 400 names every one of them."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, parameter: str, message: str) -> None:
        self.found.append((parameter, message))

    def take(self, parse: Callable[[], T], fallback: T) -> T:
        """``parse()``, or ``fallback`` with its problems noted when it raised ``BadParameter``."""
        try:
            return parse()
        except BadParameter as exc:
            self.found.extend(exc.problems)
            return fallback

    def raise_any(self) -> None:
        if self.found:
            first, *rest = self.found
            raise BadParameter(*first, *rest)


def _single(args: Mapping[str, list[str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0]


def _check_known(args: Mapping[str, list[str]], allowed: Iterable[str], problems: Problems) -> None:
    allowed = set(allowed)
    for name in sorted(args):
        if name not in allowed:
            problems.add(name, f"unknown parameter; allowed: {', '.join(sorted(allowed))}")


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


def _choices(args: Mapping[str, list[str]], name: str, allowed: Iterable[str], what: str) -> tuple[str, ...]:
    items = _list(_single(args, name), name)
    allowed = tuple(allowed)
    unknown = [item[:40] for item in items if item not in allowed]
    if unknown:
        raise BadParameter(name, f"unknown {what} {', '.join(map(repr, unknown))}; one of {', '.join(allowed)}")
    return tuple(items)


def _symbols(args: Mapping[str, list[str]]) -> tuple[str, ...]:
    symbols = tuple(s.upper() for s in _list(_single(args, "symbol"), "symbol"))
    bad = [s[:40] for s in symbols if not _SYMBOL_RE.match(s)]
    if bad:
        raise BadParameter("symbol", f"not a ticker symbol: {', '.join(map(repr, bad))}")
    return symbols


def _min_premium(args: Mapping[str, list[str]]) -> float:
    raw = _single(args, "min_premium")
    return 0.0 if raw is None else _float(raw, "min_premium", 0.0, MIN_PREMIUM_MAX)


def _filter(args: Mapping[str, list[str]], problems: Problems) -> EventFilter:
    return EventFilter(
        problems.take(lambda: _choices(args, "profile", PUBLIC_PROFILE_IDS, "profile"), ()),
        problems.take(lambda: _symbols(args), ()),
        problems.take(lambda: _choices(args, "direction", DIRECTIONS, "direction"), ()),
        problems.take(lambda: _min_premium(args), 0.0),
    )


def _limit(args: Mapping[str, list[str]], default: int, maximum: int) -> int:
    raw = _single(args, "limit")
    return default if raw is None else _int(raw, "limit", 1, maximum)


def parse_flow(args: Mapping[str, list[str]]) -> tuple[int, EventFilter]:
    problems = Problems()
    _check_known(args, FILTER_PARAMS + ("limit",), problems)
    limit = problems.take(lambda: _limit(args, FLOW_LIMIT_DEFAULT, FLOW_LIMIT_MAX), FLOW_LIMIT_DEFAULT)
    flt = _filter(args, problems)
    problems.raise_any()
    return limit, flt


def parse_ws(args: Mapping[str, list[str]]) -> EventFilter:
    problems = Problems()
    _check_known(args, FILTER_PARAMS, problems)
    flt = _filter(args, problems)
    problems.raise_any()
    return flt


def _iso_time_ms(raw: str, name: str) -> int:
    """The instant an ISO-8601 time names, in epoch ms (a fraction beyond the millisecond dropped).

    Only a time with a UTC offset ('Z' or ±HH:MM) is taken: without one, which zone was meant
    is a guess, so it is refused, as is a '+' that arrived as a space (not URL-encoded).
    """
    text = raw.strip()
    match = _ISO_RE.fullmatch(text)
    if match is None:
        raise BadParameter(name, f"must be epoch milliseconds or an ISO-8601 time with a UTC offset "
                                 f"(like {TIME_EXAMPLE}), got {raw[:40]!r}")
    if match["offset"] is None:
        raise BadParameter(name, f"{text[:40]!r} has no UTC offset; add Z or one like -05:00 "
                                 f"(a time without one is not guessed)")
    if match["sign"] == " ":
        raise BadParameter(name, f"the offset's '+' arrived as a space in {raw[:40]!r}; send it URL-encoded as %2B")
    if not ISO_YEAR_MIN <= int(match["year"]) <= ISO_YEAR_MAX:
        raise BadParameter(name, f"the year must be between {ISO_YEAR_MIN} and {ISO_YEAR_MAX}, got {match['year']}")
    offset = dt.timedelta(0)
    if match["sign"] is not None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            raise BadParameter(name, f"not a UTC offset: {match['offset']!r}")
        offset = (-1 if match["sign"] == "-" else 1) * dt.timedelta(hours=off_hour, minutes=off_minute)
    try:
        moment = dt.datetime(int(match["year"]), int(match["month"]), int(match["day"]), int(match["hour"]),
                             int(match["minute"]), int(match["second"] or 0), tzinfo=dt.timezone(offset))
    except ValueError as exc:
        raise BadParameter(name, f"not a valid date and time ({exc}): {raw[:40]!r}") from None
    delta = moment - _EPOCH
    millis = int((match["fraction"] or "0")[:3].ljust(3, "0"))
    return (delta.days * 86_400 + delta.seconds) * 1000 + millis


def _time(args: Mapping[str, list[str]], name: str) -> int:
    """A time parameter: epoch milliseconds UTC, or an ISO-8601 time with a UTC offset."""
    raw = _single(args, name)
    if raw is None:
        raise BadParameter(name, f"required (epoch milliseconds, or an ISO-8601 time like {TIME_EXAMPLE})")
    if re.fullmatch(r"[+-]?\d+", raw.strip()):
        return _int(raw, name, 0, TS_MAX)
    return _iso_time_ms(raw, name)


def _range(args: Mapping[str, list[str]], problems: Problems) -> tuple[int, int]:
    start = problems.take(lambda: _time(args, "start"), None)
    end = problems.take(lambda: _time(args, "end"), None)
    if start is None or end is None:
        return 0, 0
    if end < start:
        problems.add("end", f"must not be before start ({end} < {start}, epoch ms)")
    return min(max(start, 0), TS_MAX), min(max(end, 0), TS_MAX)


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


def _cursor(args: Mapping[str, list[str]]) -> int | None:
    raw = _single(args, "cursor")
    return None if raw is None else decode_cursor(raw)


def _speed(args: Mapping[str, list[str]]) -> float:
    raw = _single(args, "speed")
    return 0.0 if raw is None else _float(raw, "speed", 0.0, REPLAY_SPEED_MAX)


def parse_history(args: Mapping[str, list[str]]) -> HistoryQuery:
    problems = Problems()
    _check_known(args, FILTER_PARAMS + ("start", "end", "limit", "cursor"), problems)
    start, end = _range(args, problems)
    cursor = problems.take(lambda: _cursor(args), None)
    limit = problems.take(lambda: _limit(args, HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX), HISTORY_LIMIT_DEFAULT)
    flt = _filter(args, problems)
    problems.raise_any()
    return HistoryQuery(start, end, limit, cursor, flt)


def parse_replay(args: Mapping[str, list[str]]) -> ReplayQuery:
    problems = Problems()
    _check_known(args, FILTER_PARAMS + ("start", "end", "speed"), problems)
    start, end = _range(args, problems)
    speed = problems.take(lambda: _speed(args), 0.0)
    flt = _filter(args, problems)
    problems.raise_any()
    return ReplayQuery(start, end, speed, flt)
