"""Open interest per contract at the open, as OCC publishes it before the session.

A contract's open interest on a trading day is

    max(0, base + ordinary + families)

- ``base``: the position history, a seeded function of the contract and the day. It is large near
  the money (around the name's reference price, within the spread of its daily opens and of the
  moves over the contract's life), on round strikes, on monthly (most of all quarterly) expiries,
  on expiries listed long ago and near expiry, and far larger on the index ETFs than on single
  names; index puts and single-name calls carry more than the other side.
- ``families``: the previous session's net opening contracts of its labelled flow, exactly (an
  opening print adds its size, a closing one subtracts it, ``SUBTYPE_EFFECT``). The caller
  replays that session's families-only tape to count them (``previous_session``).
- ``ordinary``: the previous session's ordinary flow's net opening, a seeded draw proportional to
  the contract's base (the ordinary flow trades where open interest is).

A contract whose expiry is first listed today has none. Everything is a pure function of
(seed, day, contract) and, for ``families``, of the counts handed in; no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from synthmarket.domain import chain, rng
from synthmarket.domain.universe import UNIVERSE

_TAG_BASE = 0x4F49_4241_5345        # "OIBASE"
_TAG_ORDINARY = 0x4F49_4F52_44      # "OIORD"

# Open interest at an at-the-money strike of a front monthly expiry (contracts) before noise and the
# round-strike lift: rough 2024-25 magnitudes (SPY's front monthly strikes near the money hold 20-150k,
# AAPL's 10-60k, WMT's a few thousand), so that whole chains come out near OCC's figures.
NAME_PEAK: Mapping[str, float] = MappingProxyType({
    "SPY": 25_000, "QQQ": 13_000, "IWM": 10_000, "NVDA": 19_000, "TSLA": 13_000, "AAPL": 13_000,
    "AMD": 9_000, "AMZN": 9_000, "PLTR": 10_000, "BAC": 10_000, "GOOGL": 7_000, "META": 4_500,
    "MSFT": 4_500, "AVGO": 4_500, "COIN": 3_500, "XOM": 4_500, "JPM": 3_500, "WMT": 4_500,
    "UNH": 3_000, "NFLX": 2_000,
})
INDEX_ETFS = frozenset({"SPY", "QQQ", "IWM"})

# Relative size of an expiry's open interest by kind (a quarterly monthly carries the most).
KIND_WEIGHT: Mapping[str, float] = MappingProxyType(
    {"quarterly": 1.3, "monthly": 1.0, "weekly": 0.3, "daily": 0.12})
# Days an expiry of each kind is listed before it expires, and how fast its open interest builds.
LISTED_FOR_DAYS: Mapping[str, int] = MappingProxyType(
    {"quarterly": 365, "monthly": 365, "weekly": 7 * chain.WEEKLY_COUNT, "daily": chain.DAILY_HORIZON_DAYS})
LEAPS_LISTED_FOR_DAYS = 760
BUILD_DAYS: Mapping[str, float] = MappingProxyType({"quarterly": 45.0, "monthly": 45.0, "weekly": 10.0, "daily": 3.0})
NEAR_EXPIRY_DAYS = 60.0             # trading concentrates near expiry, and so does open interest
NOISE_SD = 0.45                     # contract-to-contract scatter (log scale)
TAIL_SHARE = 0.3                    # of the moneyness profile in its exponential wings
ORDINARY_NET_MEAN = 0.01            # the ordinary flow's net opening, a share of the base per session
ORDINARY_NET_SD = 0.04

# What a labelled print does to the next day's open interest: +1 opening, -1 closing, 0 a transfer
# (one side opens, the other closes). Ordinary prints are counted by the ordinary draw instead.
OPENING, CLOSING, TRANSFER = 1, -1, 0
SUBTYPE_EFFECT: Mapping[str, int] = MappingProxyType({
    "call_sweep": OPENING, "put_sweep": OPENING, "ask_lift_accumulation": OPENING,
    "far_dated_conviction": OPENING, "0dte_call_chase": OPENING, "short_dated_put_panic": OPENING,
    "attention_contract_spike": OPENING, "earnings_vol_probe": OPENING, "pre_event_directional_ramp": OPENING,
    "post_gap_followthrough": OPENING, "covered_call_overwrite": OPENING, "cash_secured_put_write": OPENING,
    "short_straddle_harvest": OPENING, "parity_vertical": OPENING, "conversion_reversal": OPENING,
    "box_spread": OPENING, "gamma_pinch_call_hedge": OPENING, "reactive_put_wall": OPENING,
    "dealer_unwind": CLOSING, "single_print_mid": TRANSFER, "two_sided_scalp": TRANSFER,
    "stale_quote_noise": TRANSFER,
})


@lru_cache(maxsize=512)
def expiry_kind(expiry: dt.date) -> str:
    """quarterly | monthly (third Friday, or the day before a holiday) | weekly (another Friday) | daily."""
    monthly = chain.expiry_on(chain.third_friday(expiry.year, expiry.month))
    if expiry == monthly:
        return "quarterly" if expiry.month in (3, 6, 9, 12) else "monthly"
    if expiry.weekday() <= 4 and expiry == chain.expiry_on(expiry + dt.timedelta(days=4 - expiry.weekday())):
        return "weekly"
    return "daily"


@lru_cache(maxsize=4096)
def listed_today(root: str, expiry: dt.date, today: dt.date, previous: dt.date) -> bool:
    """Whether ``expiry`` is listed on ``today`` and was not on the previous session ``previous``."""
    return expiry in chain.expiries(root, today) and expiry not in chain.expiries(root, previous)


def roundness(strike: float) -> float:
    """Round strikes draw more open interest: whole dollars, then fives, tens, fifties, hundreds."""
    milli = int(round(strike * 1000))
    weight = 1.0
    for step, lift in ((1_000, 1.25), (5_000, 1.5), (10_000, 1.3), (50_000, 1.3), (100_000, 1.2)):
        if milli % step == 0:
            weight *= lift
    return weight


def base_open_interest(today: dt.date, contract: chain.OccContract, z: float) -> float:
    """The seeded position history of ``contract`` at ``today``'s open (before rounding), ``z`` the
    contract's standard normal draw (its scatter)."""
    spec = UNIVERSE[contract.root]
    dte = (contract.expiry - today).days
    if dte < 0:
        return 0.0
    kind = expiry_kind(contract.expiry)
    listed_for = LISTED_FOR_DAYS[kind] if dte <= LISTED_FOR_DAYS[kind] else LEAPS_LISTED_FOR_DAYS
    age = max(listed_for - dte, 0)
    built = 1.0 - math.exp(-(age + 1) / BUILD_DAYS[kind])
    activity = 0.3 + 0.7 * math.exp(-dte / NEAR_EXPIRY_DAYS)
    # Positions were opened around the spots of the contract's life: the name's daily opens scatter
    # by vol x sqrt(5/252) around its reference price, and a longer life saw larger moves.
    width = math.sqrt((spec.annual_vol ** 2) * (5 / 252 + 0.5 * (dte + 3) / 365))
    x = math.log(contract.strike / spec.ref_price)
    otm = x if contract.right == "C" else -x
    index = contract.root in INDEX_ETFS
    favoured = (contract.right == "P") == index     # index puts, single-name calls
    tail_width = 2.0 * width * (1.5 if favoured and otm > 0 else 1.0)
    profile = (1.0 - TAIL_SHARE) * math.exp(-0.5 * (x / width) ** 2) + TAIL_SHARE * math.exp(-abs(x) / tail_width)
    side = (1.25 if favoured else 0.8) if index else (1.1 if favoured else 0.85)
    noise = math.exp(NOISE_SD * z - 0.5 * NOISE_SD ** 2)
    peak = NAME_PEAK.get(contract.root, 3_000.0)
    return peak * KIND_WEIGHT[kind] * built * activity * profile * side * roundness(contract.strike) * noise


