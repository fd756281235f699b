"""Per-symbol day arrays: 1-second price path (Brownian bridge inside minutes), spreads, vol, IV."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.catalysts import EARNINGS, catalysts_between, next_trading_date
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import UNIVERSE, SymbolSpec
from synthmarket.engine.events import (
    IN_PLAY_DAYS,
    MACRO_KINDS,
    EventSlot,
    gap_fraction,
    pending_reaction,
    session_minute,
    sessions_until,
)
from synthmarket.engine.focus import UniverseDay, symbol_events, universe_day
from synthmarket.engine.market import (
    MARKET_ANNUAL_VOL,
    MINUTES_PER_YEAR,
    REGIMES,
    MarketDay,
    ar1,
    smooth,
    student_t,
    u_shape,
)
from synthmarket.engine.schedule import IDX

SECONDS = SESSION_MINUTES * 60
SPREAD_Z_SCALE = 0.35      # one "z" = spread 35% away from the name's typical spread
SPREAD_NORM = 1.25         # makes calm midday conditions quote the typical spread

_RC, _ER = IDX[Regime.RETAIL_CHASE], IDX[Regime.EVENT_RAMP]

REGIME_SPREAD = np.array([{Regime.TREND_UP: 1.05, Regime.TREND_DOWN: 1.1, Regime.MEAN_REVERT: 0.95,
                           Regime.RETAIL_CHASE: 1.3, Regime.EVENT_RAMP: 1.15, Regime.DEALER_GAMMA: 1.0,
                           Regime.ARB_CALM: 0.85}[r] for r in REGIMES])
REGIME_SKEW = np.array([{Regime.TREND_UP: 0.9, Regime.TREND_DOWN: 1.45, Regime.MEAN_REVERT: 1.0,
                         Regime.RETAIL_CHASE: 0.7, Regime.EVENT_RAMP: 1.1, Regime.DEALER_GAMMA: 1.1,
                         Regime.ARB_CALM: 0.95}[r] for r in REGIMES])
# Vol points added at execution: aggressive, crowded tape pays up; calm arbitrage tape does not.
REGIME_IV_SHOCK = np.array([{Regime.TREND_UP: 0.004, Regime.TREND_DOWN: 0.008, Regime.MEAN_REVERT: 0.002,
                             Regime.RETAIL_CHASE: 0.02, Regime.EVENT_RAMP: 0.015, Regime.DEALER_GAMMA: 0.006,
                             Regime.ARB_CALM: 0.0}[r] for r in REGIMES])
# Drift of a name in units of its own per-minute sigma.
# Implied volatility: relative change per unit of log return (against the price: index options
# about -5, so SPY -1% lifts its IV ~5%, as SPX and the VIX move), per-minute own shocks, reversion
# to the level with a ~90-minute half-life, and a slight lean by regime.
IV_LEVERAGE_INDEX = 5.0
IV_LEVERAGE_SINGLE = 3.0
IV_VOL_OF_VOL = 0.0025
IV_REVERSION = math.exp(-math.log(2.0) / 90.0)
IV_START_SD = 0.03
IV_DAY_MARKET_SD = 0.18     # the day's level: market-wide ...
IV_DAY_NAME_SD = 0.08       # ... and the name's own
IV_CEILING = 0.99
REGIME_IV = np.array([{Regime.TREND_UP: 0.97, Regime.TREND_DOWN: 1.06, Regime.MEAN_REVERT: 0.98,
                       Regime.RETAIL_CHASE: 1.05, Regime.EVENT_RAMP: 1.04, Regime.DEALER_GAMMA: 0.99,
                       Regime.ARB_CALM: 0.95}[r] for r in REGIMES])
# The catalyst calendar in the near-term ATM IV (the expiry spanning the release carries the implied
# move): a name reporting next session sits this much above its level, less further out, climbing
# into the release; the session that trades the news opens crushed below the level and recovers part
# of the way. Index ETFs lift modestly into a macro release and give it back once it is out.
EARNINGS_IV_LIFT = 0.14
EARNINGS_IV_DECAY_SESSIONS = 1.5
EARNINGS_CRUSH = 0.84
MACRO_IV_LIFT = 0.05
MACRO_IV_AFTER = 0.985
CHASE_DRIFT_SIGMA = 0.12
RAMP_DRIFT_SIGMA = 0.08
FOLLOW_DRIFT_SIGMA = 0.06
IDIO_LOGVOL_SD = 0.35


@dataclass(frozen=True)
class SymbolPath:
    symbol: str
    open_ms: int
    typical_spread_bps: float
    price_sec: np.ndarray      # float[SECONDS + 2]: mid at each second mark (last entry repeated)
    spread_sec: np.ndarray     # float[SECONDS + 2]: quoted spread in bps, held for one second
    volatility: np.ndarray     # float[390]: annualised instantaneous volatility
    drift_bps: np.ndarray      # float[390]
    atm_iv: np.ndarray         # float[390]
    skew: np.ndarray           # float[390]
    iv_shock: np.ndarray       # float[390]
    is_focus: np.ndarray       # bool[390]
    is_event: np.ndarray       # bool[390]


def _membership(uday: UniverseDay, symbol: str) -> tuple[np.ndarray, np.ndarray]:
    day = uday.day
    focus_run = np.array([symbol in f for f in uday.focus_by_run], dtype=bool)
    is_focus = focus_run[day.run_of]
    is_event = np.array([symbol in e for e in uday.event_by_minute], dtype=bool)
    return is_focus, is_event


def _sigmas(day: MarketDay, spec: SymbolSpec, slots: tuple[EventSlot, ...],
            gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute sigma (log units) of the idiosyncratic part and of the whole name."""
    minutes = np.arange(SESSION_MINUTES, dtype=float)
    market_sig = spec.beta * day.market_sigma
    idio_annual = math.sqrt(max(spec.annual_vol**2 - (spec.beta * MARKET_ANNUAL_VOL) ** 2,
                                (0.25 * spec.annual_vol) ** 2))
    # The name's own clustering on top of the market's.
    g = ar1(IDIO_LOGVOL_SD * math.sqrt(1 - 0.97**2) * gen.standard_normal(SESSION_MINUTES), 0.97,
            IDIO_LOGVOL_SD * float(gen.standard_normal()))
    event_vol = np.ones(SESSION_MINUTES)
    for slot in slots:
        since = minutes - slot.minute
        event_vol *= np.where((since >= 0) & (since < 45), 1.0 + 0.6 * np.exp(-np.maximum(since, 0) / 10.0), 1.0)
        # Positioning and leaks before the number: the name already trades nervously.
        event_vol *= np.where((since >= -30) & (since < 0), 1.6, 1.0)
    idio_sig = (idio_annual / math.sqrt(MINUTES_PER_YEAR)) * day.vol_level[:SESSION_MINUTES] \
        * np.exp(g - 0.5 * IDIO_LOGVOL_SD**2) * event_vol
    return idio_sig, np.sqrt(market_sig**2 + idio_sig**2)


