"""Reading plain JSON values with their types checked once, at the edge."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

JSON = Mapping[str, Any]


class Malformed(ValueError):
    """A stored field is missing or has the wrong type."""


def obj(data: Any, where: str) -> JSON:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise Malformed(f"{where}: expected an object, found {type(data).__name__}")
    return data


def seq(data: Any, where: str) -> Sequence[Any]:
    if data is None:
        return ()
    if isinstance(data, str) or not isinstance(data, Sequence):
        raise Malformed(f"{where}: expected a list, found {type(data).__name__}")
    return data


def integer(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    return int(value)


def real(value: Any, default: float = math.nan) -> float:
    if value is None:
        return default
    return float(value)


def text(value: Any) -> str:
    return "" if value is None else str(value)


def ints(values: Any, where: str) -> tuple[int, ...]:
    return tuple(integer(v) for v in seq(values, where))


def reals(values: Any, where: str) -> tuple[float, ...]:
    return tuple(real(v) for v in seq(values, where))


def optional_ints(values: Any, where: str) -> tuple[int | None, ...]:
    return tuple(None if v is None else int(v) for v in seq(values, where))


def optional_reals(values: Any, where: str) -> tuple[float | None, ...]:
    return tuple(None if v is None else float(v) for v in seq(values, where))


def matrix(values: Any, where: str) -> tuple[tuple[int, ...], ...]:
    return tuple(ints(row, f"{where}[{i}]") for i, row in enumerate(seq(values, where)))
