"""``keygen`` and the ``trust`` group: issuing keys and the trust list file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from unifiedqr.cli.common import (
    emit_json,
    json_option,
    read_code_argument,
    read_json_file,
    write_private_file,
    write_text_atomic,
)
from unifiedqr.cli.platform import DB_OPTION
from unifiedqr.codes.payload import parse
from unifiedqr.codes.signing import revocation_id_of
from unifiedqr.codes.trust import KEY_FILE_KIND, SigningKey, TrustedKey, TrustList, format_time
from unifiedqr.codes.venue import is_venue_url, parse_venue_url
from unifiedqr.errors import InvalidInput, KeyFileError


@click.command("keygen")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--issuer", default="Unified Personal QR", show_default=True, help="Who issues codes with it.")
@click.option("--valid-days", default=730, show_default=True, type=click.IntRange(1, 36500))
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
@json_option
def keygen_cmd(out: Path, issuer: str, valid_days: int, force: bool, as_json: bool) -> None:
    """Generate an ECDSA P-256 issuing key (file mode 0600) and print its key id."""
    if out.exists() and not force:
        raise KeyFileError("--out", f"{out} exists; pass --force to overwrite a key")
    key = SigningKey.generate(issuer, dt.datetime.now(dt.UTC), valid_days)
    write_private_file(out, json.dumps(key.to_json(), indent=2) + "\n")
    click.echo(f"wrote {out} (mode 0600)", err=True)
    if as_json:
        emit_json({"key_id": key.key_id, "issuer": key.issuer, "valid_until": format_time(key.valid_until)})
    else:
        click.echo(key.key_id)


@click.group("trust")
def trust_group() -> None:
    """Manage a trust list file: the public keys verifiers accept and the codes they refuse."""


TRUST_OPTION = click.option(
    "--trust",
    "trust_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust list file.",
)


def _load(path: Path, create: bool = False) -> TrustList:
    if create and not path.exists():
        return TrustList()
    return TrustList.from_bytes(read_json_file(path, "trust list"))


def _public_key_from_file(path: Path) -> TrustedKey:
    data = json.loads(read_json_file(path, "key file"))
    if isinstance(data, dict) and data.get("kind") == KEY_FILE_KIND:
        return SigningKey.from_json(data).public()
    return TrustedKey.from_json(data, "key file")


@trust_group.command("add")
@TRUST_OPTION
@click.argument("key_file", type=click.Path(path_type=Path, dir_okay=False))
def trust_add(trust_path: Path, key_file: Path) -> None:
    """Add a key's public part (from a private key file or a key entry) to the trust list."""
    key = _public_key_from_file(key_file)
    trust = _load(trust_path, create=True).with_key(key)
    write_text_atomic(trust_path, trust.dumps())
    click.echo(f"added {key.key_id} ({key.issuer}) to {trust_path}", err=True)
    click.echo(key.key_id)


@trust_group.command("revoke")
@TRUST_OPTION
@click.option("--code", "code", default=None, metavar="PAYLOAD|-", help="Withdraw one signed code instead.")
@click.argument("key_id", required=False)
def trust_revoke(trust_path: Path, code: str | None, key_id: str | None) -> None:
    """Revoke a whole key (compromised) or, with --code, one code (lost phone, corrected record)."""
    if (code is None) == (key_id is None):
        raise InvalidInput("arguments", "give either KEY_ID or --code PAYLOAD|-")
    trust = _load(trust_path)
    if key_id is not None:
        trust = trust.with_key_revoked(key_id)
        done = f"key {key_id}"
    else:
        assert code is not None
        text = read_code_argument(code).decode("utf-8", "replace").strip()
        signature = (
            parse_venue_url(text).signature if is_venue_url(text) else parse(text, lenient=True).signature
        )
        if signature is None:
            raise InvalidInput("--code", "the code is unsigned: there is nothing to revoke")
        revocation = revocation_id_of(signature)
        trust = trust.with_codes_revoked([revocation])
        done = f"code {revocation}"
    write_text_atomic(trust_path, trust.dumps())
    click.echo(f"revoked {done} in {trust_path}", err=True)


@trust_group.command("list")
@TRUST_OPTION
@json_option
def trust_list(trust_path: Path, as_json: bool) -> None:
    """List the keys of a trust list (JSON: a list of the key entries)."""
    trust = _load(trust_path)
    entries = trust.to_json()["keys"]
    if as_json:
        emit_json(entries)
        return
    for entry in entries:
        state = "revoked" if entry["revoked"] else "active"
        window = f"{entry['valid_from']} .. {entry['valid_until']}"
        click.echo(f"{entry['key_id']}  {state:<7}  {window}  {entry['issuer']}")
    click.echo(f"{len(entries)} key(s), {len(trust.revoked_codes)} revoked code(s)", err=True)


@trust_group.command("export")
@DB_OPTION
def trust_export(database_url: str | None) -> None:
    """Print the platform's published trust list (the document GET /api/v1/trust-list serves)."""
    from unifiedqr.cli.platform import open_services
    from unifiedqr.services.keys import trust_list as published

    click.echo(published(open_services(database_url).db).dumps(), nl=False)
