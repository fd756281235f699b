"""Short human-readable pieces for event reasons: money, tenor, moneyness, durations."""

from __future__ import annotations

from flow_svc.clusters import PrintView

RIGHT_WORD = {"C": "call", "P": "put"}
# Starts the reason of an event that repeats a pattern already reported (see docs/flow_footprints.md).
REPEAT_PREFIX = "Repeat hit: "



def money(usd: float) -> str:
    if usd >= 1_000_000:
        return f"${usd / 1_000_000:.1f}M"
    if usd >= 1_000:
        return f"${usd / 1_000:.0f}k"
    return f"${usd:.0f}"


def tenor(dte: int) -> str:
    return "0DTE" if dte <= 0 else f"{dte} DTE"


def moneyness(otm: float) -> str:
    pct = otm * 100.0
    if abs(pct) < 0.5:
        return "ATM"
    if pct < 0:
        return f"{-pct:.0f}% ITM"
    return f"{pct:.1f}% OTM" if pct < 10 else f"{pct:.0f}% OTM"


def duration(ms: int) -> str:
    if ms < 1_000:
        return f"{ms} ms"
    if ms < 120_000:
        return f"{ms / 1000:.0f} s"
    return f"{ms / 60_000:.1f} min"


def rights_word(prints: list[PrintView]) -> str:
    rights = {pv.p.right for pv in prints}
    if rights == {"C"}:
        return "call"
    if rights == {"P"}:
        return "put"
    return "call/put"


def contracts(n: int) -> str:
    return f"{n:,} contracts"
