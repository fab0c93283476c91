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
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option, write_private_file
from unifiedqr.serialize import jsonable

DB_OPTION = click.option(
    "--database-url",
    "database_url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL (default: $UNIFIEDQR_DATABASE_URL, else a SQLite file in the data directory).",
)


def open_services(database_url: str | None) -> Any:
    """Settings from the environment (+ the URL given), the schema upgraded, then the container.

    Every host-side command may meet a fresh database, so bringing the schema up to date is an
    explicit step here (building the container never changes the database).
    """
    from unifiedqr.config import Settings
    from unifiedqr.services.context import Services
    from unifiedqr.store.db import upgrade

    settings = Settings.from_env(database_url)
    upgrade(settings.database_url)
    return Services(settings)


def operator() -> Any:
    """The principal of whoever runs this command on the server's host (audited by that name)."""
    import getpass
    import socket

    from unifiedqr.services.auth import host_operator

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = f"uid{os.getuid()}"
    return host_operator(f"{user}@{socket.gethostname()}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_server(
    ctx: Any,
    host: str,
    port: int,
    workers: int = 1,
    access_log: bool = False,
    tls: tuple[Path, Path] | None = None,
) -> None:
    """Serve until interrupted: uvicorn with uvloop + httptools (the fastest stack measured here).

    ``tls``: (certificate, key) files to serve https directly (a phone's camera page needs TLS)."""
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
        f"serving the platform API on {'https' if tls else 'http'}://{host}:{port}/api/v1 "
        "(docs: /api/v1/docs, pages: /); "
        f"database {_safe_url(settings.database_url)}; keys from {settings.issuing_key_path}",
        err=True,
    )
    if workers > 1 and not settings.redis_url:
        click.echo(
            f"warning: rate limits are per worker: each of the {workers} workers counts its own (up to"
            f" {workers}x the configured limits); set UNIFIEDQR_REDIS_URL to share them",
            err=True,
        )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": access_log,
        # uvicorn writes access lines at INFO: at "warning" --access-log printed nothing (issue 10 #7)
        "log_level": "info" if access_log else "warning",
        # The client address is read in one place (api.addresses, UNIFIEDQR_TRUSTED_PROXIES); uvicorn
        # would otherwise rewrite it from X-Forwarded-For whenever the peer is 127.0.0.1.
        "proxy_headers": False,
        "timeout_graceful_shutdown": 5,
    }
    if tls is not None:
        common.update(ssl_certfile=str(tls[0]), ssl_keyfile=str(tls[1]))
    schedule = _purge_schedule(ctx, workers)
    try:
        if workers <= 1:
            from unifiedqr.api.app import create_app, freeze_startup_objects

            app = create_app(ctx)
            freeze_startup_objects()
            uvicorn.run(app, **common)
            return
        _serve_workers(ctx, workers, common)
    finally:
        schedule.stop()


def _purge_schedule(ctx: Any, workers: int) -> Any:
    """The retention purge every ``UNIFIEDQR_PURGE_INTERVAL_SECONDS``, in this (the parent) process."""
    import socket

    from unifiedqr.services.auth import host_operator
    from unifiedqr.services.context import Services
    from unifiedqr.services.retention import Schedule

    own = ctx if workers <= 1 else Services(ctx.settings)  # the parent's container closes for workers
    return Schedule(own, host_operator(f"purge-schedule@{socket.gethostname()}")).start()


def _serve_workers(ctx: Any, workers: int, common: dict[str, Any]) -> None:
    """Several worker processes on one socket; each builds its own container from these settings.

    uvicorn's ``run`` takes only an import string for workers, which would leave the settings to the
    environment; its supervisor takes a config, which is pickled into each spawned worker.
    """
    import inspect

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from unifiedqr.api.app import AppFactory

    ctx.close()
    config = uvicorn.Config(AppFactory(ctx.settings), factory=True, workers=workers, **common)
    socket = config.bind_socket()
    try:
        if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.36
            supervisor = Multiprocess(config, target=uvicorn.Server(config).run, sockets=[socket])  # type: ignore[call-arg]
        else:
            supervisor = Multiprocess(config, sockets=[socket])
        supervisor.run()
    finally:
        socket.close()


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

    emit_json(jsonable(accounts.create_platform(open_services(database_url), operator(), name)))


@admin_group.command("create-user")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["administrator", "health_official", "tracer", "venue_owner", "venue_staff", "citizen", "assessor"]
    ),
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
    request = accounts.AccountRequest(role, name, password, username, phone, qid)
    emit_json(jsonable(accounts.create_account(open_services(database_url), operator(), request)))


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
        accounts.revoke_api_key(ctx, operator(), platform_id, revoke_id)
        click.echo(f"revoked {revoke_id}", err=True)
        return
    emit_json(jsonable(accounts.add_api_key(ctx, operator(), platform_id, label)))


