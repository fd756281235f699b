"""Counter-based deterministic randomness keyed by stable integers and strings.

Nothing here touches a global RNG, the clock or Python's salted ``hash()``: the same key
gives the same numbers in every process on every machine.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


# The same few strings (symbols, tags) are keyed over and over: hash each once.
@functools.lru_cache(maxsize=4096)
def stable_str_key(text: str) -> int:
    """A 64-bit key for a string that does not depend on PYTHONHASHSEED."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


_MIX_START = 0x243F6A8885A308D3      # mix() of no parts


def mix(*parts: int | str) -> int:
    """Fold integers and strings into one 64-bit key."""
    return extend(_MIX_START, *parts)


def extend(key: int, *parts: int | str) -> int:
    """``mix(*first, *parts)`` given ``key == mix(*first)``: a prefix shared by many keys, folded once."""
    acc = key
    for part in parts:
        value = stable_str_key(part) if isinstance(part, str) else int(part) & _MASK64
        acc = _splitmix64(acc ^ value)
    return acc


def uniform(*parts: int | str) -> float:
    """A uniform draw in [0, 1) determined entirely by ``parts``."""
    return (mix(*parts) >> 11) * (1.0 / (1 << 53))


def normal(*parts: int | str) -> float:
    """A standard normal draw determined entirely by ``parts`` (Box-Muller on two keyed uniforms)."""
    return keyed_normal(mix(*parts))


def keyed_normal(key: int) -> float:
    """``normal(*parts)`` given ``key == mix(*parts)``."""
    u1 = ((_splitmix64(key) >> 11) + 1) * (1.0 / ((1 << 53) + 1))
    u2 = (_splitmix64(key ^ 0x5851F42D4C957F2D) >> 11) * (1.0 / (1 << 53))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def generator(*parts: int | str) -> np.random.Generator:
    """A numpy Generator seeded from ``parts``; use it for a bounded batch of draws."""
    return np.random.Generator(np.random.Philox(key=mix(*parts)))


# Vectorised counter-based draws: the n-th number of the stream keyed ``k`` is
# ``_splitmix64(k + n * GAMMA)``, the SplitMix64 sequence started at ``k``. Any draw is computable
# on its own, so a batch covering many keys (minutes, symbols) costs a few array operations
# instead of one generator per key, and gives the same numbers however the batch is cut.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11))
_UNIT = 1.0 / (1 << 53)


def splitmix64_array(x: np.ndarray) -> np.ndarray:
    """``_splitmix64`` element-wise over uint64 values (wrapping arithmetic, like the scalar one)."""
    s30, s27, s31, _ = _SHIFTS
    z = np.asarray(x, dtype=np.uint64) + _GAMMA
    z = (z ^ (z >> s30)) * _MUL1
    z = (z ^ (z >> s27)) * _MUL2
    return z ^ (z >> s31)


def fold(keys: int | np.ndarray, values: int | np.ndarray) -> np.ndarray:
    """``mix(*parts, v)`` for each ``v`` of ``values``, given ``keys == mix(*parts)`` (broadcasting)."""
    k = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    v = np.atleast_1d(np.asarray(values, dtype=np.int64)).astype(np.uint64)
    return splitmix64_array(k ^ v)


def counter_uniforms(keys: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """Uniform draws in the open interval (0, 1): draw number ``counters`` of the stream ``keys``.

    Broadcasts ``keys`` against ``counters``; never exactly 0 or 1, so ``log(u)`` and
    ``log1p(-u)`` are always finite.
    """
    k = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    n = np.atleast_1d(np.asarray(counters, dtype=np.int64)).astype(np.uint64)
    z = splitmix64_array(k + n * _GAMMA)
    return ((z >> _SHIFTS[3]).astype(np.float64) + 0.5) * _UNIT
