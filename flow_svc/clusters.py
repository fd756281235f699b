"""Open print clusters keyed by rule, and the deadline book that says when each one closes."""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass, field

from synthmarket.domain.marketdata import OptionPrint


class PrintView:
    """One print plus the public features every rule reads, computed once on arrival."""

    __slots__ = ("p", "side", "dte", "otm", "premium", "event", "seq")

    def __init__(self, p: OptionPrint, side: str, dte: int, otm: float, premium: float, event: bool, seq: int):
        self.p = p
        self.side = side
        self.dte = dte
        self.otm = otm              # fraction of spot, negative in the money
        self.premium = premium      # USD
        self.event = event          # underlying was an event symbol when the print arrived
        self.seq = seq              # arrival order, the tie-breaker everywhere


@dataclass(frozen=True)
class WindowSpec:
    """How a cluster kind closes, and when its event is decided.

    ``quiet`` clusters close ``window_ms`` after their last print; ``fixed`` ones ``window_ms``
    after their first. ``max_span_ms`` (optional) closes a cluster early when a new print would
    stretch it past that span; the new print then opens a fresh cluster. ``eager`` kinds are
    decided on every print that joins them (an event the moment the pattern is met, more from the
    prints that follow); the others only when they close, since a sweep or a multi-leg order is
    known only once all its legs are in (milliseconds).
    """

    window_ms: int
    quiet: bool = True
    max_span_ms: int | None = None
    eager: bool = False


@dataclass
class Cluster:
    kind: str
    key: Hashable
    seq: int                        # seq of the first print: unique, orders clusters
    first_ts: int
    last_ts: int
    deadline: int                   # exclusive: a print at ts >= deadline no longer joins
    prints: list[PrintView] = field(default_factory=list)   # those no event has explained yet
    premium: float = 0.0            # of ``prints``
    fired: int = 0                  # events already decided from this cluster

    def take(self) -> None:
        """The pending prints became an event; the cluster stays open for what follows."""
        self.prints = []
        self.premium = 0.0
        self.fired += 1


class ClusterBook:
    """All open clusters, with a lazily re-scheduled deadline heap (one entry per open cluster)."""

    def __init__(self, specs: dict[str, WindowSpec]):
        self._specs = specs
        self._open: dict[tuple[str, Hashable], Cluster] = {}
        self._heap: list[tuple[int, int, str, Hashable]] = []

    def __len__(self) -> int:
        return len(self._open)

    def add(self, kind: str, key: Hashable, pv: PrintView) -> tuple[Cluster, Cluster | None]:
        """Put a print into its cluster; returns that cluster and one closed early (the print
        came after its deadline, or past ``max_span_ms``)."""
        spec = self._specs[kind]
        ts = pv.p.ts
        book_key = (kind, key)
        cluster = self._open.get(book_key)
        evicted = None
        if cluster is not None and (ts >= cluster.deadline or (
                spec.max_span_ms is not None and ts - cluster.first_ts >= spec.max_span_ms)):
            # The old cluster is complete; decide it now, at this print's ts.
            del self._open[book_key]
            cluster.deadline = min(cluster.deadline, ts)
            evicted = cluster
            cluster = None
        if cluster is None:
            cluster = Cluster(kind, key, pv.seq, ts, ts, ts + spec.window_ms, [pv], pv.premium)
            self._open[book_key] = cluster
            heapq.heappush(self._heap, (cluster.deadline, cluster.seq, kind, key))
            return cluster, evicted
        cluster.prints.append(pv)
        cluster.premium += pv.premium
        # max(): a sweep leg handed back to the single-leg rules may be a few ms older.
        cluster.last_ts = max(cluster.last_ts, ts)
        if spec.quiet:
            # The heap entry keeps the old deadline; pop_due re-schedules it when it surfaces.
            cluster.deadline = max(cluster.deadline, ts + spec.window_ms)
        return cluster, evicted

    def pop_due(self, now_ts: int) -> list[Cluster]:
        """Remove and return every cluster whose deadline is <= now_ts, in (deadline, seq) order."""
        due: list[Cluster] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ts:
            deadline, seq, kind, key = heapq.heappop(heap)
            cluster = self._open.get((kind, key))
            if cluster is None or cluster.seq != seq:
                continue                        # closed early, or a newer cluster under this key
            if cluster.deadline > deadline:
                heapq.heappush(heap, (cluster.deadline, seq, kind, key))
                continue
            del self._open[(kind, key)]
            due.append(cluster)
        return due

    def has_due(self, now_ts: int) -> bool:
        """Whether pop_due(now_ts) may return anything (cheap: the earliest heap entry only)."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= now_ts
