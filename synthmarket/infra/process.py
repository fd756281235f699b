"""What every ``python -m <service>`` shares: its settings (or a clear exit) and its stop signals."""

from __future__ import annotations

import asyncio
import signal
import sys

from synthmarket.settings import Settings, SettingsError, load_settings


def settings_or_exit(prog: str) -> Settings:
    """Settings from the environment, or a one-line message and exit status 2 on a bad value."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def stop_on_signal() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
