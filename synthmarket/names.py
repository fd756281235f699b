"""NATS subjects, JetStream stream names and KV bucket names: the one place they are spelled."""

from __future__ import annotations

CONTROL_BUCKET = "synthetic_control"
CONTROL_KEY = "global"

STATUS_BUCKET = "synthetic_status"


def status_key(service: str, replica: int = 0) -> str:
    """The key one ingest replica reports under in STATUS_BUCKET, e.g. ``options_svc.0``."""
    return f"{service}.{replica}"

OPTION_PRINTS_PREFIX = "md.options.prints"
EQUITY_TRADES_PREFIX = "md.equities.trades"
EQUITY_QUOTES_PREFIX = "md.equities.quotes"

SMART_MONEY_STREAM = "SMART_MONEY"
SMART_MONEY_SUBJECT = "flow.smart_money"


def option_prints_subject(underlying: str) -> str:
    return f"{OPTION_PRINTS_PREFIX}.{underlying}"


def equity_trades_subject(symbol: str) -> str:
    return f"{EQUITY_TRADES_PREFIX}.{symbol}"


def equity_quotes_subject(symbol: str) -> str:
    return f"{EQUITY_QUOTES_PREFIX}.{symbol}"


ALL_OPTION_PRINTS = f"{OPTION_PRINTS_PREFIX}.>"
ALL_EQUITY_TRADES = f"{EQUITY_TRADES_PREFIX}.>"
ALL_EQUITY_QUOTES = f"{EQUITY_QUOTES_PREFIX}.>"
