"""``unifiedqr conformance``: assess an app's evidence, decide on it, and serve or verify the public list.

``check`` is the assessor's command (fixed contract, issue 14): it always prints a findings document,
whatever the evidence holds, and exits 0 only when no finding is an error (1 otherwise; 2 for usage).
``verify-list`` is what a mirror runs on its copy of the list. The decisions (``submit``, ``approve``,
``reject``, ``withdraw``, ``assessments``, ``list``) are host commands on the platform database
(:mod:`unifiedqr.cli.conformance_host`): the platform signs the list, with its issuing key, and is
the one publisher (phase 1's file-based ``publish`` is gone; see docs/conformance.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, read_json_file
from unifiedqr.codes.trust import TrustList, format_time, parse_time
from unifiedqr.errors import InvalidInput, KeyFileError


def _time(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        return parse_time(value, "--at")
    except KeyFileError as exc:
        raise click.BadParameter(exc.reason, param_hint="--at") from None


at_option = click.option(
    "--at", "at_text", metavar="TIME", help="Judge as of this RFC 3339 time (default: now)."
)


@click.group("conformance")
def conformance_group() -> None:
    """Assess third-party apps against the spec; decide on them; serve and verify the public list."""


@conformance_group.command("check")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust list of the issuing keys (unifiedqr trust export).",
)
@json_option
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.json, report.html and report.pdf (annotated evidence) here.",
)
@click.option("--no-live", is_flag=True, help="Skip the live integration checks even with an account.json.")
@at_option
@click.pass_context
def check_cmd(
    ctx: click.Context,
    folder: Path,
    trust_path: Path,
    as_json: bool,
    report_dir: Path | None,
    no_live: bool,
    at_text: str | None,
) -> None:
    """Assess the evidence FOLDER (default.png, full.png, app.json[, account.json])."""
    from unifiedqr.conformance import check_folder, load_trust

    at = _time(at_text)
    trust, problem = load_trust(trust_path)
    assessment, evidence = check_folder(
        folder, trust, at, live=not no_live, extra_findings=[problem] if problem else []
    )
    if as_json:
        emit_json(assessment.findings_document())
    else:
        for item in assessment.findings:
            click.echo(item.line())
        app = assessment.app
        name = f"{app.name} {app.version}" if app else str(folder)
        click.echo(f"verdict: {assessment.verdict} ({name})")
    if report_dir is not None:
        from unifiedqr.conformance.reports import write_reports

        images = {name: screen.image for name, screen in evidence.screens.items()}
        for path in write_reports(assessment, images, report_dir):
            click.echo(f"wrote {path}", err=True)
    ctx.exit(0 if assessment.passed else 1)


@conformance_group.command("verify-list")
@click.argument("list_path", metavar="LIST.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--trust", "trust_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@at_option
@click.pass_context
def verify_list_cmd(
    ctx: click.Context, list_path: Path, trust_path: Path, as_json: bool, at_text: str | None
) -> None:
    """Verify a copy of the public list offline: exit 0 only when its signature is valid."""
    from unifiedqr.conformance.public_list import MAX_LIST_BYTES, verify_list

    trust = TrustList.from_bytes(read_json_file(trust_path, "--trust"))
    raw = read_json_file(list_path, "list", MAX_LIST_BYTES)
    try:
        document: Any = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("list", f"{list_path} is not UTF-8 JSON ({exc})") from None
    result = verify_list(document, trust, _time(at_text))
    outcome = result.verification
    listed = result.public_list
    if as_json:
        emit_json(
            {
                "status": outcome.status.value,
                "key_id": outcome.key_id,
                "issuer": outcome.issuer,
                "reason": outcome.reason,
                "list": listed.body() if listed else None,
            }
        )
    elif listed is not None:
        click.echo(
            f"valid: signed by {outcome.issuer} (key {outcome.key_id}), issued "
            f"{format_time(listed.issued_at)}, sequence {listed.sequence}, {len(listed.apps)} apps"
        )
        for app in sorted(listed.apps, key=lambda a: a.key):
            click.echo(
                f"  {app.vendor}\t{app.name}\t{app.version}\tapproved {app.date}\t{app.report.get('verdict')}"
            )
    else:
        click.echo(f"{outcome.status.value}: {outcome.reason}".rstrip(": "))
    ctx.exit(0 if result.valid else 1)


def _add_host_commands() -> None:
    """submit, approve, reject, withdraw, assessments, list: the decisions, on the platform database."""
    from unifiedqr.cli.conformance_host import HOST_COMMANDS

    for command in HOST_COMMANDS:
        conformance_group.add_command(command)


_add_host_commands()
