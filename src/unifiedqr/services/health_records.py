"""Health records from the outside world: the API's JSON bodies and the import CSV, strictly checked.

Pure: no database and no clock (``now`` is a parameter); the CSV arrives as an open stream. Every
refusal is an :class:`~unifiedqr.errors.InvalidInput` naming the field (``date``, ``dose``,
``rows[3].dose``) and the reason, so the API answers 422 with a problem-details body and the CLI
prints one line per bad row.

API bodies (``POST /api/v1/people/{qid}/health-records``)::

    {"kind": "vaccination", "date": "YYYY-MM-DD", "dose": n, "doses_in_series": m, "product": "..."}
    {"kind": "test", "taken_at": "<RFC 3339 with offset>", "method": "pcr" | "rapid_antigen",
     "result": "negative" | "positive"}
    {"kind": "recovery", "date": "YYYY-MM-DD"}

Checks: no key beyond the kind's own; ``dose`` and ``doses_in_series`` JSON integers 1-10 (a
booster is ``dose > doses_in_series``); ``product`` 1-100 characters, no control characters, no
white space at either end; dates real ``YYYY-MM-DD`` calendar days, not before 2019-12-01 and not
after today in Vietnam's time (UTC+7); ``taken_at`` RFC 3339 with ``Z`` or a numeric offset, at
most microsecond precision, not before 2019-12-01T00:00+07:00 and not after ``now``.

CSV import: UTF-8 (a byte-order mark is tolerated), header exactly :data:`CSV_COLUMNS`, one record
a row, the columns another kind uses left empty; rows are numbered as a spreadsheet shows them
(the header is row 1); rows whose cells are all empty are skipped. Every bad row is reported
(:class:`RowErrors`), and then nothing is returned, so a caller imports all rows or none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import IO, Any, NamedTuple

from unifiedqr.errors import InvalidInput
from unifiedqr.services import times
from unifiedqr.services.health_rule_file import METHODS, RECORD_KINDS, RESULTS
from unifiedqr.services.health_status import Record, Recovery, Test, Vaccination

VIETNAM = dt.timezone(dt.timedelta(hours=7))
EARLIEST_DATE = dt.date(2019, 12, 1)  # the first recorded cases: nothing real is older
MAX_DOSE = 10
MAX_PRODUCT_CHARS = 100
MAX_CSV_BYTES = 16 * 1024 * 1024
MAX_CSV_ROWS = 100_000
MAX_REPORTED = 10  # problems spelled out in the exception's message (all are in ``problems``)
CSV_COLUMNS = ("qid", "kind", "date", "dose", "doses_in_series", "product", "taken_at", "method", "result")
FIELDS: dict[str, tuple[str, ...]] = {
    "vaccination": ("date", "dose", "doses_in_series", "product"),
    "test": ("taken_at", "method", "result"),
    "recovery": ("date",),
}

_QID = re.compile(r"[0-9]{18}")
_WHOLE = re.compile(r"[0-9]{1,9}")
_BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------------------------------------------
# One record (API body)
# ---------------------------------------------------------------------------------------------------
def record_from_json(body: Mapping[str, Any], now: dt.datetime | None, tz: dt.tzinfo = VIETNAM) -> Record:
    """The record an API body describes, or :class:`InvalidInput` naming the first bad field.

    ``now``: the instant no record may be after (dates: not after ``now``'s date in ``tz``).
    ``None`` skips only that check, for records that were checked when stored, and test vectors.
    """
    if now is not None and (not isinstance(now, dt.datetime) or now.utcoffset() is None):
        raise InvalidInput("now", "must be a timezone-aware datetime")
    if not isinstance(body, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    if "kind" not in body:
        raise InvalidInput("kind", f"required: one of {', '.join(RECORD_KINDS)}")
    kind = body["kind"]
    if not isinstance(kind, str) or kind not in FIELDS:
        raise InvalidInput("kind", f"must be one of {', '.join(RECORD_KINDS)}")
    allowed = FIELDS[kind]
    for key in body:
        if key != "kind" and key not in allowed:
            reason = f"unknown field for kind {kind} (allowed: kind, {', '.join(allowed)})"
            raise InvalidInput(_short(key), reason)
    for key in allowed:
        if key not in body:
            raise InvalidInput(key, "required")
    if kind == "vaccination":
        return Vaccination(
            date=parse_date("date", body["date"], now, tz),
            dose=_count("dose", body["dose"]),
            doses_in_series=_count("doses_in_series", body["doses_in_series"]),
            product=_product(body["product"]),
        )
    if kind == "test":
        return Test(
            taken_at=parse_instant("taken_at", body["taken_at"], now),
            method=_choice("method", body["method"], METHODS),
            result=_choice("result", body["result"], RESULTS),
        )
    return Recovery(date=parse_date("date", body["date"], now, tz))


def parse_date(field: str, value: object, now: dt.datetime | None, tz: dt.tzinfo = VIETNAM) -> dt.date:
    """``YYYY-MM-DD``: a real calendar day from 2019-12-01 to today in ``tz`` (no limit if no ``now``).

    The grammar is :func:`unifiedqr.services.times.parse_date`'s; only the bounds are the records'.
    """
    latest = None if now is None else now.astimezone(tz).date()
    return times.parse_date(value, field, earliest=EARLIEST_DATE, latest=latest)


def parse_instant(field: str, value: object, now: dt.datetime | None) -> dt.datetime:
    """RFC 3339 (:func:`unifiedqr.services.times.parse_instant`), from 2019-12-01 (UTC+7) to ``now``.

    The instant keeps the offset it was written with, so a record reads back as it was given.
    """
    earliest = dt.datetime(EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day, tzinfo=VIETNAM)
    return times.parse_instant(value, field, earliest=earliest, latest=now, keep_offset=True, strict=True)


def _count(field: str, value: object) -> int:
    if type(value) is not int or not 1 <= value <= MAX_DOSE:
        raise InvalidInput(field, f"must be a whole number from 1 to {MAX_DOSE}")
    return value


def _product(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PRODUCT_CHARS:
        raise InvalidInput("product", f"must be text of 1 to {MAX_PRODUCT_CHARS} characters")
    if value != value.strip():
        raise InvalidInput("product", "must not start or end with white space")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise InvalidInput("product", "must not contain control or format characters")
    return value


def _choice(field: str, value: object, allowed: Sequence[str]) -> Any:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value


def _short(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


# ---------------------------------------------------------------------------------------------------
# The import file (CSV)
# ---------------------------------------------------------------------------------------------------
class CsvRecord(NamedTuple):
    """One good row: its number as a spreadsheet shows it, the person's QID and the record."""

    row: int
    qid: str
    record: Record


class RowProblem(NamedTuple):
    """One refusal: ``field`` is the full path (``rows[3].dose``), ``reason`` why."""

    row: int
    field: str
    reason: str


class RowErrors(InvalidInput):
    """Some rows of an import file are bad; ``problems`` lists every one (nothing was imported)."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        rows = len({p.row for p in self.problems})
        shown = "; ".join(f"{p.field}: {p.reason}" for p in self.problems[:MAX_REPORTED])
        more = len(self.problems) - MAX_REPORTED
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__("rows", f"{rows} bad row{'s' if rows != 1 else ''}, nothing imported: {shown}{tail}")


def read_csv(
    stream: IO[bytes] | IO[str],
    now: dt.datetime,
    *,
    max_bytes: int = MAX_CSV_BYTES,
    max_rows: int = MAX_CSV_ROWS,
    tz: dt.tzinfo = VIETNAM,
) -> list[CsvRecord]:
    """Every record of an import file, or :class:`RowErrors` listing every bad row.

    A file that cannot be read as a whole (too large, not UTF-8, not CSV, wrong header, too many
    rows) is one :class:`InvalidInput` naming ``file``, ``header`` or ``rows``.
    """
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise InvalidInput("now", "must be a timezone-aware datetime")
    text = _read_text(stream, max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _next_record(reader, 1)
    if header is None:
        raise InvalidInput("header", f"required: {','.join(CSV_COLUMNS)}")
    if tuple(header) != CSV_COLUMNS:
        got = ",".join(header)
        raise InvalidInput("header", f"must be exactly {','.join(CSV_COLUMNS)} (got {_show(got)})")
    good: list[CsvRecord] = []
    problems: list[RowProblem] = []
    data_rows = 0
    row = 1
    while (cells := _next_record(reader, row + 1)) is not None:
        row += 1
        if not any(cells):
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise InvalidInput("rows", f"more than {max_rows} rows in one file")
        found = _read_row(row, cells, now, tz)
        if isinstance(found, CsvRecord):
            good.append(found)
        else:
            problems.extend(found)
    if problems:
        raise RowErrors(problems)
    return good


def _read_text(stream: IO[bytes] | IO[str], max_bytes: int) -> str:
    chunk = stream.read(max_bytes + 1)  # text streams count characters: never fewer than bytes
    data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
    if len(data) > max_bytes:
        raise InvalidInput("file", f"larger than {max_bytes} bytes")
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("file", f"not UTF-8 (at byte offset {skipped + error.start})") from None


def _next_record(reader: Any, row: int) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as error:
        raise InvalidInput(f"rows[{row}]", f"not valid CSV ({error})") from None


def _read_row(row: int, cells: list[str], now: dt.datetime, tz: dt.tzinfo) -> CsvRecord | list[RowProblem]:
    where = f"rows[{row}]"
    if len(cells) != len(CSV_COLUMNS):
        return [RowProblem(row, where, f"has {len(cells)} columns, the header has {len(CSV_COLUMNS)}")]
    values = dict(zip(CSV_COLUMNS, cells, strict=True))
    problems: list[RowProblem] = []
    qid = values["qid"]
    if not _QID.fullmatch(qid):
        problems.append(RowProblem(row, f"{where}.qid", "must be 18 ASCII digits"))
    kind = values["kind"]
    if kind not in FIELDS:
        return [*problems, RowProblem(row, f"{where}.kind", f"must be one of {', '.join(RECORD_KINDS)}")]
    body: dict[str, Any] = {"kind": kind}
    cell_problems: list[RowProblem] = []
    for column in CSV_COLUMNS[2:]:
        cell = values[column]
        if column not in FIELDS[kind]:
            if cell:
                cell_problems.append(RowProblem(row, f"{where}.{column}", f"must be empty for kind {kind}"))
        elif column in ("dose", "doses_in_series") and cell:
            if _WHOLE.fullmatch(cell):
                body[column] = int(cell)
            else:
                reason = f"must be a whole number from 1 to {MAX_DOSE}"
                cell_problems.append(RowProblem(row, f"{where}.{column}", reason))
        elif cell:
            body[column] = cell
    record: Record | None = None
    if not cell_problems:
        try:
            record = record_from_json(body, now, tz)
        except InvalidInput as error:
            cell_problems.append(RowProblem(row, f"{where}.{error.field}", error.reason))
    problems.extend(cell_problems)
    if problems or record is None:
        return problems
    return CsvRecord(row, qid, record)


def record_to_json(record: Record) -> dict[str, Any]:
    """The API body of a record (the inverse of :func:`record_from_json`)."""
    if isinstance(record, Vaccination):
        return {
            "kind": "vaccination",
            "date": record.date.isoformat(),
            "dose": record.dose,
            "doses_in_series": record.doses_in_series,
            "product": record.product,
        }
    if isinstance(record, Test):
        return {
            "kind": "test",
            "taken_at": record.taken_at.isoformat(),
            "method": record.method,
            "result": record.result,
        }
    return {"kind": "recovery", "date": record.date.isoformat()}
