"""``unifiedqr health import``: health records from a CSV file, all rows or none (host command).

The file is checked whole first (:func:`unifiedqr.services.health_records.read_csv`, every bad row
reported with its row number as a spreadsheet shows it), then every QID is checked, then the rows
are written in one transaction with a progress bar on stderr; any problem imports nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from unifiedqr.cli.common import emit_json, json_option
from unifiedqr.cli.platform import DB_OPTION, open_services, operator


@click.group("health")
def health_group() -> None:
    """Health records: vaccinations, tests and recoveries behind the colour (docs/health-status.md)."""


@health_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB_OPTION
@json_option
def import_cmd(file: Path, database_url: str | None, as_json: bool) -> None:
    """Import FILE.csv (columns qid,kind,date,dose,doses_in_series,product,taken_at,method,result).

    Prints the count; with any bad row, prints one line per problem on stderr, imports nothing and
    exits 1.
    """
    from unifiedqr.services import health
    from unifiedqr.services.health_records import RowErrors, read_csv

    ctx = open_services(database_url)
    try:
        with file.open("rb") as stream:
            try:
                rows = read_csv(stream, ctx.now())
                with click.progressbar(
                    length=len(rows), label="importing", file=click.get_text_stream("stderr")
                ) as bar:
                    result = health.import_records(ctx, operator(), rows, bar.update)
            except RowErrors as exc:
                for problem in exc.problems:
                    click.echo(f"row {problem.row}: {problem.field}: {problem.reason}", err=True)
                click.echo(f"error: {exc.reason}", err=True)
                raise SystemExit(1) from None
    finally:
        ctx.close()
    if as_json:
        emit_json({"imported": result.imported, "people": result.people})
    else:
        click.echo(f"imported {result.imported} records of {result.people} people")
