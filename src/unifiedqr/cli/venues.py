"""``venue`` (register, staff, entrances, poster, withdraw: on the server's host) and ``checkin``.

``venue`` commands call the service layer directly, like ``admin`` (they need the database and the
keys; on a fresh SQLite file they create both). ``checkin`` is a client of the running API, for
scripts and for the USB-scanner workflow: a scanner types each code followed by Enter, so the
command reads standard input line by line, submits each line, prints one result per line on
stdout and keeps a live count on stderr. Every line gets an idempotency key, so the automatic
retry after a network error never records a scan twice.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_fields, emit_json, json_option
from unifiedqr.cli.platform import DB_OPTION, _read_password, open_services, operator
from unifiedqr.serialize import jsonable
from unifiedqr.services.visits import VENUE_TYPES


@click.group("venue")
def venue_group() -> None:
    """Venues on the server's host: register, staff, entrances, the poster, withdrawing a code."""


@venue_group.command("register")
@click.option("--name", required=True)
@click.option("--type", "kind", required=True, type=click.Choice(VENUE_TYPES))
@click.option("--province", required=True)
@click.option("--district", required=True)
@click.option("--commune", required=True)
@click.option("--street", required=True)
@click.option(
    "--owner-phone", required=True, help="Also the owner's login (an account is created if needed)."
)
@click.option("--entrance", "entrances", multiple=True, help="Entrance name (repeat); default: one 'main'.")
@click.option("--default-stay", type=click.IntRange(1, 1440), default=None, help="Minutes; default by type.")
@DB_OPTION
@json_option
def register_cmd(
    name: str,
    kind: str,
    province: str,
    district: str,
    commune: str,
    street: str,
    owner_phone: str,
    entrances: tuple[str, ...],
    default_stay: int | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Register a venue and sign its code; JSON has venue_id, code, entrances (and a new owner's password)."""
    from unifiedqr.services import venues

    reg = venues.VenueRegistration(
        name, kind, province, district, commune, street, owner_phone, entrances or ("main",), default_stay
    )
    result = venues.register(open_services(database_url), operator(), reg)
    if as_json:
        emit_json(jsonable(result))
        return
    emit_fields(
        [
            ("venue id", result.venue_id),
            ("code", result.code),
            ("entrances", ", ".join(f"{e.name} ({e.entrance_id})" for e in result.entrances)),
            ("owner login", result.owner_login),
            ("owner password", result.owner_password),
        ]
    )


@venue_group.command("show")
@click.argument("venue_id")
@DB_OPTION
def show_cmd(venue_id: str, database_url: str | None) -> None:
    """Print a venue as JSON (code, address, entrances)."""
    from unifiedqr.services import venues

    emit_json(jsonable(venues.get(open_services(database_url), operator(), venue_id)))


@venue_group.group("staff")
def staff_group() -> None:
    """Staff accounts of a venue: add, list, remove."""


@staff_group.command("add")
@click.argument("venue_id")
@click.option("--name", required=True)
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@DB_OPTION
def staff_add_cmd(
    venue_id: str, name: str, username: str, password_stdin: bool, database_url: str | None
) -> None:
    """Create a staff account that scans for the venue; prints JSON {"account_id", "username"}."""
    from unifiedqr.services import venues

    password = _read_password(password_stdin, confirm=True)
    ctx = open_services(database_url)
    created = venues.add_staff(ctx, operator(), venue_id, name=name, username=username, password=password)
    emit_json({**jsonable(created), "venue_id": venue_id})


@staff_group.command("list")
@click.argument("venue_id")
@DB_OPTION
def staff_list_cmd(venue_id: str, database_url: str | None) -> None:
    """The venue's staff accounts as JSON."""
    from unifiedqr.services import venues

    emit_json(jsonable(venues.list_staff(open_services(database_url), operator(), venue_id)))


@staff_group.command("remove")
@click.argument("venue_id")
@click.argument("account_id")
@DB_OPTION
def staff_remove_cmd(venue_id: str, account_id: str, database_url: str | None) -> None:
    """Remove a staff account from the venue (disabled when it staffs nowhere else)."""
    from unifiedqr.services import venues

    venues.remove_staff(open_services(database_url), operator(), venue_id, account_id)
    click.echo(f"removed {account_id} from {venue_id}", err=True)


@venue_group.command("poster")
@click.argument("venue_id")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "png"]), default=None, help="Default: by --out suffix."
)
@click.option("--withdraw", is_flag=True, help="First withdraw the current code (lost or defaced poster).")
@DB_OPTION
def poster_cmd(venue_id: str, out: Path, fmt: str | None, withdraw: bool, database_url: str | None) -> None:
    """Write the printable A4 poster (code at least 15 x 15 cm) as PDF or PNG."""
    from unifiedqr.services import venues

    ctx = open_services(database_url)
    if withdraw:
        withdrawn = venues.withdraw_code(ctx, operator(), venue_id)
        click.echo(f"withdrew the old code; the new code is {withdrawn.code}", err=True)
    chosen = fmt or ("png" if out.suffix.lower() == ".png" else "pdf")
    out.write_bytes(venues.poster(ctx, operator(), venue_id, chosen))
    click.echo(f"wrote {out} ({chosen})", err=True)


