"""The crash drill of a key rotation: ``admin reissue`` killed mid-way and run again loses no code.

(The registration and batch-upload drills run in the platform and venue tests on both databases.)
"""

from __future__ import annotations

import pytest

from tests.support import test_settings
from unifiedqr.selfcheck.drills import rotation_drill
from unifiedqr.selfcheck.world import build_world


@pytest.mark.slow
def test_a_rotation_interrupted_by_kill_9_leaves_every_code_valid(tmp_path) -> None:
    world = build_world(test_settings(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path / "s"))
    try:
        report = rotation_drill(world, people=1200)
    finally:
        world.close()
    assert report.acknowledged == 1201 and report.lost == 0 and report.duplicated == 0
