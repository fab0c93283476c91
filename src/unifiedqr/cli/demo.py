"""``unifiedqr demo``: a fresh SQLite platform with seeded data, served until interrupted.

The newcomer's first command: it shows the whole flow (two apps, the same person, one QID and one
code text once the holder consents by SMS code, households declared by proxy, citizen log-in,
declarations) without any set-up. Every
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


def _password() -> str:
    return secrets.token_urlsafe(9)


def seed(ctx: Any) -> dict[str, Any]:
    """Platforms, accounts, households, people, declarations and a venue; returns what to print."""
    from unifiedqr.cli.platform import operator

    host = operator()
    info: dict[str, Any] = {"accounts": [], "platforms": [], "people": [], "venues": []}
    platforms = _platforms(ctx, host, info)
    _staff_accounts(ctx, host, info)
    people = _people(ctx, platforms, info)
    _citizens(ctx, host, people, info)
    _declarations(ctx, platforms, people)
    _health_records(ctx, host, people)
    _venue(ctx, host, info)
    _tracing(ctx, people, info)
    return info


def _platforms(ctx: Any, host: Any, info: dict[str, Any]) -> dict[str, Any]:
    """Two apps, as the national rollout had; their principals, for registering people."""
    from unifiedqr.services import accounts

    principals = {}
    for short, name in (("pc", "PC-Covid (demo)"), ("bz", "Bluezone (demo)")):
        created = accounts.create_platform(ctx, host, name)
        info["platforms"].append(
            {"name": name, "platform_id": created.platform_id, "api_key": created.api_key}
        )
        principals[short] = ctx.authenticate("Bearer " + created.api_key)
    return principals


def _staff_accounts(ctx: Any, host: Any, info: dict[str, Any]) -> None:
    from unifiedqr.services import accounts

    for role, name, login in (
        ("administrator", "Demo administrator", "admin"),
        ("health_official", "Demo health official", "official"),
        ("tracer", "Demo contact tracer", "tracer"),
        ("assessor", "Demo assessor", "assessor"),
    ):
        password = _password()
        accounts.create_account(ctx, host, accounts.AccountRequest(role, name, password, username=login))
        info["accounts"].append({"role": role, "login": login, "password": password})


def _link_with_consent(ctx: Any, platform: Any, asked: Any, phone: str) -> Any:
    """The second app meets a person the first registered: it gets a consent request (202), the
    holder gets a code by SMS (here: the outbox), and the app completes with it (docs/api.md)."""
    import re

    from unifiedqr.cli.platform import operator
    from unifiedqr.services import consents, sms

    assert isinstance(asked, consents.ConsentRequired)
    text = [m.text for m in sms.outbox(ctx, operator()) if m.to == phone][-1]
    found = re.search(r"\b([0-9]{6})\b", text)
    assert found is not None
    return consents.complete(ctx, platform, asked.consent_id, found.group(1))


def _people(ctx: Any, platforms: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """The guidance's sample person registered by both apps (one QID), a household, a passport."""
    from unifiedqr.services import registry

    reg = registry.Registration
    pc, bz = platforms["pc"], platforms["bz"]

    def register(platform: Any, registration: Any) -> registry.Issued:
        issued = registry.register(ctx, platform, registration)
        assert isinstance(issued, registry.Issued)
        return issued

    an = register(
        pc,
        reg("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18", "male", "0944713700", "HS4010120878821"),
    )
    asked = registry.register(ctx, bz, reg("001093029317", "Nguyen Le Kha Han", "1987-01-18"))
    same = _link_with_consent(ctx, bz, asked, "0944713700")
    assert same.qid == an.qid and same.payload == an.payload
    child = register(pc, reg("001215000123", "Nguyễn Hân Bảo", "2015-06-01", "female", proxy_qid=an.qid))
    elder = register(
        pc,
        reg(
            "012345678901",
            "Lê Thị Mai",
            "1950-03-09",
            "female",
            old_document_number="123456789",
            proxy_qid=an.qid,
        ),
    )
    binh = register(bz, reg("079088001234", "Trần Văn Bình", "1988-11-30", "male", "0912345678"))
    visitor = register(bz, reg("C1234567", "John Smith", "1979-07-04", "male", nationality="GBR"))
    info["people"] += [
        {
            "qid": an.qid,
            "name": "NGUYEN LE KHA HAN",
            "note": "registered by PC-Covid; Bluezone linked with her SMS code: one QID",
        },
        {"qid": child.qid, "name": "NGUYEN HAN BAO", "note": "declared by Kha Han (household)"},
        {"qid": elder.qid, "name": "LE THI MAI", "note": "CCCD + old CMND, declared by Kha Han"},
        {"qid": binh.qid, "name": "TRAN VAN BINH", "note": "citizen account 'binh'"},
        {"qid": visitor.qid, "name": "JOHN SMITH", "note": "passport GBR C1234567"},
    ]
    return {"an": an, "child": child, "binh": binh}


