"""``parse``, ``issue``, ``verify``, ``classify``: the code library from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_fields, emit_json, json_option, read_code_argument, read_json_file
from unifiedqr.codes.build import build
from unifiedqr.codes.classify import VENUE, classify
from unifiedqr.codes.display import display_birth_date, display_document, masked_variant
from unifiedqr.codes.payload import ExtForm, PersonalCode, decode_input, format_code, parse
from unifiedqr.codes.signing import Status, sign_code, verify_payload
from unifiedqr.codes.trust import SigningKey, TrustList, parse_time
from unifiedqr.codes.venue import verify_venue
from unifiedqr.errors import InvalidInput

CODE_ARG = click.argument("payload", metavar="PAYLOAD|-")


def code_to_json(code: PersonalCode) -> dict[str, Any]:
    """The contract keys of ``parse --json`` (values as written in the code; null when absent)."""
    gender = code.gender
    return {
        "kind": "personal",
        "document_number": code.document_number,
        "full_name": code.full_name,
        "birth_date": code.birth_date,
        "proxy_declared": code.proxy_declared,
        "qid": code.qid,
        "proxy_qid": code.proxy_qid,
        "gender": gender.label if gender is not None else None,
        "insurance_number": code.insurance_number,
        "phone": code.phone,
        "extra": list(code.extra),
        "signed": code.signed,
        "masked": code.masked,
    }


@click.command("parse")
@click.option("--lenient", is_flag=True, help="Accept codes of other platforms that bend the rules.")
@click.option("--full", is_flag=True, help="Show document number and birth date in full (human output).")
@json_option
@CODE_ARG
def parse_cmd(payload: str, lenient: bool, full: bool, as_json: bool) -> None:
    """Print the fields of a personal code (masked display mode unless --full)."""
    code = parse(read_code_argument(payload), lenient=lenient)
    if as_json:
        emit_json(code_to_json(code))
        return
    gender = code.gender
    emit_fields(
        [
            ("document", display_document(code, full)),
            ("name", code.full_name),
            ("birth date", display_birth_date(code, full)),
            ("declared", "on the person's behalf" if code.proxy_declared else "by the person"),
            ("QID", code.qid),
            ("proxy QID", code.proxy_qid),
            ("gender", gender.label if gender else None),
            ("BHYT", _mask_tail(code.insurance_number, full)),
            ("phone", _mask_tail(code.phone, full)),
            ("extra", " < ".join(code.extra) or None),
            ("signed", "yes" if code.signed else "no"),
            ("masked code", "yes" if code.masked else "no"),
        ]
    )


def _mask_tail(value: str | None, full: bool) -> str | None:
    if value is None or full:
        return value
    return "*" * (len(value) - 4) + value[-4:]


@click.command("issue")
@click.option("--document", required=True, help="ID document number (12 or 9 digits, or a passport).")
@click.option("--name", required=True, help="Full name, diacritics welcome (folded to the code's form).")
@click.option("--birth-date", required=True, help="dd/mm/yyyy or YYYY-MM-DD.")
@click.option(
    "--gender", type=click.Choice(["male", "female", "unknown"]), default="unknown", show_default=True
)
@click.option("--phone", default=None, help="10 digits starting with 0 (+84 accepted).")
@click.option("--insurance", default=None, help="Health-insurance (BHYT) card number.")
@click.option("--proxy-qid", default=None, help="QID of the person declaring on this person's behalf.")
@click.option("--qid", required=True, help="The person's QID (18 digits) from the national platform.")
@click.option(
    "--key", "key_path", type=click.Path(path_type=Path, dir_okay=False), help="Sign with this key file."
)
@click.option("--masked", is_flag=True, help="Write the masked 'safe QR' variant (no phone, no BHYT).")
@click.option("--field-form", is_flag=True, help="Write the 5-sub-field EXT form seen in real scans.")
@click.option("--at", "at_text", default=None, help="Signing time (RFC 3339; default now).")
@json_option
def issue_cmd(
    document: str,
    name: str,
    birth_date: str,
    gender: str,
    phone: str | None,
    insurance: str | None,
    proxy_qid: str | None,
    qid: str,
    key_path: Path | None,
    masked: bool,
    field_form: bool,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Print a personal code built from human input (names and dates as people type them)."""
    code = build(
        document_number=document,
        full_name=name,
        birth_date=birth_date,
        qid=qid,
        gender=gender,
        phone=phone,
        insurance_number=insurance,
        proxy_qid=proxy_qid,
        form=ExtForm.FIELD if field_form else ExtForm.GUIDANCE,
    )
    if masked:
        code = masked_variant(code)
    if key_path is not None:
        key = SigningKey.from_bytes(read_json_file(key_path, "key file"))
        at = parse_time(at_text, "--at") if at_text else dt.datetime.now(dt.UTC)
        code = sign_code(code, key, at)
    text = format_code(code)
    if as_json:
        emit_json({"payload": text, **code_to_json(code)})
    else:
        click.echo(text)


@click.command("verify")
@click.option("--trust", "trust_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--at", "at_text", default=None, help="Verification time (RFC 3339; default now).")
@json_option
@CODE_ARG
def verify_cmd(payload: str, trust_path: Path, at_text: str | None, as_json: bool) -> None:
    """Verify a personal or venue code offline against a trust list; exit 0 only when valid."""
    trust = TrustList.from_bytes(read_json_file(trust_path, "trust list"))
    at = parse_time(at_text, "--at") if at_text else dt.datetime.now(dt.UTC)
    raw = read_code_argument(payload)
    try:
        text = decode_input(raw)
    except InvalidInput:
        text = None
    kind = classify(text).kind if text is not None else "unknown"
    if kind == VENUE and text is not None:
        result = verify_venue(text, trust, at)
    else:
        result = verify_payload(raw, trust, at)
        kind = "personal" if result.status is not Status.MALFORMED else kind
    if as_json:
        emit_json(
            {
                "status": result.status.value,
                "kind": kind,
                "key_id": result.key_id,
                "issuer": result.issuer,
                "reason": result.reason or None,
                "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    else:
        issuer = f" (issuer {result.issuer}, key {result.key_id})" if result.issuer else ""
        reason = f": {result.reason}" if result.reason and not result.valid else ""
        click.echo(f"{result.status.value}{issuer}{reason}")
    if not result.valid:
        raise SystemExit(1)


@click.command("classify")
@json_option
@CODE_ARG
def classify_cmd(payload: str, as_json: bool) -> None:
    """Say what a scanned text is: personal, cccd, venue, eu_dcc or unknown."""
    raw = read_code_argument(payload, limit=256 * 1024)
    result = classify(raw)
    if as_json:
        emit_json(result.to_json())
    else:
        notes = [f"{k}={v}" for k, v in result.details.items() if k in ("masked", "signed", "valid")]
        click.echo(result.kind + (f" ({', '.join(notes)})" if notes else ""))
