"""``unifiedqr demo``: a fresh SQLite platform with seeded data, served until interrupted.

The newcomer's first command: it shows the whole flow (two apps, the same person, one QID and one
code text, households declared by proxy, citizen log-in, declarations) without any set-up. Every
password and API key is random per run and printed once; nothing outside the demo directory changes.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json


def seed(ctx: Any) -> dict[str, Any]:
    """Platforms, accounts, households and people; returns what to print."""
    from unifiedqr.services import accounts, declarations, registry

    def password() -> str:
        return secrets.token_urlsafe(9)

    pc = accounts.create_platform(ctx, "PC-Covid (demo)")
    bz = accounts.create_platform(ctx, "Bluezone (demo)")
    admin_pw, official_pw, an_pw, binh_pw = password(), password(), password(), password()
    accounts.create_account(
        ctx, None, role="administrator", name="Demo administrator", username="admin", password=admin_pw
    )
    accounts.create_account(
        ctx,
        None,
        role="health_official",
        name="Demo health official",
        username="official",
        password=official_pw,
    )
    p_pc = ctx.authenticate("Bearer " + pc.api_key)
    p_bz = ctx.authenticate("Bearer " + bz.api_key)
    reg = registry.Registration
    an = registry.register(
        ctx,
        p_pc,
        reg("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18", "male", "0944713700", "HS4010120878821"),
    )
    same = registry.register(ctx, p_bz, reg("001093029317", "Nguyen Le Kha Han", "1987-01-18"))
    assert same.qid == an.qid and same.payload == an.payload
    child = registry.register(
        ctx, p_pc, reg("001215000123", "Nguyễn Hân Bảo", "2015-06-01", "female", proxy_qid=an.qid)
    )
    elder = registry.register(
        ctx,
        p_pc,
        reg(
            "012345678901",
            "Lê Thị Mai",
            "1950-03-09",
            "female",
            old_document_number="123456789",
            proxy_qid=an.qid,
        ),
    )
    binh = registry.register(
        ctx, p_bz, reg("079088001234", "Trần Văn Bình", "1988-11-30", "male", "0912345678")
    )
    visitor = registry.register(
        ctx, p_bz, reg("C1234567", "John Smith", "1979-07-04", "male", nationality="GBR")
    )
    accounts.create_account(
        ctx, None, role="citizen", name="Nguyen Le Kha Han", phone="0944713700", password=an_pw, qid=an.qid
    )
    accounts.create_account(
        ctx, None, role="citizen", name="Tran Van Binh", username="binh", password=binh_pw, qid=binh.qid
    )
    today = dt.date.today()
    declarations.submit(
        ctx,
        p_pc,
        child.qid,
        declarations.HealthDeclarationIn.model_validate(
            {
                "address": {
                    "province": "Hà Nội",
                    "district": "Hoàn Kiếm",
                    "ward": "Hàng Bạc",
                    "street": "1 Hàng Bạc",
                },
                "symptoms": {"cough": True},
            }
        ),
    )
    declarations.submit(
        ctx,
        p_bz,
        binh.qid,
        declarations.MovementDeclarationIn.model_validate(
            {
                "origin": {"province": "Hồ Chí Minh", "district": "Quận 1"},
                "destination": {"province": "Đà Nẵng", "district": "Hải Châu"},
                "transport": "plane",
                "vehicle_number": "VN123",
                "departure_date": today.isoformat(),
                "arrival_date": today.isoformat(),
            }
        ),
    )
    from unifiedqr.services import venues

    venue = venues.register(
        ctx,
        None,
        venues.VenueRegistration(
            "Quán Phở Hàng Bạc (demo)",
            "restaurant",
            "Hà Nội",
            "Hoàn Kiếm",
            "Hàng Bạc",
            "1 Hàng Bạc",
            "0987000111",
            ("front", "back"),
        ),
    )
    gate_pw = password()
    venues.add_staff(ctx, None, venue["venue_id"], name="Demo gate staff", username="gate", password=gate_pw)
    return {
        "venues": [{"venue_id": venue["venue_id"], "name": venue["name"], "code": venue["code"]}],
        "platforms": [
            {"name": "PC-Covid (demo)", "platform_id": pc.platform_id, "api_key": pc.api_key},
            {"name": "Bluezone (demo)", "platform_id": bz.platform_id, "api_key": bz.api_key},
        ],
        "accounts": [
            {"role": "administrator", "login": "admin", "password": admin_pw},
            {"role": "health_official", "login": "official", "password": official_pw},
            {"role": "citizen", "login": "0944713700", "password": an_pw, "qid": an.qid},
            {"role": "citizen", "login": "binh", "password": binh_pw, "qid": binh.qid},
            {"role": "venue_owner", "login": "0987000111", "password": venue["owner_password"]},
            {"role": "venue_staff", "login": "gate", "password": gate_pw},
        ],
        "people": [
            {"qid": an.qid, "name": "NGUYEN LE KHA HAN", "note": "registered by both platforms: one QID"},
            {"qid": child.qid, "name": "NGUYEN HAN BAO", "note": "declared by Kha Han (household)"},
            {"qid": elder.qid, "name": "LE THI MAI", "note": "CCCD + old CMND, declared by Kha Han"},
            {"qid": binh.qid, "name": "TRAN VAN BINH", "note": "citizen account 'binh'"},
            {"qid": visitor.qid, "name": "JOHN SMITH", "note": "passport GBR C1234567"},
        ],
    }


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the demo database and keys go (default: a new temporary directory).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
@click.option("--no-serve", is_flag=True, help="Seed and print, then exit (for scripts).")
def demo_cmd(host: str, port: int, data_dir: Path | None, as_json: bool, no_serve: bool) -> None:
    """Start the platform on a fresh SQLite file with demo platforms, households, people and keys."""
    from unifiedqr.cli.platform import run_server
    from unifiedqr.config import Settings
    from unifiedqr.errors import InvalidInput
    from unifiedqr.services.context import Services

    directory = data_dir or Path(tempfile.mkdtemp(prefix="unifiedqr-demo-"))
    database = directory / "demo.sqlite"
    if database.exists():
        raise InvalidInput("--data-dir", f"{database} already exists; the demo starts from a fresh database")
    ctx = Services(Settings.from_env(f"sqlite:///{database}"))
    click.echo(f"demo database {database}", err=True)
    info = seed(ctx)
    base = f"http://{host}:{port}"
    info.update({"url": f"{base}/api/v1", "docs": f"{base}/api/v1/docs", "database": str(database)})
    if as_json:
        emit_json(info)
    else:
        _print(info, base)
    if not no_serve:
        run_server(ctx, host, port)


def _print(info: dict[str, Any], base: str) -> None:
    echo = click.echo
    echo(f"Unified Personal QR demo platform: {info['url']}")
    echo(f"  API docs (OpenAPI):   {info['docs']}")
    echo(f"  trust list:           {info['url']}/trust-list")
    echo("Platforms (Authorization: Bearer <api key>):")
    for p in info["platforms"]:
        echo(f"  {p['name']:<18} {p['platform_id']}  api key {p['api_key']}")
    echo("Accounts (POST /api/v1/auth/token, or `unifiedqr login --url URL --login LOGIN`):")
    for a in info["accounts"]:
        echo(f"  {a['role']:<16} login {a['login']:<12} password {a['password']}")
    echo("Venues (poster: unifiedqr venue poster ID --out poster.pdf --database-url sqlite:///DB):")
    for v in info["venues"]:
        echo(f"  {v['venue_id']}  {v['name']}  {v['code']}")
    echo("People:")
    for p in info["people"]:
        echo(f"  {p['qid']}  {p['name']:<20} {p['note']}")
    key = info["platforms"][0]["api_key"]
    echo("Try:")
    echo(f"  curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\")
    echo(
        "    -d '"
        + json.dumps(
            {"document_number": "001093029318", "full_name": "Phạm Thu Hà", "birth_date": "1995-05-05"}
        )
        + f"' {base}/api/v1/people"
    )
    echo(
        f"  curl -s '{base}/api/v1/people/{info['people'][0]['qid']}/code?format=text'"
        f" -H 'Authorization: Bearer {key}'"
    )
