"""``unifiedqr purge``: delete for good what is past its retention (host command; docs/privacy.md)."""

from __future__ import annotations

import click

from unifiedqr.cli.common import emit_json, json_option
from unifiedqr.cli.platform import DB_OPTION, open_services, operator


@click.command("purge")
@DB_OPTION
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="RFC3339",
    help="Purge as of this instant (default: the clock; may be in the future).",
)
@json_option
def purge_cmd(database_url: str | None, now_text: str | None, as_json: bool) -> None:
    """Delete every scan, check-in, batch and declaration strictly older than now minus the retention
    (UNIFIEDQR_RETENTION_DAYS, 30), health records and audit rows past their own windows (365, 730).

    Prints what was removed per table. Safe to interrupt and run again.
    """
    from unifiedqr.serialize import jsonable
    from unifiedqr.services.retention import purge
    from unifiedqr.services.times import parse_instant

    now = parse_instant(now_text, "--now") if now_text is not None else None
    ctx = open_services(database_url)
    try:
        result = purge(ctx, operator(), now, lambda table, n: click.echo(f"{table}: -{n}", err=True))
    finally:
        ctx.close()
    if as_json:
        emit_json(jsonable(result))
        return
    click.echo(f"purged as of {result.now.isoformat()} in {result.seconds:.1f} s")
    for table, count in result.removed.items():
        click.echo(f"{table:<16} {count:>10}  (older than {result.cutoffs[table].isoformat()})")
