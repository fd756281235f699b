"""OptionsGenerator: the option tape of a symbol set, driven by the regime engine, step by step."""

from __future__ import annotations

import functools
import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from options_svc import arrivals, families, selection
from options_svc.bookkeeping import ScenarioRecord, neutral_profiles, session_day_at_or_after
from options_svc.coverage import CoverageTracker, boosted_weights
from options_svc.engine_port import Engine, default_engine
from options_svc.event_windows import EventWindows, event_minute
from options_svc.legs import Draft, ScenarioContext, listed_expiries
from options_svc.ordinary import DEFAULT_SCALE, ORDINARY_SUBTYPE, OrdinaryFlow
from options_svc.previous_session import OpenInterestTape
from options_svc.pricing import regime_name
from options_svc.scenario_rng import ScenarioRng
from synthmarket.domain import chain, rng
from synthmarket.domain.calendar import MS_PER_MINUTE, TradingDay
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.control_timeline import Control, ControlTimeline, control_at
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.profiles import FAMILY_IDS, NEUTRAL_NOISE
from synthmarket.domain.universe import resolve_symbols
from synthmarket.engine import nbbo_at  # options trade against the equity NBBO: the spot is its mid

_CACHE_LIMIT = 50_000
_TAG_SCENARIO = 0x5343454E
HEDGE_FAMILY = "hedge_reactive"
EVENT_FAMILY = "event_driven"
EVENT_BURST_MS = 60_000
# A hedge moved to another name skips names hedged this recently (a classifier would merge them).
HEDGE_REST_MS = 150_000
# Scenario weights move with the regime (minutes); reading them every 30 s is plenty.
WEIGHTS_MS = 30_000
assert arrivals.MOOD_MS % WEIGHTS_MS == 0   # a weights bucket never spans two mood periods