@venue_group.command("withdraw")
@click.argument("venue_id")
@DB_OPTION
@json_option
def withdraw_cmd(venue_id: str, database_url: str | None, as_json: bool) -> None:
    """Withdraw the venue's printed code (it goes on revoked_codes) and sign a new one."""
    from unifiedqr.services import venues

    result = venues.withdraw_code(open_services(database_url), operator(), venue_id)
    emit_json(jsonable(result)) if as_json else click.echo(result.code)


@venue_group.group("entrance")
def entrance_group() -> None:
    """Entrances (scanner points) of a venue."""


@entrance_group.command("add")
@click.argument("venue_id")
@click.argument("name")
@DB_OPTION
def entrance_add_cmd(venue_id: str, name: str, database_url: str | None) -> None:
    """Add an entrance; prints JSON {"entrance_id", "name"}."""
    from unifiedqr.services import venues

    emit_json(jsonable(venues.add_entrance(open_services(database_url), operator(), venue_id, name)))


# ---------------------------------------------------------------------------------------------------
@click.command("checkin")
@click.option("--venue", "venue_id", required=True, help="The venue id (staff of that venue).")
@click.option("--entrance", "entrance_id", default=None, help="Entrance id (default: the venue's first).")
@click.option(
    "--direction", type=click.Choice(["in", "out"]), default=None, help="Default: inferred (toggle)."
)
@click.option("--url", default=None, help="Platform URL (default: the saved login's, or $UNIFIEDQR_URL).")
@click.option(
    "--token", default=None, help="Bearer token or API key (default: $UNIFIEDQR_TOKEN or the saved login)."
)
@json_option
def checkin_cmd(
    venue_id: str,
    entrance_id: str | None,
    direction: str | None,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Read scanned codes (or phone numbers) from stdin, one per line, and submit each at the entrance.

    Prints one result per line on stdout (JSON lines with --json) and a live count on stderr.
    """
    import httpx

    from unifiedqr.client import DEFAULT_URL, Client
    from unifiedqr.config import ClientSettings
    from unifiedqr.errors import UnifiedQRError

    settings = ClientSettings.from_env()
    token = token or settings.token
    if token:
        client = Client(url or settings.url or DEFAULT_URL, token)
    else:
        client = Client.from_saved_token(settings.token_file, url or settings.url)
    counts = {"in": 0, "out": 0, "duplicate": 0, "rejected": 0}
    tty = sys.stderr.isatty()
    with client:
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            fields: dict[str, Any] = {"idempotency_key": secrets.token_urlsafe(16)}
            if entrance_id:
                fields["entrance_id"] = entrance_id
            if direction:
                fields["direction"] = direction
            try:
                result = _submit(client, venue_id, text, fields)
            except httpx.TransportError as exc:
                raise click.ClickException(
                    f"the platform does not answer ({exc}); scans so far: {counts}"
                ) from None
            except UnifiedQRError as exc:
                counts["rejected"] += 1
                click.echo(f"\nrejected: {exc}" if tty else f"rejected: {exc}", err=True)
                if as_json:
                    click.echo(json.dumps({"status": "rejected", "error": str(exc)}, ensure_ascii=False))
                continue
            counts[result["direction"]] = counts.get(result["direction"], 0) + 1
            if as_json:
                click.echo(json.dumps(result, ensure_ascii=False))
            else:
                shown = result["visitor"]["name"] or result["visitor"]["phone"] or ""
                click.echo(f"{result['direction']:<9} {result['colour']:<6} {shown}")
            total = sum(counts.values())
            summary = ", ".join(f"{v} {k}" for k, v in counts.items())
            click.echo(f"\r{total} scanned: {summary}", err=True, nl=not tty)
    if tty:
        click.echo("", err=True)


def _submit(client: Any, venue_id: str, text: str, fields: dict[str, Any]) -> dict[str, Any]:
    """One scan, retried on network errors with the same idempotency key (so it lands once)."""
    import httpx

    phone = text if text.replace(" ", "").lstrip("+").isdigit() and "|" not in text else None
    for attempt in range(4):
        try:
            if phone is not None:
                return dict(client.scan(venue_id, phone=phone, **fields))
            return dict(client.scan(venue_id, text, **fields))
        except httpx.TransportError:
            if attempt == 3:
                raise
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")
