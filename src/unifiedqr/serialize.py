"""Typed results to JSON-ready values: the one conversion both edges (HTTP and CLI) use.

Services return frozen dataclasses (and NamedTuples); their field names *are* the JSON keys, so the
API and ``--json`` output are derived from one definition. Datetimes become RFC 3339 text, dates
ISO dates, enums their values, tuples lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` with every dataclass, datetime, date, enum and tuple turned into JSON types."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: jsonable(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        raise TypeError("bytes have no JSON form; encode them first")
    raise TypeError(f"{type(value).__name__} has no JSON form")
