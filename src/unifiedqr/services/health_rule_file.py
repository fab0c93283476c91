"""Health-status rule files: the data the colour comes from, one JSON file per province (spec §3).

This module is the file format only (types, strict validation, loading); what the rules *mean* is
:mod:`unifiedqr.services.health_status`. docs/health-status.md describes every key. In short::

    {
      "format": "unifiedqr-health-rules", "version": 1,
      "province": "Khánh Hòa", "utc_offset": "+07:00",
      "rules": [
        {"colour": "red", "reason": "positive_test_in_isolation",
         "any_of": [{"record": "test", "result": "positive", "max_age": {"days": 10}}]},
        ...,
        {"colour": "red", "reason": "no_qualifying_record", "otherwise": true}
      ]
    }

Validation is strict: an unknown key, a wrong type, a colour or reason that is not allowed, an
empty or inverted age window or a rule list without its fallback is refused on load with a
:class:`RuleFileError` naming the file and the JSON path of the key, so a typo in a province's file
stops the service at start-up instead of colouring people wrongly.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, get_args

from unifiedqr.errors import InvalidInput

Colour = Literal["green", "yellow", "red", "neutral"]
RuleColour = Literal["green", "yellow", "red"]
Method = Literal["pcr", "rapid_antigen"]
Result = Literal["negative", "positive"]
RecordKind = Literal["vaccination", "test", "recovery"]

COLOURS: tuple[Colour, ...] = get_args(Colour)
RULE_COLOURS: tuple[RuleColour, ...] = get_args(RuleColour)
METHODS: tuple[Method, ...] = get_args(Method)
RESULTS: tuple[Result, ...] = get_args(Result)
RECORD_KINDS: tuple[RecordKind, ...] = get_args(RecordKind)
DATED_KINDS: tuple[RecordKind, ...] = ("vaccination", "recovery")

DEFAULT_RULES = "khanh-hoa-2021-10"
RULE_FILE_FORMAT = "unifiedqr-health-rules"
RULE_FILE_VERSION = 1
NO_RULES_REASON = "no_rules"
MAX_RULE_FILE_BYTES = 256 * 1024
MAX_RULES = 64
MAX_CONDITIONS = 32
MAX_AGE = dt.timedelta(days=36_600)  # a century: any longer window is a typo
MAX_TEXT = 2000

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")
_OFFSET = re.compile(r"([+-])([0-9]{2}):([0-9]{2})")
_UNITS = {"days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_PACKAGE, _FOLDER = "unifiedqr.services", "health_rules"


@dataclass(frozen=True)
class Condition:
    """A record that satisfies a rule. ``None`` filters match anything; both ages are inclusive.

    ``series_complete`` applies to vaccinations, ``method`` and ``result`` to tests. For dated
    records (vaccination, recovery) the ages are whole calendar days.
    """

    record: RecordKind
    min_age: dt.timedelta = dt.timedelta(0)
    max_age: dt.timedelta | None = None
    series_complete: bool | None = None
    method: Method | None = None
    result: Result | None = None


@dataclass(frozen=True)
class Rule:
    """``colour`` and ``reason`` when any condition holds; no conditions: the fallback."""

    colour: RuleColour
    reason: str
    any_of: tuple[Condition, ...] = ()

    @property
    def otherwise(self) -> bool:
        return not self.any_of


@dataclass(frozen=True)
class RuleSet:
    """One province's rules, first match wins; ``rules`` empty: the province sets no colours."""

    name: str
    province: str
    utc_offset: dt.timedelta
    rules: tuple[Rule, ...]
    description: str = ""

    @property
    def tz(self) -> dt.timezone:
        return dt.timezone(self.utc_offset)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(rule.reason for rule in self.rules) or (NO_RULES_REASON,)


