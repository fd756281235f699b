"""One numpy Generator re-keyed per scenario, drawing exactly what ``synthmarket.domain.rng.generator`` would."""

from __future__ import annotations

from typing import Any

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
        self._key = [0, 0]
        # The state setter copies every value: one state in plain lists, built once, serves every key.
        self._state: Any = {"bit_generator": "Philox", "state": {"counter": [0, 0, 0, 0], "key": self._key},
                            "buffer": [0, 0, 0, 0], "buffer_pos": 4, "has_uint32": 0, "uinteger": 0}

    def keyed(self, *parts: int | str) -> np.random.Generator:
        return self.keyed_by(rng.mix(*parts))

    def keyed_by(self, key: int) -> np.random.Generator:
        """The generator of ``key``, a value of ``rng.mix`` (for callers that fold keys in batches)."""
        self._key[0] = key
        self._bits.state = self._state
        return self._gen
