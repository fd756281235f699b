"""The one retry policy: wait, double, cap; reset after a success."""

from __future__ import annotations

from dataclasses import dataclass, field

INITIAL_S = 0.25
MAX_S = 5.0


@dataclass
class Backoff:
    """Delays for retrying a lost dependency (a NATS watch, the regime stream, a gRPC peer)."""

    initial_s: float = INITIAL_S
    max_s: float = MAX_S
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next = self.initial_s

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the one after, up to ``max_s``."""
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s