def _citizens(ctx: Any, host: Any, people: dict[str, Any], info: dict[str, Any]) -> None:
    from unifiedqr.services import accounts

    for person, name, login, by_phone in (
        (people["an"], "Nguyen Le Kha Han", "0944713700", True),
        (people["binh"], "Tran Van Binh", "binh", False),
    ):
        password = _password()
        request = accounts.AccountRequest(
            "citizen",
            name,
            password,
            username=None if by_phone else login,
            phone=login if by_phone else None,
            qid=person.qid,
        )
        accounts.create_account(ctx, host, request)
        info["accounts"].append({"role": "citizen", "login": login, "password": password, "qid": person.qid})


def _declarations(ctx: Any, platforms: dict[str, Any], people: dict[str, Any]) -> None:
    from unifiedqr.services import declarations as d

    today = dt.date.today()
    d.submit(
        ctx,
        platforms["pc"],
        people["child"].qid,
        d.HealthDeclaration(
            address=d.Address("Hà Nội", "Hoàn Kiếm", "Hàng Bạc", "1 Hàng Bạc"),
            symptoms=d.Symptoms(cough=True),
        ),
    )
    d.submit(
        ctx,
        platforms["bz"],
        people["binh"].qid,
        d.MovementDeclaration(
            origin=d.Address("Hồ Chí Minh", "Quận 1"),
            destination=d.Address("Đà Nẵng", "Hải Châu"),
            transport=d.Transport.PLANE,
            departure_date=today,
            arrival_date=today,
            vehicle_number="VN123",
        ),
    )


def _health_records(ctx: Any, host: Any, people: dict[str, Any]) -> None:
    """Vaccinations, so the demo's cards and doors show colours: Kha Han green (two doses), Bình
    yellow (one dose); everyone else has no record (red under the default rule file)."""
    from unifiedqr.services import health

    today = dt.date.today()
    for person, doses in ((people["an"], (120, 60)), (people["binh"], (30,))):
        for number, days_ago in enumerate(doses, start=1):
            body = {
                "kind": "vaccination",
                "date": (today - dt.timedelta(days=days_ago)).isoformat(),
                "dose": number,
                "doses_in_series": 2,
                "product": "Comirnaty",
            }
            health.add(ctx, host, person.qid, body)


