"""``unifiedqr conformance``: assess an app's evidence, and sign or verify the public list.

``check`` is the assessor's command (fixed contract, issue 14): it always prints a findings document,
whatever the evidence holds, and exits 0 only when no finding is an error (1 otherwise; 2 for usage).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, read_json_file, write_text_atomic
from unifiedqr.codes.trust import SigningKey, TrustList, format_time, parse_time
from unifiedqr.errors import InvalidInput, KeyFileError

MAX_REPORT_BYTES = 64 * 1024 * 1024


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
    """Assess third-party apps against the spec; sign and verify the public list of approved apps."""


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


@conformance_group.command("publish")
@click.argument("reports", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The platform's signing key file.",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--previous",
    "previous_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The list published before: its apps are kept and the sequence continues.",
)
@click.option(
    "--trust",
    "trust_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust list to verify --previous with (default: the signing key alone).",
)
@click.option(
    "--withdraw",
    "withdrawals",
    multiple=True,
    metavar="VENDOR/NAME[/VERSION]",
    help="Take an app (one version, or all) off the list.",
)
@at_option
def publish_cmd(
    reports: tuple[Path, ...],
    key_path: Path,
    out_path: Path,
    previous_path: Path | None,
    trust_path: Path | None,
    withdrawals: tuple[str, ...],
    at_text: str | None,
) -> None:
    """Sign the public list: approved apps from passing REPORT.json files (conformance check --report)."""
    from unifiedqr.conformance.assessment import Assessment
    from unifiedqr.conformance.public_list import (
        MAX_LIST_BYTES,
        ListedApp,
        PublicList,
        sign_list,
        verify_list,
    )

    at = _time(at_text)
    key = SigningKey.from_bytes(read_json_file(key_path, "--key"))
    listed = PublicList(key.issuer, at, 1, ())
    if previous_path is not None:
        trust = (
            TrustList.from_bytes(read_json_file(trust_path, "--trust"))
            if trust_path
            else TrustList().with_key(key.public())
        )
        previous = json.loads(read_json_file(previous_path, "--previous", MAX_LIST_BYTES).decode("utf-8"))
        checked = verify_list(previous, trust, at)
        if checked.public_list is None:
            raise InvalidInput(
                "--previous", f"does not verify: {checked.status.value} {checked.verification.reason}"
            )
        listed = PublicList(key.issuer, at, checked.public_list.sequence + 1, checked.public_list.apps)
    for path in reports:
        try:
            record = Assessment.from_json(
                json.loads(read_json_file(path, "report", MAX_REPORT_BYTES).decode("utf-8"))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("report", f"{path} is not an assessment record ({exc})") from None
        listed = listed.with_app(ListedApp.from_assessment(record, at.date()))
    for item in withdrawals:
        parts = item.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise click.BadParameter("use VENDOR/NAME or VENDOR/NAME/VERSION", param_hint="--withdraw")
        listed = listed.without(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
    document = sign_list(listed, key, at)
    write_text_atomic(out_path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"wrote {out_path}: sequence {listed.sequence}, {len(listed.apps)} apps", err=True)
