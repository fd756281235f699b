"""The process supervisor of ``synthmarket up``: start children in order, health-wait each, stop in reverse."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from synthmarket_cli.up.children import Child, StartCancelled

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 30.0


class Supervisor:
    """Starts children in order (each health-waited), stops them in reverse order."""

    def __init__(
        self,
        children: Sequence[Child],
        health_timeout: float = HEALTH_TIMEOUT_S,
        on_up: Callable[[Child], None] | None = None,
    ) -> None:
        self.children = list(children)
        self.health_timeout = health_timeout
        self.on_up = on_up
        self._started: list[Child] = []

    def start_all(self, upto: int | None = None, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Start the children not started yet (only the first ``upto`` of them when given).

        ``cancelled`` is checked between children; a cancelled start unwinds like a failed one.
        """
        try:
            for child in self.children[len(self._started):upto]:
                if cancelled():
                    raise StartCancelled("stopped while starting")
                self._started.append(child)
                child.start()
                child.wait_healthy(self.health_timeout)
                log.info("%s is up", child.name)
                if self.on_up is not None:
                    self.on_up(child)
        except BaseException:
            self.stop_all()
            raise

    def exited(self) -> list[tuple[str, int]]:
        """Children that stopped on their own, with their exit codes."""
        found = []
        for child in self._started:
            code = child.exit_code()
            if code is not None:
                found.append((child.name, code))
        return found

    def stop_all(self, timeout: float = 5.0) -> None:
        while self._started:
            child = self._started.pop()
            try:
                child.stop(timeout)
            except Exception:
                log.exception("could not stop %s cleanly", child.name)

    def urls(self) -> list[tuple[str, str]]:
        return [u for child in self._started for u in child.urls()]


# -- the live session report ------------------------------------------------------------------