class RuleFileError(InvalidInput):
    """A rule file that cannot be used: ``source`` names the file, ``field`` the JSON path."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.source = source
        self.args = (f"{source}: {field}: {reason}",)


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------
def shipped_rules() -> list[str]:
    """Names of the rule files that ship with the package (:func:`load_rules` accepts each)."""
    folder = importlib.resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and not entry.name.endswith(".vectors.json")
    )


def load_rules(name_or_path: str | os.PathLike[str]) -> RuleSet:
    """A shipped rule file by name (``"khanh-hoa-2021-10"``), or any rule file by path.

    A plain name (lower-case ASCII letters, digits, single hyphens) is a shipped file; anything
    else (a ``Path``, or text with a ``/``, a ``.`` or upper case) is a path.
    """
    if isinstance(name_or_path, str) and _NAME.fullmatch(name_or_path):
        resource = importlib.resources.files(_PACKAGE).joinpath(_FOLDER, f"{name_or_path}.json")
        if not resource.is_file():
            reason = f"no shipped rule file by that name (shipped: {', '.join(shipped_rules())})"
            raise RuleFileError(name_or_path, "name", reason)
        with resource.open("rb") as stream:
            return parse_rules_bytes(stream.read(MAX_RULE_FILE_BYTES + 1), name_or_path)
    path = Path(name_or_path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        raise RuleFileError(str(path), "file", f"cannot be read ({error.strerror or error})") from None
    return parse_rules_bytes(data, path.name.removesuffix(".json"), str(path))


def parse_rules_bytes(data: bytes, name: str, source: str | None = None) -> RuleSet:
    """A rule file's bytes: UTF-8 JSON without duplicate keys, at most ``MAX_RULE_FILE_BYTES``."""
    where = source or f"{name}.json"
    if len(data) > MAX_RULE_FILE_BYTES:
        raise RuleFileError(where, "file", f"larger than {MAX_RULE_FILE_BYTES} bytes")
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise RuleFileError(where, "file", "not UTF-8") from None
    except _DuplicateKey as duplicate:
        raise RuleFileError(where, duplicate.key, "appears twice in one object") from None
    except ValueError as error:
        raise RuleFileError(where, "file", f"not JSON ({error})") from None
    return parse_rules(document, name, where)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


