"""What ``synthmarket up`` prints: each child's URLs as it comes up and the live session line."""

from __future__ import annotations

import datetime as dt
from typing import Any

from synthmarket.domain.calendar import EXCHANGE_TZ
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.session import SessionState
from synthmarket_cli.up.children import Child


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



def print_up(child: Child) -> None:
    for label, url in child.urls():
        print(f"{label}: {url}", flush=True)

