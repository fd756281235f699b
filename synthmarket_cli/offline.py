"""The offline session loop: engine, generators and classifier on a virtual clock (no I/O)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from equities_svc.generator import EquitiesGenerator
from flow_svc.classifier import SmartMoneyClassifier
from options_svc.generator import OptionsGenerator
from options_svc.known_control import KnownControlSteps, known_at
from options_svc.ordinary import DEFAULT_SCALE
from synthmarket.domain.calendar import MS_PER_MINUTE, TradingDay
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.session import SessionState
from synthmarket.engine.regime_engine import get_session_state

# The tape does not depend on where steps fall (each generator and the classifier are built so); a
# step of a session minute, where the regime moves, keeps the loop's own cost out of the way.
STEP_MS = MS_PER_MINUTE
# A regime line is written when the state changes and at least this often.
REGIME_HEARTBEAT_MS = 60_000
# A replay builds the equity tape a quarter of an hour at a time: the same records as the live service's
# short blocks (draws are keyed per minute) for far fewer array passes, in bounded memory.
EQUITY_BLOCK_MINUTES = 15
_SYMBOL_OF_ROW = itemgetter(2)


@dataclass(frozen=True)
class SimulationSpec:
    control: Control            # a control, or the session's timeline of them
    day: TradingDay
    start_ms: int
    end_ms: int
    symbols: tuple[str, ...]
    with_labels: bool = False
    # Flow-only runs (options + classifier) skip the equities tape; used where only events matter.
    with_equities: bool = True
    # Hand the equity tape over as JSON lines in ``StepOutput.equity_text`` instead of records in
    # ``equities``: for callers that only write it out, building the objects is wasted work.
    equity_lines: bool = False
    # The options tape's ordinary flow, as a share of a real day (None: the generator's default).
    # Runs that judge only smart-money events may leave it out: the classifier never reads it.
    ordinary_scale: float | None = None
    # Open interest on every print needs the previous session replayed (seconds of CPU per seed and
    # day); runs that judge only events' profiles and timing may leave it out (the classifier reads
    # it into the event, never into a decision).
    open_interest: bool = True


@dataclass
class StepOutput:
    """Everything the session produced in one virtual-clock step, each list in ts order."""

    t0: int
    t1: int
    regime: list[dict] = field(default_factory=list)
    options: list[OptionPrint] = field(default_factory=list)
    equities: list[EquityTrade | EquityQuote] = field(default_factory=list)
    # Only with SimulationSpec.equity_lines: every equity record's JSON line, end to end, and how many.
    equity_text: str = ""
    equity_count: int = 0
    events: list[SmartMoneyEvent] = field(default_factory=list)
    labels: list[tuple[str, str, str]] = field(default_factory=list)


def regime_record(state: SessionState) -> dict:
    return {
        "ts": state.ts,
        "session_phase": state.session_phase.value,
        "regime": state.regime.value,
        "volatility_level": round(state.volatility_level, 6),
        "liquidity_level": round(state.liquidity_level, 6),
        "quote_cleanliness": round(state.quote_cleanliness, 6),
        "focus_symbols": list(state.focus_symbols),
        "event_symbols": list(state.event_symbols),
    }


def _regime_key(state: SessionState) -> tuple:
    return (state.session_phase, state.regime, state.focus_symbols, state.event_symbols)


def run_session(spec: SimulationSpec, step_ms: int = STEP_MS) -> Iterator[StepOutput]:
    """Yield the session step by step; the same spec always yields the same records."""
    known = known_at(spec.control, spec.start_ms)
    generator = OptionsGenerator(known, spec.symbols, start_ts=spec.start_ms, open_interest=spec.open_interest,
                                 ordinary_scale=DEFAULT_SCALE if spec.ordinary_scale is None else spec.ordinary_scale)
    # Each scenario drawn under the changes up to its start, as every live replica draws it.
    options = KnownControlSteps(generator, spec.control, spec.start_ms)
    equities = (
        EquitiesGenerator(spec.control, spec.symbols, start_ts=spec.start_ms, block_minutes=EQUITY_BLOCK_MINUTES,
                          with_lines=spec.equity_lines)
        if spec.with_equities else None
    )
    classifier = SmartMoneyClassifier()
    last_key: tuple | None = None
    last_regime_ts = -REGIME_HEARTBEAT_MS
    last_minute: int | None = None

    t0 = spec.start_ms
    while t0 < spec.end_ms:
        t1 = min(t0 + step_ms - (t0 - spec.day.open_ms) % step_ms, spec.end_ms)    # on the session's grid
        out = StepOutput(t0, t1)
        # Phase, regime, focus and event symbols move on session-minute boundaries only, so
        # within a minute the state is needed just for a heartbeat line.
        minute = (t0 - spec.day.open_ms) // MS_PER_MINUTE
        if minute != last_minute or t0 - last_regime_ts >= REGIME_HEARTBEAT_MS:
            last_minute = minute
            state = get_session_state(t0, spec.control, symbols=spec.symbols)
            key = _regime_key(state)
            if key != last_key or t0 - last_regime_ts >= REGIME_HEARTBEAT_MS:
                out.regime.append(regime_record(state))
                last_key, last_regime_ts = key, t0
            classifier.set_event_symbols(t0, state.event_symbols)

        out.options = options.step(t0, t1)
        # The classifier keeps each symbol's last trade only, and reads it after the whole step's
        # tape: handing it just those gives it the same state for a fraction of the calls.
        if equities is not None and spec.equity_lines:
            tape = equities.step_tape(t0, t1)
            out.equity_text, out.equity_count = tape.text, tape.n_records
            # A trade row's third field is its symbol.
            for row in dict(zip(map(_SYMBOL_OF_ROW, tape.trades), tape.trades)).values():
                classifier.observe_equity(EquityTrade(*row))
        elif equities is not None:
            out.equities = equities.step(t0, t1)
            for trade in {r.symbol: r for r in out.equities if isinstance(r, EquityTrade)}.values():
                classifier.observe_equity(trade)
        for option_print in out.options:
            out.events.extend(classifier.observe(option_print))
        out.events.extend(classifier.flush(t1))
        labels = generator.pop_labels()
        if spec.with_labels:        # in tape order, like the prints: where steps fall changes nothing
            out.labels = [(p.id, *labels[p.id]) for p in out.options]
        yield out
        t0 = t1

    # Close clusters still open at the end of the run; they are decided at the run's end.
    tail = StepOutput(spec.end_ms, spec.end_ms)
    tail.events = list(classifier.flush(spec.end_ms + 3_600_000))
    if tail.events:
        yield tail
