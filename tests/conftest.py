"""Fixtures shared by the functional tests: a real database (SQLite file always, PostgreSQL when it answers).

Each backend gets one database per test session (PostgreSQL: a fresh database created on the server
and dropped afterwards), migrated with Alembic once; every test starts from empty tables (the trust
keys stay). Tests talk to the real FastAPI app through ``unifiedqr.client.Client`` over Starlette's
TestClient, or to a real uvicorn on 127.0.0.1 where true concurrency matters.
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy import delete, inspect

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.support import OPERATOR, create_account, missing_service, open_test_services
from unifiedqr.api.app import create_app
from unifiedqr.client import Client
from unifiedqr.services import accounts
from unifiedqr.services.context import Services
from unifiedqr.store.db import allow_audit_deletes
from unifiedqr.store.models import Base, TrustKeyRow

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _pg_answers() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2):
            return None
    except Exception as exc:
        return (
            f"PostgreSQL on 127.0.0.1:5432 does not answer ({type(exc).__name__}); skipping PostgreSQL tests"
        )


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped at the end."""
    reason = _pg_answers()
    if reason:
        missing_service(reason)
    import psycopg

    name = f"uqr_test_{secrets.token_hex(6)}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend_services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    """One service container per backend per session (schema migrated, keys generated once)."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'platform.sqlite'}"
    else:
        url = request.getfixturevalue("pg_database")
    ctx = open_test_services(url, root / "secrets")
    yield ctx
    ctx.close()


def wipe(ctx: Services) -> None:
    """Empty every table this schema has (the trust keys stay: the issuing key is loaded once)."""
    existing = set(inspect(ctx.db.read_engine).get_table_names())
    with ctx.db.write() as session:
        allow_audit_deletes(session)
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing and table.name != TrustKeyRow.__tablename__:
                session.execute(delete(table))
    ctx.forget_credentials()
    ctx.venues.forget()
    ctx.limits.clear()


@pytest.fixture
def ctx(backend_services: Services) -> Services:
    """The session's service container, with every table emptied for this test."""
    wipe(backend_services)
    return backend_services


@pytest.fixture
def backend(ctx: Services) -> str:
    return ctx.db.dialect


_apps: dict[int, Any] = {}


@pytest.fixture
def app(ctx: Services) -> Any:
    key = id(ctx)
    if key not in _apps:
        _apps[key] = create_app(ctx)
    return _apps[key]


@pytest.fixture
def client_for(app: Any) -> Iterator[Callable[[str | None], Client]]:
    """``client_for(token)``: an API client over the real app with those credentials."""
    made: list[Client] = []

    def make(token: str | None = None) -> Client:
        http = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
        client = Client("http://testserver", token, http=http)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def anon(client_for: Callable[[str | None], Client]) -> Client:
    return client_for(None)


@pytest.fixture
def make_platform(ctx: Services, client_for: Callable[[str | None], Client]) -> Callable[[str], Client]:
    def make(name: str = "Platform") -> Client:
        created = accounts.create_platform(ctx, OPERATOR, name)
        client = client_for(created.api_key)
        client.platform_id = created.platform_id  # type: ignore[attr-defined]
        client.api_key_id = created.api_key_id  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def make_user(ctx: Services, client_for: Callable[[str | None], Client]) -> Callable[..., Client]:
    """``make_user(role, qid=None)``: an account of that role, logged in through the API."""

    def make(role: str, qid: str | None = None, username: str | None = None) -> Client:
        name = username or f"{role.replace('_', '')}{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        create_account(ctx, role=role, name=name, password=password, username=name, qid=qid)
        client = client_for(None)
        client.login(name, password)
        return client

    return make


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The real app on 127.0.0.1 (an ephemeral port), served by uvicorn in a thread."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