def _idio_drift(day: MarketDay, is_focus: np.ndarray, slots: tuple[EventSlot, ...],
                total_sig: np.ndarray) -> np.ndarray:
    """Per-minute log drift of the name beyond beta x market: chases rise, event names ramp and follow through."""
    minutes = np.arange(SESSION_MINUTES, dtype=float)
    reg = day.regime_idx
    strength = np.array([run.trend_strength for run in day.runs])[day.run_of]
    drift = np.where((reg == _RC) & is_focus, CHASE_DRIFT_SIGMA * strength, 0.0)
    for slot in slots:
        ahead = slot.minute - minutes
        drift += np.where((reg == _ER) & (ahead > 0) & (ahead <= 60), slot.gap_sign * RAMP_DRIFT_SIGMA, 0.0)
        drift += np.where((ahead <= 0) & (-ahead < slot.after_minutes), slot.gap_sign * FOLLOW_DRIFT_SIGMA, 0.0)
    return drift * total_sig


def _minute_levels(day: MarketDay, spec: SymbolSpec, log_open: float, idio_drift: np.ndarray,
                   idio_sig: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Log mid at each minute mark: beta x market factor + idiosyncratic part pulled to its run anchor
    (and giving back part of the previous minute's shock, as the market factor does)."""
    levels = [log_open]
    run_starts = {run.start for run in day.runs}
    idio = anchor = shock = 0.0
    level = log_open
    beta = spec.beta
    market_ret = np.diff(day.market_log)
    for m, (d, sg, e, k, rev, mk) in enumerate(zip(idio_drift.tolist(), idio_sig.tolist(), z.tolist(),
                                                     day.kappa.tolist(), day.reversal.tolist(),
                                                     market_ret.tolist())):
        if m in run_starts:
            anchor = idio
        step = d + sg * e - k * (idio - anchor) - rev * shock
        shock = sg * e
        idio += step
        level = level + beta * mk + step
        levels.append(level)
    return np.array(levels)


def _second_levels(log_min: np.ndarray, total_sig: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Log mid at each second mark: a Brownian bridge between consecutive minute marks."""
    w = np.zeros((SESSION_MINUTES, 61))
    w[:, 1:] = np.cumsum(gen.standard_normal((SESSION_MINUTES, 60)), axis=1)
    frac = np.arange(61) / 60.0
    bridge = (w - frac * w[:, 60:61])[:, :60] * (total_sig / math.sqrt(60.0))[:, None]
    log_sec = np.empty(SECONDS + 2)
    log_sec[:SECONDS] = (log_min[:-1, None] + frac[None, :60] * np.diff(log_min)[:, None] + bridge).ravel()
    log_sec[SECONDS] = log_sec[SECONDS + 1] = log_min[-1]
    return log_sec


def _spreads(day: MarketDay, spec: SymbolSpec, slots: tuple[EventSlot, ...], is_focus: np.ndarray,
             gen: np.random.Generator) -> np.ndarray:
    """Quoted spread (bps) per second: typical x U-shape x regime x preset, wider when thin or dirty."""
    grid = np.arange(SESSION_MINUTES + 1, dtype=float)
    reg_ext = np.append(day.regime_idx, day.regime_idx[-1])
    u_spread = 1.0 + 1.5 * np.exp(-grid / 15.0) + 0.3 * np.exp(-(SESSION_MINUTES - grid) / 20.0)
    spread_min = (spec.typical_spread_bps * u_spread * smooth(REGIME_SPREAD[reg_ext], 0.3)
                  * day.spec.spread_mult * (1.0 + 1.2 * (1.0 - day.liquidity))
                  * (1.0 + 0.8 * (1.0 - day.cleanliness)) / SPREAD_NORM)
    for slot in slots:
        spread_min *= 1.0 + 0.8 * np.exp(-np.abs(grid - slot.minute) / 4.0)
    spread_min *= np.where((reg_ext == _RC) & np.append(is_focus, is_focus[-1]), 1.2, 1.0)
    base = np.interp(np.arange(SECONDS + 2) / 60.0, grid, spread_min)
    # Quotes flicker: a 15-second moving average of white noise, about +-12%.
    noise = np.cumsum(gen.standard_normal(SECONDS + 2 + 15))
    return base * np.exp(0.12 * (noise[15:] - noise[:-15]) / math.sqrt(15.0))


def _option_fields(day: MarketDay, spec: SymbolSpec, slots: tuple[EventSlot, ...], is_focus: np.ndarray,
                   is_event: np.ndarray, log_min: np.ndarray, gen: np.random.Generator,
                   iv_day_level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ATM implied vol, put-skew slope and execution IV shock per minute.

    The level is the name's own volatility, moved day to day by a market-wide and a name's own
    draw (``iv_day_level``; VIX-like levels from the low teens to the twenties for SPY), a little
    higher on a volatile preset. Intraday it moves by a point or two on an ordinary day: it rises
    when the price falls (the leverage effect), wanders by its own small shocks and reverts to the
    level; around a scheduled event it carries the event premium, then crushes.
    """
    minutes = np.arange(SESSION_MINUTES, dtype=float)
    reg = day.regime_idx
    iv_factor = np.ones(SESSION_MINUTES)
    before_event = np.zeros(SESSION_MINUTES, dtype=bool)
    for slot in slots:
        ahead = slot.minute - minutes
        iv_factor *= np.where(ahead > 0, 1.0 + 0.45 * np.exp(-ahead / 150.0),
                              0.8 + 0.15 * (1.0 - np.exp(ahead / 90.0)))
        before_event |= (ahead > 0) & (ahead <= 90)
    vol_level = day.vol_level[:SESSION_MINUTES]
    leverage = IV_LEVERAGE_INDEX if spec.sector == "index_etf" else IV_LEVERAGE_SINGLE
    returns = np.diff(log_min)
    shocks = IV_VOL_OF_VOL * gen.standard_normal(SESSION_MINUTES) - leverage * returns
    wander = ar1(shocks, IV_REVERSION, IV_START_SD * float(gen.standard_normal()))
    # Options price a little of the regime and of the open's seasonality, not the minute's noise.
    regime_tilt = smooth(REGIME_IV[reg], 0.02)
    level = spec.annual_vol * math.sqrt(day.spec.volatility_mult) * iv_day_level
    # A triple-digit at-the-money IV is a crisis or a meme name, not a synthetic demo day.
    atm_iv = np.minimum(level * np.exp(wander) * regime_tilt * u_shape(minutes) ** 0.05 * iv_factor, IV_CEILING)
    base_skew = -1.0 if spec.sector == "index_etf" else -0.6
    skew = np.minimum(base_skew * smooth(REGIME_SKEW[reg], 0.3) * (1.0 + 0.25 * (vol_level - 1.0)), -0.05)
    shock = REGIME_IV_SHOCK[reg] * np.where((reg == _RC) & is_focus, 2.0, 1.0)
    shock = shock * np.where((reg == _ER) & is_event & before_event, 2.5, 1.0)
    shock = shock * (1.0 + (1.0 - day.cleanliness[:SESSION_MINUTES]))
    return atm_iv, skew, shock


def calendar_iv_factor(date: dt.date, spec: SymbolSpec) -> np.ndarray:
    """Per-minute multiplier of a name's ATM IV from the catalyst calendar (1 on a day without one).

    Seed- and preset-independent, like the calendar: a preset change never moves it.
    """
    frac = np.arange(SESSION_MINUTES, dtype=float) / SESSION_MINUTES
    factor = np.ones(SESSION_MINUTES)
    symbol = spec.symbol
    if spec.sector != "index_etf":
        reacts = pending_reaction(symbol, date)
        if reacts is not None and (n := sessions_until(date, reacts)) <= IN_PLAY_DAYS + 2:
            now = EARNINGS_IV_LIFT * math.exp(-(n - 1) / EARNINGS_IV_DECAY_SESSIONS)
            # By the close the spanning expiry is a session nearer: the next session's lift, and into a
            # release tonight a little more still.
            close = EARNINGS_IV_LIFT * (math.exp(-(n - 2) / EARNINGS_IV_DECAY_SESSIONS) if n >= 2 else 1.25)
            factor *= 1.0 + now + (close - now) * frac
        recent = catalysts_between(date - dt.timedelta(days=7), date, (symbol,))
        if any(c.kind == EARNINGS and c.reaction_date == date for c in recent):
            factor *= EARNINGS_CRUSH + (1.0 - EARNINGS_CRUSH) * 0.4 * (1.0 - np.exp(-frac * SESSION_MINUTES / 120.0))
        return factor
    minutes = frac * SESSION_MINUTES
    for c in catalysts_between(date, next_trading_date(date), (symbol,)):
        if c.kind not in MACRO_KINDS:
            continue
        release = session_minute(c.when)
        if c.date > date and release == 0:
            factor *= 1.0 + MACRO_IV_LIFT * frac          # tomorrow's 08:30 number: bid into the close
        elif c.date == date and release > 0:
            lift = 1.0 + MACRO_IV_LIFT * (0.6 + 0.4 * np.minimum(minutes / release, 1.0))
            after = MACRO_IV_AFTER + (1.0 + MACRO_IV_LIFT - MACRO_IV_AFTER) * np.exp(-(minutes - release) / 5.0)
            factor *= np.where(minutes < release, lift, after)
    return factor


@lru_cache(maxsize=96)
def symbol_path(ordinal: int, seed: int, preset_id: SyntheticControlPresetId, symbols: tuple[str, ...],
                symbol: str, open_ms: int) -> SymbolPath:
    """Everything about one name for one day, computed once (a few milliseconds)."""
    uday = universe_day(ordinal, seed, preset_id, symbols)
    day = uday.day
    spec = UNIVERSE[symbol]
    is_focus, is_event = _membership(uday, symbol)
    slots = symbol_events(uday, symbol)

    gen = rng.generator(seed, ordinal, symbol, "idio")
    idio_sig, total_sig = _sigmas(day, spec, slots, gen)
    idio_drift = _idio_drift(day, is_focus, slots, total_sig)
    z = student_t(gen, SESSION_MINUTES)
    open_draw = float(rng.generator(seed, ordinal, symbol, "open").standard_normal())
    log_open = math.log(spec.ref_price) + spec.annual_vol * math.sqrt(5 / 252) * open_draw
    log_min = _minute_levels(day, spec, log_open, idio_drift, idio_sig, z)
    log_sec = _second_levels(log_min, total_sig, rng.generator(seed, ordinal, symbol, "bridge"))
    # Scheduled events gap at their exact time.
    for slot in slots:
        jump = gap_fraction(slot, spec.annual_vol)
        log_sec[slot.minute * 60:] += jump
    iv_day = math.exp(IV_DAY_MARKET_SD * float(rng.generator(seed, ordinal, "iv-day").standard_normal())
                      + IV_DAY_NAME_SD * float(rng.generator(seed, ordinal, symbol, "iv-day").standard_normal()))
    iv_day = min(max(iv_day, 0.7), 1.3)
    atm_iv, skew, shock = _option_fields(day, spec, slots, is_focus, is_event, log_min,
                                         rng.generator(seed, ordinal, symbol, "iv"), iv_day)
    atm_iv = np.minimum(atm_iv * calendar_iv_factor(dt.date.fromordinal(ordinal), spec), IV_CEILING)

    return SymbolPath(
        symbol=symbol, open_ms=open_ms, typical_spread_bps=spec.typical_spread_bps,
        price_sec=np.exp(log_sec),
        spread_sec=_spreads(day, spec, slots, is_focus, rng.generator(seed, ordinal, symbol, "spread")),
        volatility=total_sig * math.sqrt(MINUTES_PER_YEAR),
        drift_bps=(spec.beta * day.market_drift + idio_drift) * 1e4,
        atm_iv=atm_iv, skew=skew, iv_shock=shock, is_focus=is_focus, is_event=is_event,
    )
