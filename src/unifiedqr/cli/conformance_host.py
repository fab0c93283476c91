"""The assessor's host commands of ``unifiedqr conformance``, on the platform database.

``submit`` stores a ``report.json``; ``approve``, ``reject`` and ``withdraw`` record a decision with
its reasons (an approval or a withdrawal publishes the signed list again); ``assessments`` lists
them; ``list`` writes the signed public list exactly as ``GET /api/v1/conformance/apps`` serves it.
Like ``admin``, they run on the server's host with the host operator's authority (audited by name),
through :func:`unifiedqr.cli.platform.open_services`, which brings the schema up to date first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, read_json_file, write_text_atomic
from unifiedqr.cli.platform import DB_OPTION, open_services, operator
from unifiedqr.errors import InvalidInput
from unifiedqr.serialize import jsonable

REASON_OPTION = click.option(
    "--reason",
    "reasons",
    multiple=True,
    required=True,
    help="Why (repeat for several reasons); kept with the decision and shown to assessors.",
)


@contextmanager
def _services(database_url: str | None) -> Iterator[Any]:
    ctx = open_services(database_url)
    try:
        yield ctx
    finally:
        ctx.close()


def _line(view: Any) -> str:
    return (
        f"{view.assessment_id}\t{view.decision}\t{view.verdict}\t{view.vendor}\t{view.name}\t{view.version}"
    )


def _decided(view: Any, as_json: bool) -> None:
    if as_json:
        emit_json(jsonable(view))
        return
    click.echo(_line(view))
    for other in view.superseded:
        click.echo(f"{other}\tsuperseded (replaced on the list)")
    if view.list_sequence is not None:
        click.echo(f"public list published: sequence {view.list_sequence}", err=True)


@click.command("submit")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False, path_type=Path))
@DB_OPTION
@json_option
def submit_cmd(report_path: Path, database_url: str | None, as_json: bool) -> None:
    """Store an assessment (the report.json of conformance check --report) as pending; prints its id."""
    from unifiedqr.services import assessments

    raw = read_json_file(report_path, "report", assessments.MAX_RECORD_BYTES)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput("report", f"{report_path} is not UTF-8 JSON ({exc})") from None
    with _services(database_url) as ctx:
        done = assessments.submit_document(ctx, operator(), document)
    if as_json:
        emit_json(jsonable(done))
        return
    click.echo(_line(done))
    if not done.created:
        click.echo(f"{done.assessment_id} had been submitted already: nothing changed", err=True)


def _decision_command(name: str, decision: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("assessment_id")
    @REASON_OPTION
    @DB_OPTION
    @json_option
    def command(
        assessment_id: str, reasons: tuple[str, ...], database_url: str | None, as_json: bool
    ) -> None:
        from unifiedqr.services import assessments

        with _services(database_url) as ctx:
            chosen = assessments.Decision(decision, reasons)  # type: ignore[arg-type]
            done = assessments.decide(ctx, operator(), assessment_id, chosen)
        _decided(done, as_json)

    return command


approve_cmd = _decision_command(
    "approve",
    "approved",
    "Approve a passing assessment: the app version goes on the public list (replacing its older one).",
)
reject_cmd = _decision_command("reject", "rejected", "Reject a pending assessment (it stays off the list).")


@click.command("withdraw")
@click.argument("assessment_id")
@REASON_OPTION
@DB_OPTION
@json_option
def withdraw_cmd(
    assessment_id: str, reasons: tuple[str, ...], database_url: str | None, as_json: bool
) -> None:
    """Withdraw an approved app: it comes off the public list."""
    from unifiedqr.services import assessments

    with _services(database_url) as ctx:
        done = assessments.withdraw(ctx, operator(), assessment_id, assessments.Withdrawal(reasons))
    _decided(done, as_json)


@click.command("assessments")
@click.option(
    "--decision",
    type=click.Choice(["pending", "approved", "rejected", "withdrawn", "superseded"]),
    help="Only the assessments in this state.",
)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 1000))
@DB_OPTION
@json_option
def assessments_cmd(decision: str | None, limit: int, database_url: str | None, as_json: bool) -> None:
    """The assessments, newest first: id, decision, verdict, vendor, name, version."""
    from unifiedqr.services import assessments

    with _services(database_url) as ctx:
        found = assessments.list_assessments(ctx, operator(), decision, limit)
    if as_json:
        emit_json({"assessments": jsonable(found)})
        return
    for view in found:
        click.echo(_line(view))


@click.command("list")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the list here (default: standard output).",
)
@DB_OPTION
def list_cmd(out_path: Path | None, database_url: str | None) -> None:
    """The signed public list of approved apps, exactly as GET /api/v1/conformance/apps serves it."""
    from unifiedqr.services import conformance_list

    with _services(database_url) as ctx:
        published = conformance_list.current(ctx)
    if out_path is None:
        click.echo(published.document, nl=False)
        return
    write_text_atomic(out_path, published.document)
    click.echo(f"wrote {out_path}: sequence {published.sequence}, {published.apps} apps", err=True)


HOST_COMMANDS: tuple[click.Command, ...] = (
    submit_cmd,
    approve_cmd,
    reject_cmd,
    withdraw_cmd,
    assessments_cmd,
    list_cmd,
)
