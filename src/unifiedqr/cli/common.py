"""Small helpers shared by the CLI commands: input from an argument or stdin, JSON and text output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from unifiedqr.codes.payload import MAX_PAYLOAD_BYTES
from unifiedqr.errors import InvalidInput, PayloadTooLarge

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")


def read_code_argument(value: str, limit: int = MAX_PAYLOAD_BYTES) -> bytes:
    """The code text given as an argument, or read from stdin when the argument is ``-``.

    Returns bytes so that the codec does the UTF-8 check and names it; stdin is read up to the limit
    plus one byte, so an endless pipe cannot exhaust memory.
    """
    if value != "-":
        return value.encode("utf-8", "surrogateescape")
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge("payload", f"standard input holds more than {limit} bytes")
    return data


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_fields(rows: list[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        shown = "-" if value is None or value == "" else value
        click.echo(f"{label:<{width}}  {shown}")


def read_json_file(path: Path, what: str, limit: int = 4 * 1024 * 1024) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InvalidInput(what, f"{path} does not exist") from None
    if len(data) > limit:
        raise InvalidInput(what, f"{path} is larger than {limit} bytes")
    return data


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` so that only the owner can read it (mode 0600 from creation, no window)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` atomically so a crash never leaves half a trust list."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
