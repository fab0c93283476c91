"""Rules as configuration: a JSON file of rules over the built-in ones, checked key by key."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.support import test_settings
from unifiedqr.config import TracingSettings
from unifiedqr.errors import ConfigError
from unifiedqr.services.tracing_config import _rules_from, rule_config, rule_from_config
from unifiedqr.services.tracing_rules import NATIONAL, OVERLAP
from unifiedqr.services.visits import VisitRules


def write(tmp_path, data) -> object:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data))
    return path


def test_a_rules_file_adds_named_rules_over_a_base(tmp_path):
    path = write(
        tmp_path,
        {
            "rules": [
                {"name": "strict", "base": "overlap", "min_overlap_minutes": 15},
                {"name": "wards", "venue_weights": {"hospital": 5}},
            ]
        },
    )
    rules = _rules_from(path)
    assert rules["strict"].method == "visits" and rules["strict"].min_overlap_minutes == 15
    assert rules["wards"].method == "scans" and rules["wards"].weight("hospital") == 5
    assert rules["national"] is NATIONAL and rules["overlap"] is OVERLAP


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "national", "distance_minutes": 90},  # the contract cannot be redefined
        {"name": "x", "base": "nope"},
        {"name": "x", "distance_minutes": -1},
        {"name": "x", "colour": "red"},
    ],
)
def test_a_bad_rules_file_names_the_problem(tmp_path, entry):
    with pytest.raises(ConfigError) as caught:
        _rules_from(write(tmp_path, {"rules": [entry]}))
    assert "rules.json" in caught.value.field


def test_the_setting_is_read_from_the_environment(tmp_path):
    settings = test_settings("sqlite://", tmp_path, tracing=TracingSettings())
    assert settings.tracing.rules_file is None and settings.tracing.max_window_days == 0
    from unifiedqr.config import Settings

    env = {"UNIFIEDQR_DATA_DIR": str(tmp_path), "UNIFIEDQR_TRACING_RULES": str(tmp_path / "r.json")}
    assert Settings.from_env("sqlite://", environ=env).tracing.rules_file == tmp_path / "r.json"


def test_a_case_keeps_its_rule_as_it_stood(tmp_path):
    stored = rule_config(replace(OVERLAP, min_overlap_minutes=20))
    again = rule_from_config(stored, VisitRules(utc_offset_minutes=420))
    assert again.min_overlap_minutes == 20 and again.name == "overlap"
    assert rule_from_config(stored, VisitRules(utc_offset_minutes=0)).visit_rules.utc_offset_minutes == 0


def test_an_operator_may_bound_the_window(ctx, tw):
    from tests.tracing.tracing_helpers import local, rfc

    bounded = replace(ctx.settings, tracing=TracingSettings(max_window_days=30))
    original = ctx.settings
    ctx.settings = bounded
    try:
        body = {"qid": tw.person()["qid"], "window_start": rfc(local(40, 0)), "window_end": rfc(local(1, 0))}
        response = tw.official.raw("POST", "/tracing/cases", json=body)
        assert response.status_code == 422 and response.json()["field"] == "window_end"
    finally:
        ctx.settings = original
