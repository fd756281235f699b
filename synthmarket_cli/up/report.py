"""What ``synthmarket up`` prints: each child's URLs as it comes up and the live session line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from synthmarket.domain.calendar import EXCHANGE_TZ
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.session import SessionState
from synthmarket_cli.up.children import Child

# Between changes worth a line of their own, the session line is printed again this often
# (seconds of wall time, whatever the session clock's speed).
REPRINT_AFTER_S = 60.0
# What makes a session line news: its phase, its regime (None outside the session) and the
# revision of the control in force.
SessionNews = tuple[str | None, str | None, int | None]


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def format_session(ts: int, state: SessionState | None, control: SyntheticControlState, revision: int | None) -> str:
    when = dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M:%S %Z")
    rev = "defaults" if revision is None else f"rev {revision}"
    head = f"session {when} (ts {ts})"
    tail = f"control {control.preset_id.value} ({rev}) seed {control.shared_seed}"
    if state is None:
        return f"{head} | outside the regular session | {tail}"
    return " | ".join(
        [
            head,
            f"phase {_value(state.session_phase)}",
            f"regime {_value(state.regime)}",
            f"focus {','.join(state.focus_symbols) or '-'}",
            f"events {','.join(state.event_symbols) or '-'}",
            f"volatility {state.volatility_level:.2f}",
            f"liquidity {state.liquidity_level:.2f}",
            tail,
        ]
    )


@dataclass(frozen=True)
class LinePrinted:
    """The news the last session line carried, and when (monotonic seconds) it was printed."""

    news: SessionNews
    at: float


def session_news(state: SessionState | None, revision: int | None) -> SessionNews:
    if state is None:
        return None, None, revision
    return _value(state.session_phase), _value(state.regime), revision


def session_line_due(last: LinePrinted | None, news: SessionNews, now: float,
                     every_s: float = REPRINT_AFTER_S) -> bool:
    """Whether to print the session line at ``now``: the first time, whenever the phase, the regime
    or the control revision changed since the last line, and otherwise once ``every_s`` has passed."""
    return last is None or news != last.news or now - last.at >= every_s


def print_up(child: Child) -> None:
    for label, url in child.urls():
        print(f"{label}: {url}", flush=True)

