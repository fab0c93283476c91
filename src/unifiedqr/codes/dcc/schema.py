"""The payload's JSON schema: the official combined schema of its own ``ver``, compiled once.

The schemas (1.0.0 - 1.3.3) ship in ``schemas/`` with their attribution. They declare JSON Schema
2020-12, in which ``format`` is an annotation, not an assertion; we validate the same way (so an
issuer's ``sc`` of ``2021-05-20T10:00:00+0200`` is judged by the schema's patterns and types only,
as the reference validators did). One rule comes from the HCERT specification rather than the older
schemas: a certificate holds exactly one of ``v``, ``t`` and ``r``.

A ``ver`` this module does not ship is validated with the newest shipped schema of the same
major.minor that is not newer than it (``1.0.2`` -> ``1.0.1``); a ``ver`` with no such schema or
that is not ``N.N.N`` fails.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any, Final

import fastjsonschema

from unifiedqr.codes.dcc.cose import MAX_CBOR_DEPTH

SCHEMA_VERSIONS: Final = ("1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.3.2", "1.3.3")
_VERSION: Final = re.compile(r"([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})")
#: CBOR tags whose content is already the JSON text form (RFC 8949 date-time, RFC 8943 full-date).
_TEXT_TAGS: Final = (0, 1004)


class SchemaError(ValueError):
    """A payload that breaks its schema; the message names the field and the rule."""


def _key(version: str) -> tuple[int, int, int] | None:
    match = _VERSION.fullmatch(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def schema_version_for(ver: Any) -> str | None:
    """The shipped schema that validates a payload declaring ``ver`` (see the module notes)."""
    return _schema_version_for(ver) if isinstance(ver, str) and len(ver) <= 16 else None


@functools.lru_cache(maxsize=64)
def _schema_version_for(ver: str) -> str | None:
    wanted = _key(ver)
    if wanted is None:
        return None
    fits = [v for v in SCHEMA_VERSIONS if (k := _key(v)) and k[:2] == wanted[:2] and k <= wanted]
    return fits[-1] if fits else None


@functools.cache
def _validator(version: str) -> Callable[[Any], Any]:
    text = resources.files("unifiedqr.codes.dcc").joinpath("schemas", f"{version}.json").read_text("utf-8")
    return fastjsonschema.compile(json.loads(text), use_formats=False, use_default=False)


def compile_all() -> None:
    """Compile every shipped schema now (a server calls this at start-up; verification is lazy)."""
    for version in SCHEMA_VERSIONS:
        _validator(version)


def to_json(value: Any, depth: int = 0) -> Any:
    """The CBOR value as JSON data (str keys; text, numbers, booleans, null, lists, maps).

    Date tags whose content is text become that text; any other tag, byte string or CBOR-only value
    raises :class:`SchemaError`, since no JSON schema can accept it. (Exact ``type`` checks: this
    walk runs on every verification, and they measured ~2x faster than an ``isinstance`` chain.)
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if depth > MAX_CBOR_DEPTH:
        raise SchemaError("the payload nests too deeply")
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise SchemaError(f"key {key!r} is not text")
            out[key] = to_json(item, depth + 1)
        return out
    if kind is list or kind is tuple:
        return [to_json(item, depth + 1) for item in value]
    if isinstance(value, str | int | float):  # subclasses (IntEnum, str subclasses) as their base value
        return value
    tag = getattr(value, "tag", None)
    if tag in _TEXT_TAGS and isinstance(value.value, str):
        return value.value
    raise SchemaError(f"a {kind.__name__} value has no JSON form")


def validate(certificate: dict[str, Any]) -> str:
    """Validate the DCC ``certificate`` against the schema of its ``ver``; returns that schema's
    version, raises :class:`SchemaError` naming the first rule broken."""
    version = schema_version_for(certificate.get("ver"))
    if version is None:
        raise SchemaError(f"ver {certificate.get('ver')!r} names no released schema")
    data = to_json(certificate)
    try:
        _validator(version)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise SchemaError(f"schema {version}: {exc.message}") from None
    groups = [group for group in ("v", "t", "r") if group in data]
    if len(groups) != 1:
        raise SchemaError(f"a certificate holds exactly one of v, t, r; this one {groups or 'none'}")
    return version
