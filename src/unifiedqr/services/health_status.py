"""The health-status colour (spec §3): typed health records and one pure evaluation under data rules.

Pure like :mod:`unifiedqr.services.visits`: no database, no clock (``now`` is a parameter), and no
I/O except reading the rule file a caller names (:func:`load_rules`, from
:mod:`unifiedqr.services.health_rule_file`, which owns the file format). The same records come from
an official's API call, a CSV import or a vaccine passport: a record says what happened, never
where it was recorded.

What the rules mean (docs/health-status.md has the format and the default rules in words):

- the rule list is ordered and the first rule with a condition that holds wins; the last rule is
  the fallback; a province with no rules gets ``neutral`` (reason ``no_rules``) for everyone;
- a condition holds for a record of its kind whose static fields fit (``series_complete``,
  ``method``, ``result``) and whose **age** lies in ``[min_age, max_age]``, both ends inclusive;
- the age of a **dated** record (vaccination, recovery) counts whole calendar days in the rule
  file's time zone: ``age = local date of now - date``; the age of a **test** is the exact duration
  ``now - taken_at``;
- ``min_age`` defaults to zero, so a record dated after ``now`` does not count until it happens;
- so each (condition, record) holds on one half-open interval of instants ``[start, end)``
  (:func:`window`): a dated record's window runs from the local midnight that starts day
  ``date + min_age`` to the local midnight after day ``date + max_age``; a test's from
  ``taken_at + min_age`` to ``taken_at + max_age + 1 µs`` (inclusive end; instants have microsecond
  resolution);
- the colour can change only where a window starts or ends, so ``valid_until`` is the first such
  instant after ``now`` whose colour differs, expressed in the rule file's zone, or ``None``.
  Only the colour counts: a change of reason with the same colour is not a change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from unifiedqr.errors import InvalidInput
from unifiedqr.services.health_rule_file import (
    COLOURS,
    DEFAULT_RULES,
    METHODS,
    NO_RULES_REASON,
    RESULTS,
    Colour,
    Condition,
    Method,
    RecordKind,
    Result,
    Rule,
    RuleFileError,
    RuleSet,
    load_rules,
    parse_rules,
    shipped_rules,
)

__all__ = [
    "COLOURS",
    "DEFAULT_RULES",
    "Colour",
    "Condition",
    "HealthStatus",
    "Record",
    "Recovery",
    "Rule",
    "RuleFileError",
    "RuleSet",
    "Test",
    "Vaccination",
    "boundaries",
    "evaluate",
    "fits",
    "load_rules",
    "parse_rules",
    "shipped_rules",
    "window",
]

_RESOLUTION = dt.timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------
def _require_aware(field: str, value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidInput(field, "must be a timezone-aware datetime")


def _require_date(field: str, value: object) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(field, "must be a date (not a datetime)")


def _require_count(field: str, value: object) -> None:
    if type(value) is not int or value < 1:
        raise InvalidInput(field, "must be a whole number of at least 1")


@dataclass(frozen=True)
class Vaccination:
    """Dose ``dose`` of a series of ``doses_in_series`` (a booster has ``dose > doses_in_series``)."""

    date: dt.date
    dose: int
    doses_in_series: int
    product: str

    def __post_init__(self) -> None:
        _require_date("date", self.date)
        _require_count("dose", self.dose)
        _require_count("doses_in_series", self.doses_in_series)
        if not isinstance(self.product, str) or not self.product:
            raise InvalidInput("product", "must be a non-empty string")

    @property
    def series_complete(self) -> bool:
        return self.dose >= self.doses_in_series


@dataclass(frozen=True)
class Test:
    """A test whose sample was taken at the instant ``taken_at``."""

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    taken_at: dt.datetime
    method: Method
    result: Result

    def __post_init__(self) -> None:
        _require_aware("taken_at", self.taken_at)
        if self.method not in METHODS:
            raise InvalidInput("method", f"must be one of {', '.join(METHODS)}")
        if self.result not in RESULTS:
            raise InvalidInput("result", f"must be one of {', '.join(RESULTS)}")


@dataclass(frozen=True)
class Recovery:
    """Recovery from an infection, certified on a calendar day."""

    date: dt.date

    def __post_init__(self) -> None:
        _require_date("date", self.date)


Record = Vaccination | Test | Recovery
_KIND_OF: dict[type, RecordKind] = {Vaccination: "vaccination", Test: "test", Recovery: "recovery"}


# ---------------------------------------------------------------------------------------------------
# Conditions over time
# ---------------------------------------------------------------------------------------------------
def fits(condition: Condition, record: Record) -> bool:
    """The time-independent part of a condition: the record's kind and static fields."""
    if _KIND_OF[type(record)] != condition.record:
        return False
    if isinstance(record, Vaccination):
        return condition.series_complete is None or record.series_complete == condition.series_complete
    if isinstance(record, Test):
        return (condition.method is None or record.method == condition.method) and (
            condition.result is None or record.result == condition.result
        )
    return True