def _venue(ctx: Any, host: Any, info: dict[str, Any]) -> None:
    """A restaurant with two entrances, its owner (created with it) and a gate staff login."""
    from unifiedqr.services import venues

    venue = venues.register(
        ctx,
        host,
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
    gate_pw = _password()
    venues.add_staff(ctx, host, venue.venue_id, name="Demo gate staff", username="gate", password=gate_pw)
    info["venues"].append({"venue_id": venue.venue_id, "name": venue.name, "code": venue.code})
    info["accounts"] += [
        {"role": "venue_owner", "login": "0987000111", "password": venue.owner_password},
        {"role": "venue_staff", "login": "gate", "password": gate_pw},
    ]


def _tracing(ctx: Any, people: dict[str, Any], info: dict[str, Any]) -> None:
    """Yesterday's lunch at the restaurant (Bình, Kha Han, three visitors by phone), and an open case
    for Bình, so the officials' console has a trace, a graph and a timeline on its first click."""
    from unifiedqr.services import accounts, checkins, tracing

    def principal(role: str) -> Any:
        account = next(a for a in info["accounts"] if a["role"] == role)
        return ctx.credential(accounts.login(ctx, account["login"], account["password"]).access_token)

    gate, official = principal("venue_staff"), principal("health_official")
    offset = ctx.venues.rules.offset
    local = dt.timezone(offset)
    day = (dt.datetime.now(dt.UTC) + offset).date() - dt.timedelta(days=1)
    venue = info["venues"][0]["venue_id"]

    def at(hour: int, minute: int) -> str:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=local).isoformat()

    visits: list[tuple[dict[str, str], str, str]] = [
        ({"text": people["binh"].payload}, at(12, 5), at(12, 55)),
        ({"text": people["an"].payload}, at(12, 15), at(13, 10)),
        ({"phone": "0912000701"}, at(12, 20), at(12, 45)),
        ({"phone": "0912000702"}, at(12, 40), at(13, 30)),
        ({"phone": "0912000703"}, at(19, 0), at(19, 40)),
    ]
    for who, start, end in visits:
        for when in (start, end):
            checkins.staff_scan(ctx, gate, checkins.StaffScan(venue, at=when, **who))
    window_start = dt.datetime(day.year, day.month, day.day, tzinfo=local) - dt.timedelta(days=2)
    tracing.open_case(
        ctx,
        official,
        tracing.NewCase(
            people["binh"].qid,
            window_start.isoformat(),
            dt.datetime.now(dt.UTC).isoformat(),
            note="demo: a positive test today",
        ),
    )


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
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Serve https with this certificate (with --tls-key): a phone's camera page needs TLS.",
)
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None)
def demo_cmd(
    host: str,
    port: int,
    data_dir: Path | None,
    as_json: bool,
    no_serve: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Start the platform on a fresh SQLite file with demo platforms, households, people and keys.

    The venue codes (and posters) point at the demo's own address, so opening a code's URL on this
    machine reaches its check-in page (``UNIFIEDQR_VENUE_BASE_URL`` overrides it, e.g. with the
    https address a phone on the same network can reach).
    """
    from unifiedqr.cli.platform import run_server
    from unifiedqr.config import DEFAULT_VENUE_BASE_URL, Settings
    from unifiedqr.errors import InvalidInput
    from unifiedqr.services.context import Services
    from unifiedqr.store.db import upgrade

    if (tls_cert is None) != (tls_key is None):
        raise InvalidInput("--tls-key", "give both --tls-cert and --tls-key, or neither")
    directory = data_dir or Path(tempfile.mkdtemp(prefix="unifiedqr-demo-"))
    database = directory / "demo.sqlite"
    if database.exists():
        raise InvalidInput("--data-dir", f"{database} already exists; the demo starts from a fresh database")
    scheme = "https" if tls_cert else "http"
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    settings = Settings.from_env(f"sqlite:///{database}")
    if settings.venues.base_url == DEFAULT_VENUE_BASE_URL:  # the placeholder: use our own address
        settings = settings.with_venue_base_url(base)
    upgrade(settings.database_url)
    ctx = Services(settings)
    click.echo(f"demo database {database}", err=True)
    info = seed(ctx)
    info.update(
        {
            "url": f"{base}/api/v1",
            "docs": f"{base}/api/v1/docs",
            "home": f"{base}/",
            "database": str(database),
        }
    )
    if as_json:
        emit_json(info)
    else:
        _print(info, base)
    if not no_serve:
        run_server(ctx, host, port, tls=(tls_cert, tls_key) if tls_cert and tls_key else None)


def _print(info: dict[str, Any], base: str) -> None:
    echo = click.echo
    echo(f"Unified Personal QR demo: open {info['home']} and sign in with an account below")
    echo(f"  API:                  {info['url']}")
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
    echo(f"SMS outbox (consent codes): unifiedqr admin outbox --database-url sqlite:///{info['database']}")
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
