"""Every parser that reads outside input, fuzzed: only its documented error, never a crash.

The same targets ``unifiedqr selfcheck`` runs with a larger budget (issue 10: fuzz targets for every
parser, seeded from real inputs).
"""

from __future__ import annotations

import pytest

from unifiedqr.selfcheck.fuzz import run_target, targets

TARGETS = {target.name: target for target in targets()}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_parser_never_crashes(name: str) -> None:
    report = run_target(TARGETS[name], examples=300)
    assert report.inputs >= 250, "too few inputs were tried to mean anything"
    assert report.crashes == []


def test_every_parser_is_a_target() -> None:
    assert set(TARGETS) >= {
        "personal payload",
        "CCCD QR",
        "venue code",
        "batch body",
        "time values",
        "health CSV import",
        "vaccine passport (HC1)",
    }