def ordinary_net_opening(base: float, z: float) -> int:
    """The previous session's ordinary flow's net opening contracts on a contract of ``base``, ``z``
    the contract's standard normal draw of that day."""
    return int(round(base * (ORDINARY_NET_MEAN + ORDINARY_NET_SD * z)))


def net_openings(prints: Iterable[tuple[str, int, str]], today: dt.date) -> dict[str, int]:
    """Net opening contracts per contract from (contract, size, subtype) of labelled prints,
    leaving out contracts that expired before ``today``."""
    out: dict[str, int] = {}
    for contract, size, subtype in prints:
        effect = SUBTYPE_EFFECT.get(subtype, TRANSFER)
        if effect and chain.parse_occ(contract).expiry >= today:
            out[contract] = out.get(contract, 0) + effect * size
    return out


class OpenInterestBook(dict[str, int]):
    """Open interest at ``today``'s open by OCC symbol, computed on first use and kept for the day.

    ``openings`` holds the previous session's labelled net openings; ``carry=False`` leaves out
    both of the previous session's parts (the base alone).
    """

    def __init__(self, seed: int, today: dt.date, previous: dt.date, openings: Mapping[str, int],
                 *, carry: bool = True) -> None:
        super().__init__()
        self.seed = int(seed)
        self.today = today
        self.previous = previous
        self.openings = openings
        self.carry = carry
        # The keys of every contract's two draws share their seed, tag (and day) parts: folded once.
        self._base_key = rng.mix(self.seed, _TAG_BASE)
        self._ordinary_key = rng.mix(self.seed, _TAG_ORDINARY, previous.toordinal())

    def __missing__(self, contract: str) -> int:
        value = self[contract] = self.compute(contract)
        return value

    def compute(self, contract_symbol: str) -> int:
        contract = chain.parse_occ(contract_symbol)
        if contract.root not in UNIVERSE or contract.expiry < self.today \
                or listed_today(contract.root, contract.expiry, self.today, self.previous):
            return 0
        base = base_open_interest(self.today, contract, rng.keyed_normal(rng.extend(self._base_key, contract_symbol)))
        total = base
        if self.carry:
            total += ordinary_net_opening(base, rng.keyed_normal(rng.extend(self._ordinary_key, contract_symbol)))
            total += self.openings.get(contract_symbol, 0)
        return max(int(round(total)), 0)
