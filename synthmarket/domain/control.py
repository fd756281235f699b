"""The operator control state: schema, defaults, strict validation and JSON encoding."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, cast

from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS

ALLOWED_WEIGHTS: tuple[float, ...] = (0.6, 1.0, 1.6)
WEIGHT_LABELS: Mapping[float, str] = MappingProxyType({0.6: "low", 1.0: "normal", 1.6: "high"})
ALLOWED_WINDOWS: tuple[int, ...] = (10, 20, 30)
SEED_MAX = (1 << 64) - 1
DEFAULT_SEED = 20260101
UPDATED_BY_MAX_LEN = 128

REQUIRED_FIELDS: tuple[str, ...] = (
    "preset_id",
    "coverage_assist",
    "coverage_window_minutes",
    "shared_seed",
    "profile_weights",
)
# Set by the server on every write; accepted (and overwritten) in a client payload.
SERVER_FIELDS: tuple[str, ...] = ("updated_at", "updated_by")
ALL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + SERVER_FIELDS


class SyntheticProfileWeightMap(Mapping[str, float]):
    """An immutable weight per public profile; always holds all six, each 0.6, 1.0 or 1.6."""

    __slots__ = ("_weights",)

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        merged = dict.fromkeys(PUBLIC_PROFILE_IDS, 1.0)
        for key, value in (weights or {}).items():
            if key not in merged:
                raise KeyError(f"unknown profile {key!r}")
            merged[key] = _snap_weight(float(value))
        self._weights = merged

    def __getitem__(self, key: str) -> float:
        return self._weights[key]

    def __iter__(self):
        return iter(PUBLIC_PROFILE_IDS)

    def __len__(self) -> int:
        return len(PUBLIC_PROFILE_IDS)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._weights[p] for p in PUBLIC_PROFILE_IDS))

    def __repr__(self) -> str:
        return f"SyntheticProfileWeightMap({self._weights!r})"

    def to_dict(self) -> dict[str, float]:
        return {p: self._weights[p] for p in PUBLIC_PROFILE_IDS}


def _snap_weight(value: float) -> float:
    for allowed in ALLOWED_WEIGHTS:
        if math.isclose(value, allowed, abs_tol=1e-9):
            return allowed
    raise ValueError(f"weight must be one of {ALLOWED_WEIGHTS}, got {value!r}")


@dataclass(frozen=True)
class SyntheticCoverageConfig:
    coverage_assist: bool = True
    coverage_window_minutes: int = 20


@dataclass(frozen=True)
class SyntheticControlState:
    preset_id: SyntheticControlPresetId = SyntheticControlPresetId.BALANCED_DEMO
    coverage_assist: bool = True
    coverage_window_minutes: int = 20
    shared_seed: int = DEFAULT_SEED
    profile_weights: SyntheticProfileWeightMap = field(default_factory=SyntheticProfileWeightMap)
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def coverage(self) -> SyntheticCoverageConfig:
        return SyntheticCoverageConfig(self.coverage_assist, self.coverage_window_minutes)

    def with_update(self, **changes: Any) -> SyntheticControlState:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset_id": self.preset_id.value,
            "coverage_assist": self.coverage_assist,
            "coverage_window_minutes": self.coverage_window_minutes,
            "shared_seed": self.shared_seed,
            "profile_weights": self.profile_weights.to_dict(),
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }

    def to_json_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")


DEFAULT_CONTROL = SyntheticControlState()


@dataclass(frozen=True)
class SyntheticDerivedStatus:
    """What the running simulator reports back to operators (read-only)."""

    session_phase: str
    regime: str
    focus_symbols: tuple[str, ...]
    profile_hit_counts: Mapping[str, int]
    coverage_window_minutes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_phase": self.session_phase,
            "regime": self.regime,
            "focus_symbols": list(self.focus_symbols),
            "profile_hit_counts": {p: int(self.profile_hit_counts.get(p, 0)) for p in PUBLIC_PROFILE_IDS},
            "coverage_window_minutes": self.coverage_window_minutes,
        }


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ControlValidationError(ValueError):
    """A control payload failed validation; ``errors`` names every offending field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    def to_dict(self) -> dict[str, Any]:
        return {"error": "invalid control state", "fields": [e.to_dict() for e in self.errors]}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_control(payload: Any) -> SyntheticControlState:
    """Validate a *full* control payload (decoded JSON) strictly and return the state.

    Raises ``ControlValidationError`` listing every problem, each tied to a field path.
    """
    if not isinstance(payload, dict):
        raise ControlValidationError([FieldError("$", f"expected a JSON object, got {_type_name(payload)}")])

    errors: list[FieldError] = []
    for key in sorted(payload, key=str):  # key=str: a non-JSON caller may pass non-string keys
        if key not in ALL_FIELDS:
            errors.append(FieldError(str(key), "unknown field"))
    for key in REQUIRED_FIELDS:
        if key not in payload:
            errors.append(FieldError(key, "missing required field"))

    preset = payload.get("preset_id")
    preset_id = SyntheticControlPresetId.BALANCED_DEMO
    if "preset_id" in payload:
        allowed = [p.value for p in SyntheticControlPresetId]
        if not isinstance(preset, str):
            errors.append(FieldError("preset_id", f"expected a string, got {_type_name(preset)}"))
        elif preset not in allowed:
            errors.append(FieldError("preset_id", f"must be one of {', '.join(allowed)}; got {preset!r}"))
        else:
            preset_id = SyntheticControlPresetId(preset)

    assist = payload.get("coverage_assist")
    if "coverage_assist" in payload and not isinstance(assist, bool):
        errors.append(FieldError("coverage_assist", f"expected a boolean, got {_type_name(assist)}"))

    window = payload.get("coverage_window_minutes")
    if "coverage_window_minutes" in payload:
        if not isinstance(window, int) or isinstance(window, bool):
            errors.append(FieldError("coverage_window_minutes", f"expected an integer, got {_type_name(window)}"))
        elif window not in ALLOWED_WINDOWS:
            errors.append(FieldError("coverage_window_minutes", f"must be one of 10, 20, 30; got {window}"))

    seed = payload.get("shared_seed")
    if "shared_seed" in payload:
        if not isinstance(seed, int) or isinstance(seed, bool):
            errors.append(FieldError("shared_seed", f"expected an integer, got {_type_name(seed)}"))
        elif not 0 <= seed <= SEED_MAX:
            errors.append(FieldError("shared_seed", f"must be between 0 and {SEED_MAX} (unsigned 64-bit); got {seed}"))

    weights_in = payload.get("profile_weights")
    weights: dict[str, float] = {}
    if "profile_weights" in payload:
        if not isinstance(weights_in, dict):
            errors.append(FieldError("profile_weights", f"expected an object, got {_type_name(weights_in)}"))
        else:
            for key in sorted(weights_in, key=str):
                if key not in PUBLIC_PROFILE_IDS:
                    errors.append(FieldError(f"profile_weights.{key}", "unknown profile"))
            for profile in PUBLIC_PROFILE_IDS:
                path = f"profile_weights.{profile}"
                if profile not in weights_in:
                    errors.append(FieldError(path, "missing required field"))
                    continue
                value = weights_in[profile]
                if not _is_number(value):
                    errors.append(FieldError(path, f"expected a number, got {_type_name(value)}"))
                    continue
                try:
                    weights[profile] = _snap_weight(float(value))
                except (ValueError, OverflowError):  # an integer too large for a float
                    errors.append(FieldError(path, f"must be 0.6 (low), 1.0 (normal) or 1.6 (high); got {value}"))

    for key in SERVER_FIELDS:
        value = payload.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(key, f"expected a string or null, got {_type_name(value)}"))
        elif key == "updated_by" and isinstance(value, str) and len(value) > UPDATED_BY_MAX_LEN:
            errors.append(FieldError(key, f"must be at most {UPDATED_BY_MAX_LEN} characters"))

    if errors:
        raise ControlValidationError(errors)
    # Validated above: every value is of its field's type (a missing field was reported).
    return SyntheticControlState(
        preset_id=preset_id,
        coverage_assist=cast(bool, assist),
        coverage_window_minutes=cast(int, window),
        shared_seed=cast(int, seed),
        profile_weights=SyntheticProfileWeightMap(weights),
        updated_at=payload.get("updated_at"),
        updated_by=payload.get("updated_by"),
    )


def control_from_json(data: bytes | str) -> SyntheticControlState:
    """Parse and validate a JSON document; malformed JSON is a field error on ``$``."""
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ControlValidationError([FieldError("$", f"not valid JSON: {exc}")]) from None
    return validate_control(payload)