# ---------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------
def parse_rules(document: object, name: str, source: str | None = None) -> RuleSet:
    """Validate a decoded rule document; every refusal names the JSON path of the key."""
    v = _Validator(source or f"{name}.json")
    top = v.mapping(
        document,
        "",
        required=("format", "version", "province", "utc_offset", "rules"),
        optional=("description", "source"),
    )
    if top["format"] != RULE_FILE_FORMAT:
        v.fail("format", f"must be {RULE_FILE_FORMAT!r}")
    if type(top["version"]) is not int or top["version"] != RULE_FILE_VERSION:
        v.fail("version", f"must be {RULE_FILE_VERSION} (the only version this code reads)")
    province = v.text(top["province"], "province", 100)
    for key in ("description", "source"):
        if key in top:
            v.text(top[key], key, MAX_TEXT)
    offset = v.offset(top["utc_offset"], "utc_offset")
    items = top["rules"]
    if not isinstance(items, list):
        v.fail("rules", "must be a list (empty: the province sets no colours)")
    if len(items) > MAX_RULES:
        v.fail("rules", f"at most {MAX_RULES} rules")
    rules = tuple(v.rule(item, f"rules[{i}]") for i, item in enumerate(items))
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.reason in seen:
            v.fail(
                f"rules[{i}].reason", f"{rule.reason!r} is already the reason of rules[{seen[rule.reason]}]"
            )
        seen[rule.reason] = i
        if rule.otherwise and i != len(rules) - 1:
            v.fail(
                f"rules[{i}].otherwise", "only the last rule may be the fallback (no later rule could apply)"
            )
    if rules and not rules[-1].otherwise:
        v.fail(f"rules[{len(rules) - 1}]", 'the last rule must be the fallback ("otherwise": true)')
    description = str(top.get("description", ""))
    return RuleSet(name=name, province=province, utc_offset=offset, rules=rules, description=description)


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, reason: str) -> NoReturn:
        raise RuleFileError(self.source, field or "(document)", reason)

    def mapping(
        self, value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "must be a JSON object")
        prefix = f"{path}." if path else ""
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join((*required, *optional))
                self.fail(f"{prefix}{_short(key)}", f"unknown key (allowed: {allowed})")
        for key in required:
            if key not in value:
                self.fail(f"{prefix}{key}", "required")
        return value

    def text(self, value: object, path: str, limit: int) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            self.fail(path, f"must be a non-empty string of at most {limit} characters")
        return value

    def choice(self, value: object, path: str, allowed: tuple[str, ...]) -> Any:
        if not isinstance(value, str) or value not in allowed:
            self.fail(path, f"must be one of {', '.join(allowed)}")
        return value

    def offset(self, value: object, path: str) -> dt.timedelta:
        match = _OFFSET.fullmatch(value) if isinstance(value, str) else None
        if match is None or int(match[3]) >= 60:
            self.fail(path, 'must be an offset from UTC like "+07:00"')
        offset = dt.timedelta(hours=int(match[2]), minutes=int(match[3])) * (-1 if match[1] == "-" else 1)
        if abs(offset) > dt.timedelta(hours=14):
            self.fail(path, "must lie between -14:00 and +14:00")
        return offset

    def rule(self, value: object, path: str) -> Rule:
        body = self.mapping(
            value, path, required=("colour", "reason"), optional=("any_of", "otherwise", "description")
        )
        colour = self.choice(body["colour"], f"{path}.colour", RULE_COLOURS)
        reason = body["reason"]
        if not isinstance(reason, str) or not _REASON.fullmatch(reason) or reason == NO_RULES_REASON:
            self.fail(
                f"{path}.reason",
                f"must be a code of lower-case letters, digits and '_' (at most 64), not {NO_RULES_REASON!r}",
            )
        if "description" in body:
            self.text(body["description"], f"{path}.description", MAX_TEXT)
        if ("any_of" in body) == ("otherwise" in body):
            self.fail(path, 'needs exactly one of "any_of" (conditions) or "otherwise": true (the fallback)')
        if "otherwise" in body:
            if body["otherwise"] is not True:
                self.fail(f"{path}.otherwise", "must be true (leave the key out otherwise)")
            return Rule(colour, reason)
        conditions = body["any_of"]
        if not isinstance(conditions, list) or not 1 <= len(conditions) <= MAX_CONDITIONS:
            self.fail(f"{path}.any_of", f"must be a list of 1 to {MAX_CONDITIONS} conditions")
        any_of = tuple(self.condition(c, f"{path}.any_of[{i}]") for i, c in enumerate(conditions))
        return Rule(colour, reason, any_of)

    def condition(self, value: object, path: str) -> Condition:
        if not isinstance(value, Mapping):
            self.fail(path, "must be a JSON object")
        if "record" not in value:
            self.fail(f"{path}.record", "required")
        record: RecordKind = self.choice(value["record"], f"{path}.record", RECORD_KINDS)
        extra = {"vaccination": ("series_complete",), "test": ("method", "result"), "recovery": ()}[record]
        body = self.mapping(value, path, required=("record",), optional=("min_age", "max_age", *extra))
        dated = record in DATED_KINDS
        min_age = dt.timedelta(0)
        if "min_age" in body:
            min_age = self.duration(body["min_age"], f"{path}.min_age", dated)
        max_age = None
        if "max_age" in body:
            max_age = self.duration(body["max_age"], f"{path}.max_age", dated)
        if max_age is not None and max_age < min_age:
            self.fail(f"{path}.max_age", "must not be less than min_age (the condition could never hold)")
        series_complete = None
        if "series_complete" in body:
            series_complete = body["series_complete"]
            if not isinstance(series_complete, bool):
                self.fail(f"{path}.series_complete", "must be true or false (leave it out to match any dose)")
        method = self.choice(body["method"], f"{path}.method", METHODS) if "method" in body else None
        result = self.choice(body["result"], f"{path}.result", RESULTS) if "result" in body else None
        return Condition(record, min_age, max_age, series_complete, method, result)

    def duration(self, value: object, path: str, dated: bool) -> dt.timedelta:
        units = ("days",) if dated else tuple(_UNITS)
        if dated and isinstance(value, Mapping):
            for key in value:
                if key in _UNITS and key != "days":
                    self.fail(f"{path}.{key}", "dated records (vaccination, recovery) age in whole days only")
        body = self.mapping(value, path, required=(), optional=units)
        if not body:
            self.fail(path, f"needs at least one of {', '.join(units)}")
        seconds = 0
        for unit, amount in body.items():
            if type(amount) is not int or amount < 0:
                self.fail(f"{path}.{unit}", "must be a whole number of at least 0")
            seconds += amount * _UNITS[unit]
        if seconds > MAX_AGE.total_seconds():
            self.fail(path, f"must be at most {MAX_AGE.days} days")
        return dt.timedelta(seconds=seconds)


def _short(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:37] + "..."
