"""The local servers the benchmarks use: throwaway PostgreSQL databases and JetStream streams.

One place for the addresses and for creating and dropping, so every benchmark cleans up the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
NATS = "nats://127.0.0.1:4222"


def pg_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=2):
            return True
    except Exception:
        return False


def pg_database(name: str | None = None, reuse: bool = False) -> tuple[str, str, bool]:
    """A database on the local server: (SQLAlchemy URL, its name, whether it is new and must be
    built). ``name`` defaults to a random one; ``reuse`` keeps an existing database of that name."""
    import psycopg

    name = name or f"uqr_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reuse:
            return f"{PG_SERVER}/{name}", name, False
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}", name, True


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_stream(name: str) -> None:
    """Delete a JetStream stream a benchmark made (nothing if it is already gone)."""
    import nats

    async def drop() -> None:
        nc = await nats.connect(NATS)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(name)
        await nc.close()

    asyncio.run(drop())