def window(
    condition: Condition, record: Record, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``[start, end)``: the instants at which ``condition`` holds by age for ``record``.

    A ``None`` start means never (the window lies beyond the calendar); a ``None`` end, forever.
    """
    if isinstance(record, Test):
        start = _shift(record.taken_at, condition.min_age)
        if condition.max_age is None:
            return start, None
        return start, _shift(record.taken_at, condition.max_age + _RESOLUTION)
    start = _local_midnight(record.date, condition.min_age.days, tz)
    if condition.max_age is None:
        return start, None
    return start, _local_midnight(record.date, condition.max_age.days + 1, tz)


def _holds(condition: Condition, record: Record, at: dt.datetime, tz: dt.tzinfo) -> bool:
    if not fits(condition, record):
        return False
    start, end = window(condition, record, tz)
    return start is not None and start <= at and (end is None or at < end)


def _shift(instant: dt.datetime, delta: dt.timedelta) -> dt.datetime | None:
    try:
        return instant + delta
    except OverflowError:
        return None


def _local_midnight(day: dt.date, plus_days: int, tz: dt.tzinfo) -> dt.datetime | None:
    """The instant the local day ``day + plus_days`` starts (``None`` beyond the calendar)."""
    try:
        shifted = day + dt.timedelta(days=plus_days)
    except OverflowError:
        return None
    return dt.datetime(shifted.year, shifted.month, shifted.day, tzinfo=tz)


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HealthStatus:
    """The colour, the stable reason code of the rule that gave it, and when the colour next changes."""

    colour: Colour
    reason: str
    valid_until: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        """The API's ``health_status`` object: ``valid_until`` as RFC 3339, or null."""
        return {
            "colour": self.colour,
            "reason": self.reason,
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }


def _first_rule(records: Sequence[Record], rules: RuleSet, at: dt.datetime) -> Rule:
    tz = rules.tz
    for rule in rules.rules:
        if rule.otherwise or any(_holds(c, r, at, tz) for c in rule.any_of for r in records):
            return rule
    raise AssertionError("a validated rule list ends with its fallback")  # pragma: no cover


def boundaries(records: Iterable[Record], rules: RuleSet, after: dt.datetime) -> list[dt.datetime]:
    """Every instant after ``after`` at which some condition starts or stops holding, in order."""
    tz = rules.tz
    held = tuple(records)
    found: set[dt.datetime] = set()
    for rule in rules.rules:
        for condition in rule.any_of:
            for record in held:
                if fits(condition, record):
                    start, end = window(condition, record, tz)
                    if start is not None:
                        found.update(t for t in (start, end) if t is not None and t > after)
    return sorted(found)


def evaluate(records: Iterable[Record], rules: RuleSet, now: dt.datetime) -> HealthStatus:
    """The status at the instant ``now`` of a person with ``records``, under ``rules``.

    The colour is constant between the boundaries of the conditions' windows, so the next change
    is found by evaluating at each boundary in time order: ``valid_until`` is the first one whose
    colour differs (in the rule file's time zone), or ``None`` when none does.
    """
    _require_aware("now", now)
    held = tuple(records)
    for index, record in enumerate(held):
        if type(record) not in _KIND_OF:
            raise InvalidInput(f"records[{index}]", f"not a health record: {type(record).__name__}")
    if not rules.rules:
        return HealthStatus("neutral", NO_RULES_REASON, None)
    rule = _first_rule(held, rules, now)
    for instant in boundaries(held, rules, now):
        if _first_rule(held, rules, instant).colour != rule.colour:
            return HealthStatus(rule.colour, rule.reason, _in_zone(instant, rules.tz))
    return HealthStatus(rule.colour, rule.reason, None)


def _in_zone(instant: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    try:
        return instant.astimezone(tz)
    except OverflowError:  # at the very end of the calendar: the same instant, in UTC
        return instant.astimezone(dt.UTC)
