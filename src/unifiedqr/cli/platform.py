"""``serve``, ``admin``, ``db`` and ``login``: running the national platform and administering it.

Admin commands run on the server's host and call the service layer directly (they need the
database and the keys anyway); ``login`` and everything a user does go through the API client. On
a fresh SQLite database every command here creates the schema and, in development, the keys.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, write_private_file

DB_OPTION = click.option(
    "--database-url",
    "database_url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL (default: $UNIFIEDQR_DATABASE_URL, else a SQLite file in the data directory).",
)


def open_services(database_url: str | None) -> Any:
    """Settings from the environment (+ the URL given), secrets resolved, schema upgraded, keys loaded."""
    from unifiedqr.config import Settings
    from unifiedqr.services.context import Services

    return Services(Settings.from_env(database_url))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_server(ctx: Any, host: str, port: int, workers: int = 1, access_log: bool = False) -> None:
    """Serve until interrupted: uvicorn with uvloop + httptools (the fastest stack measured here)."""
    import uvicorn

    settings = ctx.settings
    key = ctx.keys.current(ctx.now())
    left = (key.valid_until - ctx.now()).days
    if left < 90:
        click.echo(
            f"warning: issuing key {key.key_id} expires in {left} days: run `unifiedqr admin rotate-key`"
            " and `unifiedqr admin reissue` before then",
            err=True,
        )
    click.echo(
        f"serving the platform API on http://{host}:{port}/api/v1 (docs: /api/v1/docs); "
        f"database {_safe_url(settings.database_url)}; keys from {settings.issuing_key_path}",
        err=True,
    )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": access_log,
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
    }
    if workers <= 1:
        from unifiedqr.api.app import create_app, freeze_startup_objects

        app = create_app(ctx)
        freeze_startup_objects()
        uvicorn.run(app, **common)
        return
    ctx.close()
    os.environ["UNIFIEDQR_DATABASE_URL"] = settings.database_url
    os.environ["UNIFIEDQR_ISSUING_KEY"] = str(settings.issuing_key_path)
    os.environ["UNIFIEDQR_AT_REST_KEY_FILE"] = str(settings.at_rest_key_path)
    uvicorn.run("unifiedqr.api.app:app_from_env", factory=True, workers=workers, **common)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--access-log/--no-access-log", default=False, show_default=True)
@DB_OPTION
def serve_cmd(host: str, port: int, workers: int, access_log: bool, database_url: str | None) -> None:
    """Run the platform API (schema and, in development, keys are created on first start)."""
    run_server(open_services(database_url), host, port, workers, access_log)


# ---------------------------------------------------------------------------------------------------
@click.group("admin")
def admin_group() -> None:
    """Administer the platform on the server's host: platforms, accounts, API keys, issuing keys."""


@admin_group.command("create-platform")
@click.argument("name")
@DB_OPTION
def create_platform_cmd(name: str, database_url: str | None) -> None:
    """Create a platform; prints JSON {"platform_id", "api_key"} (the key is shown only once)."""
    from unifiedqr.services import accounts

    created = accounts.create_platform(open_services(database_url), name)
    emit_json(
        {"platform_id": created.platform_id, "api_key": created.api_key, "api_key_id": created.api_key_id}
    )