@admin_group.command("rotate-key")
@click.option(
    "--valid-days", default=None, type=click.IntRange(1, 3650), help="Default: UNIFIEDQR_KEY_VALID_DAYS."
)
@DB_OPTION
def rotate_key_cmd(valid_days: int | None, database_url: str | None) -> None:
    """Start a new issuing key; running servers pick it up without a restart. Prints the key id."""
    from unifiedqr.services.keys import rotate_key

    ctx = open_services(database_url)
    key = rotate_key(ctx, operator(), valid_days)
    click.echo(
        f"new issuing key {key.key_id} in {ctx.settings.issuing_key_path}; now run `admin reissue`", err=True
    )
    click.echo(key.key_id)


@admin_group.command("reissue")
@DB_OPTION
def reissue_cmd(database_url: str | None) -> None:
    """Re-sign every code not signed with the current issuing key (after a rotation). Prints the count."""
    from unifiedqr.services.people import reissue_old_codes

    click.echo(reissue_old_codes(open_services(database_url), operator()))


@admin_group.command("revoke-key")
@click.argument("key_id")
@DB_OPTION
def revoke_key_cmd(key_id: str, database_url: str | None) -> None:
    """Mark a compromised issuing key revoked on the published trust list."""
    from unifiedqr.services.keys import revoke_key

    revoke_key(open_services(database_url), operator(), key_id)
    click.echo(f"revoked key {key_id}; rotate and reissue now", err=True)


@admin_group.command("outbox")
@DB_OPTION
@json_option
def outbox_cmd(database_url: str | None, as_json: bool) -> None:
    """The SMS outbox: messages the platform queued (consent codes), oldest first.

    In development and tests nothing is sent: this is where a holder's one-time code is read.
    With --json, an array of {"to", "text", "created_at"}.
    """
    from unifiedqr.services import sms

    entries = sms.outbox(open_services(database_url), operator())
    if as_json:
        emit_json(jsonable(entries))
        return
    for entry in entries:
        click.echo(f"{entry.created_at.isoformat()}  {entry.to}  {entry.text}")


@admin_group.command("rotate-at-rest-key")
@click.option("--resume", is_flag=True, help="Finish an interrupted rotation: re-encrypt, add no key.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--settle",
    default=None,
    type=click.FloatRange(0, 3600),
    help="Seconds for running servers to switch keys before the final pass (default: reload time + 5).",
)
@DB_OPTION
@json_option
def rotate_at_rest_key_cmd(
    resume: bool, batch: int, settle: float | None, database_url: str | None, as_json: bool
) -> None:
    """Add a new at-rest key to the key file and re-encrypt every personal column with it, in
    batches, while the service runs; old keys stay in the file (backups). Safe to kill: run again
    with --resume."""
    from unifiedqr.at_rest_keys import add_key
    from unifiedqr.errors import ConfigError
    from unifiedqr.services.at_rest import reencrypt, rows_to_visit

    ctx = open_services(database_url)
    path = ctx.settings.at_rest_key_path
    if path is None:
        raise ConfigError(
            "UNIFIEDQR_AT_REST_KEY", "rotation needs the key in a file (UNIFIEDQR_AT_REST_KEY_FILE)"
        )
    if not resume:
        ring = add_key(path)
        click.echo(f"at-rest key version {ring.current} added to {path}; re-encrypting", err=True)
    ctx.vault.reload()
    who = operator()
    rewritten: dict[str, int] = {}
    for rounds in (1, 2):  # the second pass catches values written by servers not yet switched
        with click.progressbar(length=rows_to_visit(ctx), label=f"pass {rounds}", file=sys.stderr) as bar:
            result = reencrypt(ctx, who, batch, bar.update)
        rewritten = {t: rewritten.get(t, 0) + n for t, n in result.rewritten.items()}
        if rounds == 1:
            time.sleep(ctx.settings.key_reload_seconds + 5 if settle is None else settle)
    if as_json:
        emit_json({"version": result.version, "rewritten": rewritten})
    else:
        click.echo(
            f"{sum(rewritten.values())} values re-encrypted; all under at-rest key version {result.version}"
        )


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
    from unifiedqr.client import DEFAULT_URL, Client
    from unifiedqr.config import ClientSettings

    settings = ClientSettings.from_env()
    base = url or settings.url or DEFAULT_URL
    password = _read_password(password_stdin)
    with Client(base) as client:
        result = client.login(login_name, password)
    path = settings.token_file
    saved = {"url": base, "access_token": result["access_token"], "expires_at": result["expires_at"]}
    write_private_file(path, json.dumps(saved))
    left = int(result["expires_at"] - time.time())
    click.echo(f"logged in as {result['role']} {result['account_id']}; token in {path} ({left} s)", err=True)
    if as_json:
        emit_json({"account_id": result["account_id"], "role": result["role"], "token_file": str(path)})
