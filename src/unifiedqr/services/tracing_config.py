"""Tracing rules as configuration: ``national`` and ``overlap`` built in, more from a JSON file.

Definitions changed repeatedly during the epidemic (by late 2021 brief co-presence no longer made
someone an F1), so a province or a later guideline adds a rule by name instead of editing code::

    {"rules": [{"name": "strict", "base": "overlap", "min_overlap_minutes": 15},
               {"name": "hospital-first", "base": "national", "venue_weights": {"hospital": 5}}]}

``UNIFIEDQR_TRACING_RULES`` names the file (read once per process). Each entry is
:meth:`TracingRule.from_mapping` over its ``base`` (default ``national``): unknown keys and bad values
are refused with the key named, and the built-in names cannot be redefined (``national`` is the
contract). A case stores its rule as it stood when opened (:func:`rule_config`), so changing the
file never changes an open case's answers.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from unifiedqr.errors import ConfigError, InvalidInput
from unifiedqr.services.context import Services
from unifiedqr.services.tracing_rules import RULES, TracingRule
from unifiedqr.services.visits import VisitRules

MAX_FILE_BYTES = 1 << 20


def available_rules(ctx: Services) -> Mapping[str, TracingRule]:
    """The built-in rules and the configured file's, by name."""
    return _rules_from(ctx.settings.tracing.rules_file)


@functools.lru_cache(maxsize=8)
def _rules_from(path: Path | None) -> Mapping[str, TracingRule]:
    rules = dict(RULES)
    if path is None:
        return rules
    where = str(path)
    try:
        data = json.loads(path.read_bytes()[:MAX_FILE_BYTES])
    except (OSError, ValueError) as exc:
        raise ConfigError(where, f"cannot read the tracing rules ({exc})") from None
    entries = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(where, 'must be {"rules": [{"name": ..., "base": ..., ...}]}')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(where, f"rules[{index}] must be an object")
        settings = {k: v for k, v in entry.items() if k != "base"}
        base = rules.get(str(entry.get("base", "national")))
        name = settings.get("name")
        if base is None or name in RULES or name in rules:
            raise ConfigError(where, f"rules[{index}]: an unknown base or a name already taken")
        try:
            rules[str(name)] = TracingRule.from_mapping(settings, base=base)
        except InvalidInput as exc:
            raise ConfigError(where, f"rules[{index}].{exc.field}: {exc.reason}") from None
    return rules


def rule_config(rule: TracingRule) -> str:
    """The rule's settings as JSON (everything but the visit rules, which are the server's)."""
    values: dict[str, Any] = {
        f.name: getattr(rule, f.name) for f in dataclasses.fields(rule) if f.name != "visit_rules"
    }
    values["venue_weights"] = dict(sorted(rule.venue_weights.items()))
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> TracingRule:
    return TracingRule.from_mapping(json.loads(text))


def rule_from_config(text: str, visit_rules: VisitRules) -> TracingRule:
    """A stored case's rule, with the server's visit rules (offset, default stays)."""
    rule = _parse(text)
    return rule if rule.visit_rules == visit_rules else dataclasses.replace(rule, visit_rules=visit_rules)
