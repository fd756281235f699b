"""Frozen dataclass records filled in without their ``__init__``, for the few hottest constructors.

A frozen dataclass's ``__init__`` stores every field through ``object.__setattr__``: for states
built for nearly every option print, and for the prints themselves, that is most of their cost.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def plain_record(cls: type[T]) -> type[T]:
    """``cls``, once checked to be a dataclass whose ``__init__`` only stores its fields."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} does more in __init__ than store its fields")
    return cls


def build(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)`` for a ``plain_record`` class; ``values`` lists every field in declaration
    order, so the object is the one ``__init__`` would build."""
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record
