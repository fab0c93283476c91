"""``unifiedqr selfcheck``: run the bounded reliability suite and print its figures."""

from __future__ import annotations

import click

from unifiedqr.cli.common import emit_json, json_option


@click.command("selfcheck")
@click.option("--quick", is_flag=True, help="A smaller budget (about a minute).")
@click.option(
    "--fuzz", "fuzz_examples", type=click.IntRange(1, 10**6), default=None, help="Inputs per fuzz target."
)
@click.option(
    "--schema",
    "schema_examples",
    type=click.IntRange(1, 1000),
    default=None,
    help="Requests per operation, role and mode.",
)
@click.option("--seconds", type=click.FloatRange(1, 3600), default=None, help="Length of the load run.")
@click.option("--no-drills", is_flag=True, help="Skip the kill -9 drills.")
@json_option
def selfcheck_cmd(
    quick: bool,
    fuzz_examples: int | None,
    schema_examples: int | None,
    seconds: float | None,
    no_drills: bool,
    as_json: bool,
) -> None:
    """Fuzz the parsers, send schema-driven requests as every role, crash-drill and load a throwaway
    platform; print the figures. Exit 0 only when every promised zero is zero."""
    import importlib.util
    from dataclasses import replace

    from unifiedqr.errors import ConfigError
    from unifiedqr.selfcheck.run import Budget, run_selfcheck

    missing = [name for name in ("hypothesis", "schemathesis") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError("selfcheck", f"needs {', '.join(missing)}: pip install 'unifiedqr[selfcheck]'")
    from unifiedqr.serialize import jsonable

    budget = Budget.quick() if quick else Budget()
    budget = replace(
        budget,
        fuzz_examples=fuzz_examples or budget.fuzz_examples,
        schema_examples=schema_examples or budget.schema_examples,
        load_seconds=seconds or budget.load_seconds,
        drills=not no_drills,
    )
    report = run_selfcheck(budget, lambda line: click.echo(line, err=True))
    if as_json:
        emit_json({**jsonable(report), "ok": report.ok})
    else:
        _print(report)
    if not report.ok:
        raise SystemExit(1)


def _print(report: object) -> None:
    from unifiedqr.selfcheck.run import Report

    assert isinstance(report, Report)
    echo = click.echo
    echo("fuzzing (inputs, crashes):")
    for target in report.fuzz:
        echo(f"  {target.name:<24} {target.inputs:>7}  {len(target.crashes)}")
        for crash in target.crashes[:3]:
            echo(f"    {crash}")
    if report.schema is not None:
        schema = report.schema
        echo(f"schema-driven: {schema.operations} operations, {schema.calls} calls,", nl=False)
        echo(f" {len(schema.failures)} failures")
        for failure in schema.failures[:10]:
            echo(f"  {failure.role:<16} {failure.operation}: {failure.detail}")
    echo("drills (acknowledged, stored, lost, duplicated):")
    for drill in report.drills:
        counts = f"{drill.acknowledged:>6} {drill.stored:>6} {drill.lost:>4} {drill.duplicated:>4}"
        echo(f"  {drill.name:<14} {counts}")
    if report.load is not None:
        load = report.load
        echo(
            f"load: {load.requests_per_second} requests/s for {load.seconds} s, {load.errors} errors,"
            f" p50 {load.p50_ms} ms, p99 {load.p99_ms} ms"
        )
    echo(f"{'ok' if report.ok else 'FAILED'} in {report.seconds} s")
