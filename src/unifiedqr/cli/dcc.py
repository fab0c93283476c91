"""``unifiedqr dcc verify``: an EU Digital COVID Certificate (HC1) verified offline.

``--trust CERTS`` names the signer (DSC) certificates, in one of three forms:

- a folder: every ``*.pem``, ``*.crt``, ``*.cer`` and ``*.der`` file in it (not recursing); a PEM
  file may hold several certificates, any other file is one DER certificate;
- a ``*.json`` file: a JSON list of base64 strings, each the DER of one certificate (the form the
  public test data and most national trust-list exports use for a certificate);
- a single PEM or DER certificate file.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, read_code_argument
from unifiedqr.errors import InvalidInput

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
#: A trust folder or file larger than this is refused (a full EU trust list is ~1 MB of PEM).
MAX_TRUST_BYTES = 16 * 1024 * 1024


def _read(path: Path, budget: list[int]) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(budget[0] + 1)
    budget[0] -= len(data)
    if budget[0] < 0:
        raise InvalidInput("--trust", f"more than {MAX_TRUST_BYTES} bytes of certificates")
    return data


def _certificates_in_file(path: Path, budget: list[int]) -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = _read(path, budget)
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InvalidInput("--trust", f"{path} holds no readable X.509 certificate") from None
    return [cert.public_bytes(Encoding.DER) for cert in certs]


def _certificates_in_json(path: Path, budget: list[int]) -> list[bytes]:
    try:
        items = json.loads(_read(path, budget))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("--trust", f"{path} is not JSON ({exc})") from None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidInput("--trust", f"{path} must hold a JSON list of base64 DER certificates")
    ders = []
    for index, item in enumerate(items):
        try:
            ders.append(base64.b64decode(item.strip(), validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput("--trust", f"{path} item {index} is not base64") from None
    return ders


def load_signer_certificates(path: Path) -> list[bytes]:
    """DER signer certificates from a folder, a JSON list or one certificate file (see the module)."""
    budget = [MAX_TRUST_BYTES]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CERT_SUFFIXES)
        if not files:
            raise InvalidInput("--trust", f"{path} holds no {'/'.join(CERT_SUFFIXES)} files")
        return [der for file in files for der in _certificates_in_file(file, budget)]
    if not path.exists():
        raise InvalidInput("--trust", f"{path} does not exist")
    if path.suffix.lower() == ".json":
        return _certificates_in_json(path, budget)
    return _certificates_in_file(path, budget)


def result_to_json(result: Any) -> dict[str, Any]:
    """The ``--json`` document: status, every stage, the reason of each failed stage, the display."""
    from unifiedqr.codes.dcc import minimal_display

    display = minimal_display(result)
    claims = result.claims

    def moment(value: dt.datetime | None) -> str | None:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    return {
        "status": result.status,
        "stages": dict(result.stages),
        "reasons": dict(result.reasons),
        "display": display.to_json() if display else None,
        "kid": base64.b64encode(result.kid).decode() if result.kid else None,
        "algorithm": result.algorithm,
        "signer": result.signer.subject if result.signer else None,
        "issued_at": moment(claims.issued_at if claims else None),
        "expires_at": moment(result.expires_at),
    }


def _print_human(result: Any, details: bool) -> None:
    from unifiedqr.codes.dcc import STAGES, minimal_display, value_set_names

    click.echo(result.status if result.valid else f"invalid: {result.status}")
    marks = {True: "ok", False: "FAILED", None: "-"}
    for stage in STAGES:
        reason = result.reasons.get(stage)
        click.echo(f"  {stage:<11} {marks[result.stages[stage]]}" + (f": {reason}" if reason else ""))
    display = minimal_display(result)
    if display is None:
        return
    rows = [
        ("Name", display.name or "-"),
        ("Standardised", display.name_standardised or "-"),
        ("Birth date", display.birth_date or "-"),
        ("Certificate", display.certificate_type or "-"),
    ]
    if display.dose:
        rows.append(("Dose", display.dose))
    if display.date:
        rows.append(("Date", display.date))
    rows.append(("Issuer", display.issuer_country or "-"))
    if details and (names := value_set_names(result)) is not None:
        rows += [(k.replace("_", " ").capitalize(), v) for k, v in names.to_json().items() if v]
    if result.expires_at:
        rows.append(("Expires", result.expires_at.strftime("%Y-%m-%d %H:%M UTC")))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}")


@click.group("dcc")
def dcc_group() -> None:
    """EU Digital COVID Certificates (HC1 vaccine passports)."""


@dcc_group.command("verify")
@click.argument("text", metavar="TEXT|-")
@click.option(
    "--trust",
    "trust_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Signer certificates: a folder of PEM/DER files, a JSON list of base64 DER, or one file.",
)
@click.option("--at", "at_text", help="Verify at this RFC 3339 time (default: now).")
@click.option("--details", is_flag=True, help="Human output: add the value-set names (product, ...).")
@json_option
def verify_cmd(text: str, trust_path: Path, at_text: str | None, details: bool, as_json: bool) -> None:
    """Verify the QR TEXT of an EU DCC (or - for stdin) offline; exit 0 only when it is valid.

    Prints the status, each stage (unprefix, base45, decompress, cose, signature, expiration,
    key_usage, schema) with the reason of any failure, and the holder's minimal display.
    """
    from unifiedqr.codes.dcc import verify
    from unifiedqr.codes.trust import parse_time

    trust = load_signer_certificates(trust_path)
    at = parse_time(at_text, "--at") if at_text else dt.datetime.now(dt.UTC)
    raw = read_code_argument(text, limit=64 * 1024)
    result = verify(raw, trust=trust, at=at)
    if as_json:
        emit_json({**result_to_json(result), "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    else:
        _print_human(result, details)
    if not result.valid:
        raise SystemExit(1)
