"""One numpy Generator re-keyed per scenario, drawing exactly what ``synthmarket.domain.rng.generator`` would."""

from __future__ import annotations

import numpy as np

from synthmarket.domain import rng


class ScenarioRng:
    """One numpy Generator re-keyed per scenario: the same draws as ``rng.generator(*parts)``.

    Building a Philox bit generator costs ~20 us (it seeds itself from OS entropy before the key
    replaces it); resetting the state of one kept instance costs a few. A re-keyed generator
    invalidates the previous one, so each is used only within its own scenario.
    """

    def __init__(self) -> None:
        self._bits = np.random.Philox(0)      # a fixed seed: every use re-keys it first
        self._gen = np.random.Generator(self._bits)

    def keyed(self, *parts: int | str) -> np.random.Generator:
        self._bits.state = {
            "bit_generator": "Philox",
            "state": {"counter": np.zeros(4, np.uint64), "key": np.array([rng.mix(*parts), 0], np.uint64)},
            "buffer": np.zeros(4, np.uint64), "buffer_pos": 4, "has_uint32": 0, "uinteger": 0,
        }
        return self._gen
