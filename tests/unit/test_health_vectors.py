"""The colour rule vectors shipped beside each rule file, and the shipped default pinned number by number."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from unifiedqr.services import health_rule_file
from unifiedqr.services.health_records import parse_instant, record_from_json
from unifiedqr.services.health_rule_file import Condition, Rule, RuleSet
from unifiedqr.services.health_status import DEFAULT_RULES, evaluate, load_rules, shipped_rules

RULE_DIR = Path(health_rule_file.__file__).parent / "health_rules"
VECTOR_FILES = sorted(RULE_DIR.glob("*.vectors.json"))
DOCUMENTS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in VECTOR_FILES}
CASES = [(doc["rules"], case) for doc in DOCUMENTS.values() for case in doc["cases"]]


@pytest.mark.parametrize(("rules_name", "case"), CASES, ids=[f"{r}:{c['name']}" for r, c in CASES])
def test_vector(rules_name: str, case: dict[str, Any]) -> None:
    rules = load_rules(rules_name)
    now = parse_instant("now", case["now"], None)
    records = [record_from_json(body, None) for body in case["records"]]
    status = evaluate(records, rules, now)
    assert status.to_json() == case["expect"], case["note"]
    assert evaluate(list(reversed(records)), rules, now) == status  # record order never matters


def test_every_shipped_rule_file_has_vectors_and_they_name_it() -> None:
    assert DEFAULT_RULES in shipped_rules()
    assert sorted(doc["rules"] for doc in DOCUMENTS.values()) == shipped_rules()
    for name, doc in DOCUMENTS.items():
        assert name == f"{doc['rules']}.vectors.json"
        assert set(doc) == {"rules", "description", "cases"}
        names = [case["name"] for case in doc["cases"]]
        assert len(names) == len(set(names)), name
        for case in doc["cases"]:
            assert set(case) == {"name", "note", "now", "records", "expect"}, case["name"]


def test_vectors_reach_every_reason_and_colour_of_their_rule_file() -> None:
    for doc in DOCUMENTS.values():
        rules = load_rules(doc["rules"])
        expected = {case["expect"]["reason"] for case in doc["cases"]}
        assert expected == set(rules.reasons), doc["rules"]
        colours = {rule.colour for rule in rules.rules} or {"neutral"}
        assert {case["expect"]["colour"] for case in doc["cases"]} == colours


def test_default_vectors_pin_each_named_edge() -> None:
    names = {case["name"] for case in DOCUMENTS[f"{DEFAULT_RULES}.vectors.json"]["cases"]}
    for edge in (
        "full_2_of_2_exactly_14_days",
        "full_2_of_2_13_days",
        "negative_pcr_exactly_72h",
        "negative_pcr_72h_plus_1s",
        "positive_pcr_exactly_10_days",
        "positive_pcr_10_days_plus_1s",
        "recovery_180_days",
        "recovery_181_days",
        "dose_1_of_2_exactly_14_days",
        "booster_3_of_2_14_days",
        "single_dose_1_of_1_14_days",
        "positive_rapid_antigen_overrides_full_vaccination",
        "negative_rapid_antigen_not_yellow",
        "midnight_in_vietnam_counts_not_utc",
        "one_microsecond_before_vietnam_midnight",
        "no_records",
        "future_positive_test",
        "future_vaccination",
        "future_recovery",
    ):
        assert edge in names


def test_shipped_default_is_exactly_issue_11() -> None:
    days, hours = dt.timedelta(days=1), dt.timedelta(hours=1)
    assert load_rules(DEFAULT_RULES) == RuleSet(
        name="khanh-hoa-2021-10",
        province="Khánh Hòa",
        utc_offset=7 * hours,
        rules=(
            Rule(
                "red",
                "positive_test_in_isolation",
                (Condition("test", max_age=10 * days, result="positive"),),
            ),
            Rule(
                "green",
                "fully_vaccinated",
                (Condition("vaccination", min_age=14 * days, series_complete=True),),
            ),
            Rule("green", "recovered", (Condition("recovery", max_age=180 * days),)),
            Rule("yellow", "partially_vaccinated", (Condition("vaccination", min_age=14 * days),)),
            Rule(
                "yellow",
                "negative_pcr_72h",
                (Condition("test", max_age=72 * hours, method="pcr", result="negative"),),
            ),
            Rule("red", "no_qualifying_record"),
        ),
        description=load_rules(DEFAULT_RULES).description,
    )


def test_province_without_rules_is_neutral() -> None:
    rules = load_rules("none")
    assert rules.rules == ()
    assert rules.reasons == ("no_rules",)
