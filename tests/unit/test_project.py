"""The README's promises: the two set-up commands exist and CI runs exactly the test command."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_has_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = re.search(r"^(.+?)\s+# 1\. run the platform", readme, re.M)
    test = re.search(r"^(.+?)\s+# 2\. run the tests$", readme, re.M)
    assert run and "unifiedqr demo" in run[1]
    assert test and "pytest" in test[1]


def test_ci_reads_its_test_command_from_the_readme() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in script and "# 2\\. run the tests" in script
    extracted = subprocess.run(
        [
            "bash",
            "-c",
            "grep -E '# 2\\. run the tests$' README.md | head -n1 | sed -E 's/[[:space:]]+# 2\\. run the tests$//'",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extracted.endswith("python -m pytest")


def test_every_benchmark_has_a_quick_mode() -> None:
    # A benchmark is a script (it has a __main__ block); shared modules (bench/support/) are not.
    scripts = [b for b in (ROOT / "bench").glob("*.py") if "__main__" in b.read_text(encoding="utf-8")]
    assert scripts
    for bench in scripts:
        assert "--quick" in bench.read_text(encoding="utf-8"), bench.name
