"""Shared benchmark plumbing: timing loops, the results table and the JSON file every bench writes."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"


def rate(fn: Callable[[], Any], seconds: float, batch: int = 1) -> float:
    """Calls per second of ``fn`` (each call does ``batch`` operations), over about ``seconds``."""
    fn()  # warm up
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        fn()
        count += batch
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def paired_rates(
    ours: Callable[[], Any], raw: Callable[[], Any], seconds: float, batch: int, rounds: int = 7
) -> tuple[float, float]:
    """Best-of-rounds rates of ``ours`` and ``raw``, interleaved so drift and neighbours hit both alike."""
    best_ours = best_raw = 0.0
    for _ in range(rounds):
        best_raw = max(best_raw, rate(raw, seconds / rounds / 2, batch))
        best_ours = max(best_ours, rate(ours, seconds / rounds / 2, batch))
    return best_ours, best_raw


def row(metric: str, value: float, unit: str, baseline: float | None = None, **extra: Any) -> dict[str, Any]:
    ratio = round(value / baseline, 3) if baseline else None
    return {
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline and round(baseline, 3),
        "ratio": ratio,
        **extra,
    }


def report(name: str, rows: list[dict[str, Any]]) -> Path:
    """Print the table and write ``bench/results/<name>.json``."""
    width = max(len(r["metric"]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>12}  {'unit':<10}  {'baseline':>12}  {'ratio':>6}")
    for r in rows:
        base = "-" if r["baseline"] is None else f"{r['baseline']:.1f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['metric']:<{width}}  {r['value']:>12.1f}  {r['unit']:<10}  {base:>12}  {ratio:>6}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    meta = {"python": sys.version.split()[0], "machine": platform.machine()}
    path.write_text(json.dumps([{**r, **meta} for r in rows], indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return path


def open_services(url: str, data_dir: Path) -> Any:
    """A migrated database and its service container, and the host operator to act with."""
    from unifiedqr.config import Settings
    from unifiedqr.services.auth import host_operator
    from unifiedqr.services.context import Services
    from unifiedqr.store.db import upgrade

    settings = Settings.from_env(url, environ={"UNIFIEDQR_DATA_DIR": str(data_dir)})
    upgrade(settings.database_url)
    return Services(settings), host_operator("bench@localhost")