@admin_group.command("create-user")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["administrator", "health_official", "venue_owner", "venue_staff", "citizen"]),
)
@click.option("--name", required=True)
@click.option("--username", default=None)
@click.option("--phone", default=None)
@click.option("--qid", default=None, help="Citizens: the person's QID.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@DB_OPTION
def create_user_cmd(
    role: str,
    name: str,
    username: str | None,
    phone: str | None,
    qid: str | None,
    password_stdin: bool,
    database_url: str | None,
) -> None:
    """Create a person's account; prints JSON {"account_id", "role", "username"}."""
    from unifiedqr.services import accounts

    password = _read_password(password_stdin, confirm=True)
    emit_json(
        accounts.create_account(
            open_services(database_url),
            None,
            role=role,
            name=name,
            password=password,
            username=username,
            phone=phone,
            qid=qid,
        )
    )


@admin_group.command("api-key")
@click.argument("platform_id")
@click.option("--revoke", "revoke_id", default=None, metavar="API_KEY_ID", help="Revoke this key instead.")
@click.option("--label", default="")
@DB_OPTION
def api_key_cmd(platform_id: str, revoke_id: str | None, label: str, database_url: str | None) -> None:
    """Add an API key to a platform (rotation), or revoke one with --revoke."""
    from unifiedqr.services import accounts

    ctx = open_services(database_url)
    if revoke_id:
        accounts.revoke_api_key(ctx, None, platform_id, revoke_id)
        click.echo(f"revoked {revoke_id}", err=True)
        return
    emit_json(accounts.add_api_key(ctx, None, platform_id, label))


@admin_group.command("rotate-key")
@click.option(
    "--valid-days", default=None, type=click.IntRange(1, 3650), help="Default: UNIFIEDQR_KEY_VALID_DAYS."
)
@DB_OPTION
def rotate_key_cmd(valid_days: int | None, database_url: str | None) -> None:
    """Start a new issuing key; running servers pick it up without a restart. Prints the key id."""
    ctx = open_services(database_url)
    key = ctx.keys.rotate(ctx.settings.issuer, valid_days or ctx.settings.key_valid_days)
    click.echo(
        f"new issuing key {key.key_id} in {ctx.settings.issuing_key_path}; now run `admin reissue`", err=True
    )
    click.echo(key.key_id)


@admin_group.command("reissue")
@DB_OPTION
def reissue_cmd(database_url: str | None) -> None:
    """Re-sign every code not signed with the current issuing key (after a rotation). Prints the count."""
    from unifiedqr.services.people import reissue_old_codes

    click.echo(reissue_old_codes(open_services(database_url)))


@admin_group.command("revoke-key")
@click.argument("key_id")
@DB_OPTION
def revoke_key_cmd(key_id: str, database_url: str | None) -> None:
    """Mark a compromised issuing key revoked on the published trust list."""
    from unifiedqr.services.keys import revoke_key

    revoke_key(open_services(database_url).db, key_id)
    click.echo(f"revoked key {key_id}; rotate and reissue now", err=True)


# ---------------------------------------------------------------------------------------------------
@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@DB_OPTION
def db_upgrade_cmd(database_url: str | None) -> None:
    """Bring the database to the latest migration (production runs this explicitly)."""
    from unifiedqr.config import Settings
    from unifiedqr.store.db import current_revision, upgrade

    url = Settings.from_env(database_url).database_url
    upgrade(url)
    click.echo(f"{_safe_url(url)} is at revision {current_revision(url)}", err=True)


# ---------------------------------------------------------------------------------------------------
def _read_password(from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True))


@click.command("login")
@click.option("--url", default=None, help="Platform URL (default: $UNIFIEDQR_URL or http://127.0.0.1:8000).")
@click.option("--login", "login_name", required=True, help="Username or phone number.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@json_option
def login_cmd(url: str | None, login_name: str, password_stdin: bool, as_json: bool) -> None:
    """Log in and keep the short-lived token (mode 0600) for the other commands."""
    from unifiedqr.client import DEFAULT_URL, Client, token_file

    base = url or os.environ.get("UNIFIEDQR_URL") or DEFAULT_URL
    password = _read_password(password_stdin)
    with Client(base) as client:
        result = client.login(login_name, password)
    path = token_file()
    saved = {"url": base, "access_token": result["access_token"], "expires_at": result["expires_at"]}
    write_private_file(path, json.dumps(saved))
    left = int(result["expires_at"] - time.time())
    click.echo(f"logged in as {result['role']} {result['account_id']}; token in {path} ({left} s)", err=True)
    if as_json:
        emit_json({"account_id": result["account_id"], "role": result["role"], "token_file": str(path)})
