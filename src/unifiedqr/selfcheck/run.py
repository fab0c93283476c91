"""Run the self-check's parts in order and gather one report (the CLI prints it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from unifiedqr.selfcheck.drills import DrillReport, run_drills
from unifiedqr.selfcheck.fuzz import TargetReport, run_fuzz
from unifiedqr.selfcheck.load import LoadReport, run_load
from unifiedqr.selfcheck.schema import SchemaReport, run_schema_checks
from unifiedqr.selfcheck.world import build_world


@dataclass(frozen=True)
class Budget:
    fuzz_examples: int = 2000
    schema_examples: int = 10
    load_seconds: float = 30.0
    drills: bool = True

    @classmethod
    def quick(cls) -> Budget:
        return cls(fuzz_examples=200, schema_examples=2, load_seconds=5.0)


@dataclass
class Report:
    fuzz: list[TargetReport] = field(default_factory=list)
    schema: SchemaReport | None = None
    drills: list[DrillReport] = field(default_factory=list)
    load: LoadReport | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not any(t.crashes for t in self.fuzz)
            and (self.schema is None or not self.schema.failures)
            and all(d.lost == 0 and d.duplicated == 0 for d in self.drills)
            and (self.load is None or self.load.errors == 0)
        )


def run_selfcheck(budget: Budget, say: Callable[[str], None] = lambda _: None) -> Report:
    started = time.monotonic()
    report = Report()
    say(f"fuzzing every parser ({budget.fuzz_examples} inputs each)")
    report.fuzz = run_fuzz(budget.fuzz_examples)
    world = build_world()
    try:
        from unifiedqr.api.app import create_app

        say(f"load: {budget.load_seconds:.0f} s of scans and code fetches")
        report.load = run_load(world, budget.load_seconds)
        # last: the schema-driven requests change the world (they log out, revoke keys...)
        say(f"schema-driven requests for every role ({budget.schema_examples} per operation and mode)")
        report.schema = run_schema_checks(create_app(world.ctx), world.credentials, budget.schema_examples)
    finally:
        world.close()
    if budget.drills:
        say("crash drills: kill -9 during registration, batch upload and key rotation")
        report.drills = run_drills()
    report.seconds = round(time.monotonic() - started, 1)
    return report
