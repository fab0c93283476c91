"""``unifiedqr ingest consume``: stream mode's consumers on their own (``serve`` runs them too).

Why a command of its own: an operator may scale the writers apart from the API workers (set
``UNIFIEDQR_INGEST_CONSUMERS=0`` on the API nodes), or pause them; the drills stop and resume this
process to show a backlog drain. The consumers acknowledge a message only after its batch commits.
"""

from __future__ import annotations

import asyncio
import signal
import time

import click

from unifiedqr.cli.platform import DB_OPTION, open_services


@click.group("ingest")
def ingest_group() -> None:
    """Stream mode (UNIFIEDQR_INGEST): run the consumers that write accepted scans to the database."""


@ingest_group.command("consume")
@click.option(
    "--consumers", default=2, show_default=True, type=click.IntRange(1, 64), help="Concurrent consumers."
)
@DB_OPTION
def consume_cmd(consumers: int, database_url: str | None) -> None:
    """Pull accepted scans from the stream and store them, until interrupted; a count every 10 s."""
    from unifiedqr.errors import ConfigError
    from unifiedqr.services import ingest

    ctx = open_services(database_url)
    stream = ctx.stream
    if stream is None:
        raise ConfigError("UNIFIEDQR_INGEST", "set it to nats://HOST:PORT: there is no stream to consume")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        connecting = asyncio.create_task(stream.keep_connecting(stop))
        tasks = [asyncio.create_task(ingest.run_consumer(ctx, stop)) for _ in range(consumers)]
        started = time.monotonic()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 10)
            except TimeoutError:
                stats = stream.stats
                click.echo(
                    f"{time.monotonic() - started:.0f} s: stored {stats['stored']:.0f},"
                    f" already {stats['already_stored']:.0f}, refused {stats['rejected']:.0f},"
                    f" retried {stats['retried']:.0f}",
                    err=True,
                )
        await asyncio.gather(connecting, *tasks, return_exceptions=True)
        await stream.close()

    try:
        asyncio.run(run())
    finally:
        ctx.close()
