"""Rule files are validated strictly on load: every refusal names the file and the JSON path of the key."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unifiedqr.errors import InvalidInput
from unifiedqr.services import health_rule_file
from unifiedqr.services.health_rule_file import (
    MAX_RULE_FILE_BYTES,
    RuleFileError,
    load_rules,
    parse_rules,
    parse_rules_bytes,
)
from unifiedqr.services.health_status import DEFAULT_RULES, Vaccination, evaluate

SHIPPED = Path(health_rule_file.__file__).parent / "health_rules" / f"{DEFAULT_RULES}.json"
DEFAULT = json.loads(SHIPPED.read_text(encoding="utf-8"))
NOW = dt.datetime(2021, 10, 20, 10, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT)
    change(document)
    return document


def condition(rule: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["rules"][rule]["any_of"][0]


REFUSED: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("unknown_top_level_key", lambda d: d.update(colours=[]), "colours", "unknown key"),
    ("missing_rules", lambda d: d.pop("rules"), "rules", "required"),
    ("missing_offset", lambda d: d.pop("utc_offset"), "utc_offset", "required"),
    ("wrong_format", lambda d: d.update(format="rules"), "format", "must be"),
    ("version_as_text", lambda d: d.update(version="1"), "version", "must be 1"),
    ("version_as_bool", lambda d: d.update(version=True), "version", "must be 1"),
    ("version_2", lambda d: d.update(version=2), "version", "must be 1"),
    ("empty_province", lambda d: d.update(province=" "), "province", "non-empty string"),
    ("description_not_text", lambda d: d.update(description=5), "description", "non-empty string"),
    ("offset_without_minutes", lambda d: d.update(utc_offset="+7"), "utc_offset", "offset from UTC"),
    ("offset_as_number", lambda d: d.update(utc_offset=7), "utc_offset", "offset from UTC"),
    ("offset_60_minutes", lambda d: d.update(utc_offset="+07:60"), "utc_offset", "offset from UTC"),
    ("offset_beyond_14h", lambda d: d.update(utc_offset="+15:00"), "utc_offset", "between"),
    ("rules_not_a_list", lambda d: d.update(rules={}), "rules", "must be a list"),
    ("rule_not_an_object", lambda d: d["rules"].insert(0, "red"), "rules[0]", "JSON object"),
    ("unknown_rule_key", lambda d: d["rules"][0].update(color="red"), "rules[0].color", "unknown key"),
    ("neutral_is_not_a_rule_colour", lambda d: d["rules"][0].update(colour="neutral"), "rules[0].colour", "one of"),
    ("colour_upper_case", lambda d: d["rules"][0].update(colour="Red"), "rules[0].colour", "one of"),
    ("reason_upper_case", lambda d: d["rules"][0].update(reason="Positive"), "rules[0].reason", "lower-case"),
    ("reason_reserved", lambda d: d["rules"][0].update(reason="no_rules"), "rules[0].reason", "no_rules"),
    ("reason_missing", lambda d: d["rules"][0].pop("reason"), "rules[0].reason", "required"),
    ("duplicate_reason", lambda d: d["rules"][3].update(reason="recovered"), "rules[3].reason", "already"),
    ("any_of_and_otherwise", lambda d: d["rules"][0].update(otherwise=True), "rules[0]", "exactly one"),
    ("neither_any_of_nor_otherwise", lambda d: d["rules"][5].pop("otherwise"), "rules[5]", "exactly one"),
    ("otherwise_false", lambda d: d["rules"][5].update(otherwise=False), "rules[5].otherwise", "must be true"),
    ("empty_any_of", lambda d: d["rules"][0].update(any_of=[]), "rules[0].any_of", "1 to"),
    ("any_of_not_a_list", lambda d: d["rules"][0].update(any_of={}), "rules[0].any_of", "1 to"),
    ("condition_not_an_object", lambda d: d["rules"][0].update(any_of=["test"]), "rules[0].any_of[0]", "object"),
    ("condition_without_record", lambda d: condition(0)(d).pop("record"), "rules[0].any_of[0].record", "required"),
    ("unknown_record", lambda d: condition(0)(d).update(record="tests"), "rules[0].any_of[0].record", "one of"),
    ("unknown_condition_key", lambda d: condition(0)(d).update(methods=["pcr"]), "rules[0].any_of[0].methods", "unknown"),
    ("method_on_a_vaccination", lambda d: condition(1)(d).update(method="pcr"), "rules[1].any_of[0].method", "unknown"),
    ("series_on_a_test", lambda d: condition(0)(d).update(series_complete=True), "rules[0].any_of[0].series_complete", "unknown"),
    ("bad_method", lambda d: condition(4)(d).update(method="PCR"), "rules[4].any_of[0].method", "one of"),
    ("bad_result", lambda d: condition(4)(d).update(result="negatif"), "rules[4].any_of[0].result", "one of"),
    ("series_not_bool", lambda d: condition(1)(d).update(series_complete="yes"), "rules[1].any_of[0].series_complete", "true or false"),
    ("series_null", lambda d: condition(1)(d).update(series_complete=None), "rules[1].any_of[0].series_complete", "true or false"),
    ("days_as_text", lambda d: condition(0)(d).update(max_age={"days": "10"}), "rules[0].any_of[0].max_age.days", "whole number"),
    ("days_as_bool", lambda d: condition(0)(d).update(max_age={"days": True}), "rules[0].any_of[0].max_age.days", "whole number"),
    ("days_as_float", lambda d: condition(0)(d).update(max_age={"days": 10.0}), "rules[0].any_of[0].max_age.days", "whole number"),
    ("negative_days", lambda d: condition(0)(d).update(max_age={"days": -1}), "rules[0].any_of[0].max_age.days", "at least 0"),
    ("empty_duration", lambda d: condition(0)(d).update(max_age={}), "rules[0].any_of[0].max_age", "at least one"),
    ("duration_as_number", lambda d: condition(0)(d).update(max_age=10), "rules[0].any_of[0].max_age", "JSON object"),
    ("unknown_unit", lambda d: condition(0)(d).update(max_age={"weeks": 2}), "rules[0].any_of[0].max_age.weeks", "unknown key"),
    ("hours_on_a_dated_record", lambda d: condition(2)(d).update(max_age={"hours": 12}), "rules[2].any_of[0].max_age.hours", "whole days"),
    ("too_long", lambda d: condition(2)(d).update(max_age={"days": 40000}), "rules[2].any_of[0].max_age", "at most"),
    ("inverted_window", lambda d: condition(2)(d).update(min_age={"days": 200}), "rules[2].any_of[0].max_age", "less than min_age"),
    ("fallback_not_last", lambda d: d["rules"].insert(2, {"colour": "red", "reason": "early", "otherwise": True}), "rules[2].otherwise", "only the last"),
    ("no_fallback", lambda d: d["rules"].pop(), "rules[4]", "fallback"),
    ("too_many_rules", lambda d: d.update(rules=[{"colour": "red", "reason": f"r{i}", "otherwise": True} for i in range(65)]), "rules", "at most"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(change: Callable[[dict[str, Any]], object], field: str, reason: str) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rules(changed(change), "test-rules")
    assert info.value.field == field
    assert reason in info.value.reason
    assert str(info.value) == f"test-rules.json: {field}: {info.value.reason}"
    assert isinstance(info.value, InvalidInput) and isinstance(info.value, ValueError)


def test_document_must_be_an_object() -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rules([], "x")
    assert info.value.field == "(document)"


def test_duplicate_keys_are_refused() -> None:
    text = json.dumps(DEFAULT).replace(
        '"utc_offset": "+07:00"', '"utc_offset": "+07:00", "utc_offset": "+00:00"'
    )
    with pytest.raises(RuleFileError) as info:
        parse_rules_bytes(text.encode(), "x")
    assert (info.value.field, info.value.reason) == ("utc_offset", "appears twice in one object")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{", "not JSON"),
        (b"\xff{}", "not UTF-8"),
        (b" " * (MAX_RULE_FILE_BYTES + 1), "larger than"),
    ],
    ids=["not_json", "not_utf8", "too_large"],
)
def test_unreadable_files(data: bytes, reason: str) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rules_bytes(data, "x")
    assert info.value.field == "file"
    assert info.value.reason.startswith(reason)


def test_a_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "da-nang-2022-01.json"
    path.write_text(json.dumps(changed(lambda d: d.update(province="Đà Nẵng"))), encoding="utf-8")
    rules = load_rules(path)
    assert (rules.name, rules.province) == ("da-nang-2022-01", "Đà Nẵng")
    assert load_rules(str(path)) == rules
    assert rules.rules == load_rules(DEFAULT_RULES).rules


def test_a_bad_file_by_path_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(changed(lambda d: d.update(utc_offset="UTC+7"))), encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_rules(path)
    assert info.value.source == str(path)
    assert str(info.value).startswith(f"{path}: utc_offset: ")


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path / "missing.json")
    assert info.value.field == "file"


def test_an_unknown_shipped_name_lists_the_shipped_ones() -> None:
    with pytest.raises(RuleFileError) as info:
        load_rules("ha-noi-2021-10")
    assert info.value.field == "name"
    assert DEFAULT_RULES in info.value.reason and "none" in info.value.reason


def test_a_province_with_no_rules_is_neutral_for_everyone() -> None:
    rules = parse_rules(changed(lambda d: d.update(rules=[])), "empty")
    status = evaluate([Vaccination(dt.date(2021, 1, 1), 2, 2, "Comirnaty")], rules, NOW)
    assert (status.colour, status.reason, status.valid_until) == ("neutral", "no_rules", None)


def test_only_a_fallback_is_allowed() -> None:
    rules = parse_rules(
        changed(lambda d: d.update(rules=[{"colour": "yellow", "reason": "everyone", "otherwise": True}])),
        "x",
    )
    assert evaluate([], rules, NOW).to_json() == {
        "colour": "yellow",
        "reason": "everyone",
        "valid_until": None,
    }


def test_another_zone_moves_the_day_boundaries() -> None:
    rules = parse_rules(changed(lambda d: d.update(utc_offset="-05:00")), "x")
    shot = [Vaccination(dt.date(2021, 10, 7), 2, 2, "Comirnaty")]
    # 10:00 in Vietnam on 2021-10-20 is 22:00 on 2021-10-19 at -05:00: day 12, green from 2021-10-21 00:00 -05:00.
    status = evaluate(shot, rules, NOW)
    assert status.colour == "red"
    assert status.valid_until is not None and status.valid_until.isoformat() == "2021-10-21T00:00:00-05:00"
