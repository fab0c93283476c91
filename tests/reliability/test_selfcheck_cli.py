"""``unifiedqr selfcheck`` prints its figures and exits 0 when every promised zero is zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_selfcheck_prints_the_figures_as_json(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    command = [sys.executable, "-m", "unifiedqr", "selfcheck", "--json", "--no-drills"]
    command += ["--fuzz", "20", "--schema", "1", "--seconds", "1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert {t["name"] for t in report["fuzz"]} >= {"personal payload", "batch body"}
    assert all(t["inputs"] == 20 and t["crashes"] == [] for t in report["fuzz"])
    assert report["schema"]["operations"] >= 30 and report["schema"]["failures"] == []
    assert report["load"]["requests"] > 0 and report["load"]["errors"] == 0
    assert "schema-driven requests" in done.stderr  # progress goes to stderr