class OptionsGenerator:
    """Emits option prints for ``symbols`` from ``start_ts`` on, one [t0, t1) step at a time.

    Deterministic: the same control, symbols, start_ts and step boundaries give identical prints,
    and arrivals are keyed by time, not by call, so different step sizes give the same tape.
    Every print carries its contract's open interest at the session's open (``open_interest=False``:
    0, for the replay that works it out, which also passes ``noise_prints=False``: the neutral noise's
    scenarios count, undrafted, and the rest of the tape is the same).
    """

    def __init__(self, control: Control, symbols: Iterable[str], *, start_ts: int,
                 engine: Engine | None = None, ordinary_scale: float = DEFAULT_SCALE,
                 open_interest: bool = True, noise_prints: bool = True) -> None:
        self.symbols: tuple[str, ...] = resolve_symbols(symbols)
        if not self.symbols:
            raise ValueError("at least one symbol is required")
        self._engine = engine or default_engine()
        # The engine reads the whole timeline (levels carry across changes); everything the
        # generator reads itself comes from the control in force at the step (``_current``).
        self._control = control
        self._current = control_at(control, int(start_ts))
        self._pending_control: Control | None = None
        self._sym_keys = {s: rng.stable_str_key(s) for s in self.symbols}
        self._gen_until = int(start_ts)
        self._now = int(start_ts)
        self._hawkes = {s: arrivals.HawkesState(at_ms=int(start_ts)) for s in self.symbols}
        # Per symbol index, for the arrival loop: keys, Hawkes states and arrival rates of the
        # current weights bucket.
        self._arrival_keys = [self._sym_keys[s] for s in self.symbols]
        self._arrival_states = [self._hawkes[s] for s in self.symbols]
        self._rates: list[float] = []
        self._rates_bucket: int | None = None
        self._arrivals: list[tuple[int, int]] = []            # (ts, symbol index) heap
        self._queue: list[tuple[int, int, int, int, Draft, str, str, list[str] | None]] = []
        # Ordinary flow, most of the tape: ``ordinary_scale`` of a real day's trades (0: scenarios alone).
        self._ordinary = OrdinaryFlow(self.symbols, ordinary_scale, int(start_ts))
        self._ordinary_seq = 0
        self._coverage = CoverageTracker(self._current.coverage_window_minutes)
        self._labels: dict[str, tuple[str, str]] = {}
        self._scenarios: list[tuple[int, str, str, str, list[str]]] = []
        self._arrival_seq = 0
        self._session_cache: dict[int, Any] = {}
        # An order and its first print read the spot at the same ts: the second read is free.
        self._ul_cache: dict[tuple[str, int], Any] = {}
        self._weights_cache: dict[tuple[str, int], Any] = {}
        self._event_windows = EventWindows(self._listed)
        self._last_hedge_end: dict[str, int] = {}
        self._last_event_burst: dict[str, int] = {}
        self.boosts_applied = 0
        self.fallbacks: Counter[str] = Counter()   # families picked but not hostable at that moment
        self.scenario_counts: dict[str, int] = dict.fromkeys(FAMILY_IDS, 0)
        self._day: TradingDay | None = None     # the last session looked up (see _day_at_or_after)
        self._scenario_rng = ScenarioRng()
        self._neutral_profiles = neutral_profiles(self._current)
        self._open_interest = OpenInterestTape(type(self), self.symbols) if open_interest else None
        self._noise_prints = noise_prints

    # ------------------------------------------------------------------------------------------
    # public API

    @property
    def control(self) -> Control:
        return self._control

    def set_control(self, control: Control) -> None:
        """Use ``control`` (a control, or a timeline of them) from the next step on."""
        self._pending_control = control

    def step(self, t0_ms: int, t1_ms: int) -> list[OptionPrint]:
        """Every print with ts in [t0, t1), in ts order."""
        t0, t1 = int(t0_ms), int(t1_ms)
        if self._pending_control is not None:
            self._control = self._pending_control
            self._pending_control = None
            self._apply_control(control_at(self._control, t0))
        if t1 <= t0:
            return []
        if isinstance(self._control, ControlTimeline):
            # A change inside the step splits it there, so the tape does not depend on where
            # the steps fall.
            inside = [ts for ts, _ in self._control.changes if t0 < ts < t1]
            if inside:
                return self.step(t0, inside[0]) + self.step(inside[0], t1)
            current = self._control.at(t0)
            if current != self._current:
                self._apply_control(current)
        return self._step(t0, t1)

    def _step(self, t0: int, t1: int) -> list[OptionPrint]:
        self._generate_arrivals(t1)
        for ts, idx, draft in self._ordinary.until(t1, int(self._current.shared_seed), self._day_at_or_after,
                                                   self._session, self._context, self._spots):
            self._ordinary_seq += 1
            heapq.heappush(self._queue, (ts, idx, -1, self._ordinary_seq, draft, NEUTRAL_NOISE, ORDINARY_SUBTYPE, None))
        while self._arrivals and self._arrivals[0][0] < t1:
            ts, idx = heapq.heappop(self._arrivals)
            self._materialize(ts, idx)
        out: list[OptionPrint] = []
        last_key: tuple[int, int] | None = None
        n = 0
        while self._queue and self._queue[0][0] < t1:
            ts, idx, _seq, _leg, draft, family, subtype, ids = heapq.heappop(self._queue)
            if ts < t0:
                continue
            key = (ts, idx)
            n = n + 1 if key == last_key else 0
            last_key = key
            pid = f"o-{draft.underlying}-{ts}-{n}"
            if self._open_interest is not None:
                draft.open_interest = self._open_interest.book(ts, int(self._current.shared_seed))[draft.contract]
            out.append(draft.to_print(pid))
            self._labels[pid] = (family, subtype)
            if ids is not None:
                ids.append(pid)
        self._now = max(self._now, t1)
        return out

    def labels_for(self, print_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Hidden (family, subtype) of emitted prints; test-only output, never on a print."""
        return {pid: self._labels[pid] for pid in print_ids if pid in self._labels}

    def pop_labels(self) -> dict[str, tuple[str, str]]:
        labels, self._labels = self._labels, {}
        return labels

    def pop_scenarios(self) -> list[ScenarioRecord]:
        """Scenarios materialised so far (with the ids of their prints emitted so far)."""
        out = [ScenarioRecord(ts, sym, fam, sub, tuple(ids)) for ts, sym, fam, sub, ids in self._scenarios]
        self._scenarios = []
        return out

    def hit_counts(self) -> dict[str, int]:
        """Scenarios per public profile emitted within the rolling coverage window."""
        return self._coverage.hits(self._now)

    def scenario_context(self, symbol: str, ts: int) -> ScenarioContext:
        """The context a scenario on ``symbol`` at ``ts`` would see (for forced scenarios in tests)."""
        return self._context(symbol, int(ts), 0)

    # ------------------------------------------------------------------------------------------
    # engine reads, cached

    def _apply_control(self, control: SyntheticControlState) -> None:
        """Make ``control`` the one in force for the generator's own reads."""
        self._current = control
        self._coverage.set_window(control.coverage_window_minutes)
        self._neutral_profiles = neutral_profiles(self._current)
        self._session_cache.clear()
        self._ul_cache.clear()
        self._weights_cache.clear()
        self._rates_bucket = None
        self._event_windows.clear()

    def _session(self, ts: int) -> Any:
        sec = ts - ts % 1000
        state = self._session_cache.get(sec)
        if state is None:
            if len(self._session_cache) > _CACHE_LIMIT:
                self._session_cache.clear()
            state = self._engine.get_session_state(sec, self._control, self.symbols)
            self._session_cache[sec] = state
        return state

    def _weights_and_lift(self, symbol: str, ts: int) -> tuple[Any, float]:
        """Scenario weights (read every WEIGHTS_MS) and the profile-weight lift of the arrival rate."""
        bucket = ts - ts % WEIGHTS_MS
        key = (symbol, bucket)
        hit = self._weights_cache.get(key)
        if hit is None:
            if len(self._weights_cache) > _CACHE_LIMIT:
                self._weights_cache.clear()
            w = self._engine.get_scenario_weights(symbol, bucket, self._control, self._session(bucket),
                                                  self.symbols)
            # Neutral profile weights never lift the rate (the usual case): skip the sums.
            lift = 1.0 if self._neutral_profiles else \
                arrivals.profile_rate_multiplier(w.weights, self._current.profile_weights)
            hit = (w, lift)
            self._weights_cache[key] = hit
        return hit

    def _underlying(self, symbol: str, ts: int) -> Any:
        hit = self._ul_cache.get((symbol, ts))
        if hit is None:
            if len(self._ul_cache) > _CACHE_LIMIT:
                self._ul_cache.clear()
            hit = self._ul_cache[(symbol, ts)] = self._read_underlying(symbol, ts)
        return hit

    def _spots(self, symbol: str, times: list[int]) -> list[float]:
        """The spot (equity NBBO mid) at each of ``times``: ``_underlying(symbol, ts).price`` in one pass."""
        return nbbo_at.mids_at(symbol, times, self._control, getattr(self._engine, "universe", self.symbols))

    def _read_underlying(self, symbol: str, ts: int) -> Any:
        # The engine reads only focus and event membership off the session state, and those move
        # on session-minute boundaries: the state at the minute's start serves every ts in it,
        # which saves a session read for most prints (each print has its own second).
        day = self._day
        if day is not None and day.open_ms <= ts < day.close_ms:
            session = self._session(ts - (ts - day.open_ms) % MS_PER_MINUTE)
        else:
            session = self._session(ts)
        return nbbo_at.at_equity_nbbo(self._engine.get_underlying_state(symbol, ts, self._control, session, self.symbols),
                                   self._control, getattr(self._engine, "universe", self.symbols))

    def _event_info(self, symbol: str, ts: int, session: Any) -> tuple[bool | None, int]:
        """(has the symbol's event happened, gap sign), read off the public event calendar; the
        gap is the price jump at the event minute."""
        if symbol not in session.event_symbols:
            return None, 0
        td = self._day_at_or_after(ts)
        minute = (ts - td.open_ms) // MS_PER_MINUTE
        window = self._event_windows.around(symbol, td, minute)
        if window is None:
            return None, 0
        at_minute = event_minute(*window)
        if minute < at_minute:
            return False, 0
        at = td.open_ms + at_minute * MS_PER_MINUTE
        before = self._underlying(symbol, max(at - 1_000, td.open_ms)).price
        after = self._underlying(symbol, min(at + 30_000, td.close_ms - 1)).price
        return True, (1 if after >= before else -1)

    def _listed(self, symbol: str, open_ms: int, minute: int) -> bool:
        return symbol in self._session(open_ms + minute * MS_PER_MINUTE).event_symbols

    def _day_at_or_after(self, ts: int) -> TradingDay:
        """session_day_at_or_after, remembering the last session: nearly every ts falls inside it."""
        day = self._day
        if day is None or not day.open_ms <= ts < day.close_ms:
            day = self._day = session_day_at_or_after(ts)
        return day

    # ------------------------------------------------------------------------------------------
    # arrivals

    def _generate_arrivals(self, t1: int) -> None:
        seed = int(self._current.shared_seed)
        while self._gen_until < t1:
            start = self._gen_until
            td = self._day_at_or_after(start)
            if start < td.open_ms:
                # Overnight: nothing trades; excitation does not survive the close.
                nxt = min(td.open_ms, t1)
                for st in self._hawkes.values():
                    st.excitation, st.at_ms = 0.0, nxt
                self._gen_until = nxt
                continue
            bucket = start // arrivals.BUCKET_MS
            end = min((bucket + 1) * arrivals.BUCKET_MS, td.close_ms)
            session = self._session(start)
            regime = regime_name(session.regime)
            eta = arrivals.branching_ratio(regime)
            # Weights and mood hold for a whole weights bucket (the mood period is a multiple of
            # it): work out every symbol's rate once per weights bucket.
            weights_bucket = start - start % WEIGHTS_MS
            if weights_bucket != self._rates_bucket:
                self._rates = []
                for sym, sk in zip(self.symbols, self._arrival_keys):
                    sw, lift = self._weights_and_lift(sym, start)
                    self._rates.append(sw.intensity * arrivals.mood(seed, sk, start) * lift)
                self._rates_bucket = weights_bucket
            heap = self._arrivals
            for idx, (sk, hawkes, rate) in enumerate(zip(self._arrival_keys, self._arrival_states, self._rates)):
                for ts in arrivals.bucket_arrivals(seed, sk, bucket, start, end, rate, eta, hawkes):
                    heapq.heappush(heap, (ts, idx))
            self._gen_until = end

    # ------------------------------------------------------------------------------------------
    # scenarios

    def _context(self, symbol: str, ts: int, seq: int) -> ScenarioContext:
        session = self._session(ts)
        passed, gap = self._event_info(symbol, ts, session)
        td = self._day_at_or_after(ts)
        return ScenarioContext(symbol=symbol, ts=ts, session=session, ul=self._underlying(symbol, ts),
                               ul_at=functools.partial(self._underlying, symbol), close_ms=td.close_ms,
                               scenario_key=str(seq), event_passed=passed, gap_sign=gap)

    def _materialize(self, ts: int, idx: int) -> None:
        symbol = self.symbols[idx]
        seq = self._arrival_seq
        self._arrival_seq += 1
        g = self._scenario_rng.keyed(int(self._current.shared_seed), _TAG_SCENARIO, self._sym_keys[symbol], ts, seq)
        base = self._weights_and_lift(symbol, ts)[0].weights
        allowed = selection.allowed_families(symbol in self._session(ts).event_symbols)
        weights = {f: (base.get(f, 0.0) if f in allowed else 0.0) for f in FAMILY_IDS}
        weights, applied = boosted_weights(weights, self._coverage.state(ts), self._current,
                                           self._engine.get_coverage_boost)
        self.boosts_applied += applied
        drafts, family, subtype, ctx = self._draw(symbol, ts, seq, g, weights)
        if drafts is None:
            return
        symbol = ctx.symbol if ctx is not None else symbol
        idx = self.symbols.index(symbol)
        self._coverage.record(ts, family)
        self.scenario_counts[family] += 1
        ids: list[str] = []
        self._scenarios.append((ts, symbol, family, subtype, ids))
        if family == HEDGE_FAMILY:
            self._last_hedge_end[symbol] = max(d.ts for d in drafts)
        elif family == EVENT_FAMILY and subtype != "earnings_vol_probe":
            self._last_event_burst[symbol] = max(d.ts for d in drafts)
        for leg, d in enumerate(sorted(drafts, key=lambda d: d.ts)):
            if ctx is not None and ctx.in_session(d.ts):
                heapq.heappush(self._queue, (d.ts, idx, seq, leg, d, family, subtype, ids))

    def _draw(self, symbol: str, ts: int, seq: int, g: Any, weights: Mapping[str, float]
              ) -> tuple[list[Draft] | None, str, str, ScenarioContext | None]:
        """Pick a family and subtype; fall back to others when the market cannot host the pick."""
        fam_w = dict(weights)
        ctx: ScenarioContext | None = None
        while True:
            family = selection.pick(fam_w, float(g.random()))
            if family is None:
                return None, "", "", ctx
            if family == NEUTRAL_NOISE and not self._noise_prints:
                # It always hosts, and moves no open interest: counted, with neither prints nor a context.
                return [], family, selection.pick(selection.noise_weights(self._session(ts)), float(g.random())) or "", None
            ctx = ctx or self._context(symbol, ts, seq)
            host: ScenarioContext | None = ctx
            if family == HEDGE_FAMILY and (not selection.can_host(family, ctx) or self._hedging(ctx.symbol, ctx.ts)):
                host = self._hedge_host(ctx, g) or (ctx if selection.can_host(family, ctx) else None)
            if host is not None:
                sub_w = selection.subtype_weights(family, host)
                if family == EVENT_FAMILY and ctx.ts - self._last_event_burst.get(ctx.symbol, -EVENT_BURST_MS) < EVENT_BURST_MS:
                    # A directional burst is still running on this name: others buy the vol instead.
                    sub_w["earnings_vol_probe"] *= 4.0
                while True:
                    subtype = selection.pick(sub_w, float(g.random()))
                    if subtype is None:
                        break
                    drafts = families.build(subtype, host, g)
                    if drafts:
                        return drafts, family, subtype, host
                    sub_w[subtype] = 0.0
            self.fallbacks[family] += 1
            fam_w[family] = 0.0

    def _hedging(self, symbol: str, ts: int) -> bool:
        """Whether a hedge scenario on ``symbol`` ended within HEDGE_REST_MS (dealers spread out)."""
        return ts - self._last_hedge_end.get(symbol, -HEDGE_REST_MS) < HEDGE_REST_MS

    def _hedge_host(self, ctx: ScenarioContext, g: Any) -> ScenarioContext | None:
        """Another name whose spot sits on a gamma-heavy strike: dealer hedging goes where gamma is."""
        order = [int(i) for i in g.permutation(len(self.symbols))]
        for i in order:
            sym = self.symbols[i]
            if sym == ctx.symbol or sym in ctx.session.event_symbols:
                continue
            if self._hedging(sym, ctx.ts) or not listed_expiries(sym, ctx.today, 0, chain.FRONT_EXPIRY_MAX_DTE):
                continue
            spot = self._underlying(sym, ctx.ts).price
            if min(abs(chain.gamma_strike_nearest(spot) - spot), spot - chain.gamma_strike_below(spot)) > \
                    families.HEDGE_START_OTM * spot:
                continue        # cheap pre-check before building a full context
            other = self._context(sym, ctx.ts, int(ctx.scenario_key))
            if selection.can_host(HEDGE_FAMILY, other):
                return other
        return None
