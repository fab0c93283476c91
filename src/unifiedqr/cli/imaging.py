"""``unifiedqr render`` and ``unifiedqr scan``: thin adapters over :mod:`unifiedqr.imaging`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from unifiedqr.cli.common import emit_json, read_code_argument
from unifiedqr.codes.classify import EU_DCC
from unifiedqr.errors import InvalidInput


def _payload_text(value: str) -> str:
    """The payload as text; a trailing newline from ``unifiedqr issue | ...`` is not part of it."""
    data = read_code_argument(value)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("payload", "not UTF-8 text") from None
    text = text.rstrip("\r\n")
    if not text:
        raise InvalidInput("payload", "empty")
    return text


def _colour() -> bool:
    """Force dark-on-light colours on a terminal (a dark theme would invert the code), not in a pipe."""
    return sys.stdout.isatty()


def _write(path: Path, data: bytes | str) -> None:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    click.echo(f"wrote {path}", err=True)


@click.command("render")
@click.argument("payload")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a PNG.")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an SVG.")
@click.option(
    "--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page PDF."
)
@click.option("--terminal", is_flag=True, help="Print the code with Unicode blocks on stdout.")
@click.option("--card", is_flag=True, help="The personal card: code, name, document number, birth date.")
@click.option("--full", is_flag=True, help="Card: show document number and birth date unmasked.")
@click.option(
    "--status",
    type=click.Choice(["green", "yellow", "red", "neutral"]),
    help="Card: colour frame (neutral: no rule applies, or the code cannot be trusted).",
)
@click.option(
    "--ec",
    type=click.Choice(["L", "M", "Q", "H"], case_sensitive=False),
    default="M",
    show_default=True,
    help="Error-correction level: H survives more damage, M keeps the symbol smaller.",
)
@click.option("--scale", type=click.IntRange(1, 64), help="Pixels per module (PNG).")
@click.option(
    "--size-mm",
    type=click.FloatRange(5, 1000),
    help="Symbol side in mm (PNG, SVG, PDF; a card is always >= 50 mm).",
)
@click.option("--dpi", type=click.IntRange(50, 1200), default=300, show_default=True, help="For print sizes.")
def render_cmd(
    payload: str,
    png_path: Path | None,
    svg_path: Path | None,
    pdf_path: Path | None,
    terminal: bool,
    card: bool,
    full: bool,
    status: str | None,
    ec: str,
    scale: int | None,
    size_mm: float | None,
    dpi: int,
) -> None:
    """Render PAYLOAD (or - for stdin) as a QR code or a personal card.

    Exactly one of --png, --svg, --pdf, --terminal. A card's symbol is at least 5 x 5 cm in print;
    its document number and birth date are masked unless --full.
    """
    outputs = [o for o in (png_path, svg_path, pdf_path) if o is not None] + ([terminal] if terminal else [])
    if len(outputs) != 1:
        raise click.UsageError("give exactly one of --png F, --svg F, --pdf F, --terminal")
    if (full or status) and not card:
        raise click.UsageError("--full and --status apply to --card")
    if card and svg_path is not None:
        raise click.UsageError("a card is rendered as PNG, PDF or on the terminal, not SVG")
    text = _payload_text(payload)

    from unifiedqr import imaging
    from unifiedqr.imaging import card as cards
    from unifiedqr.imaging.pdf import image_to_pdf

    if card:
        from unifiedqr.codes.display import display_birth_date, display_document
        from unifiedqr.codes.payload import parse

        code = parse(text)
        if terminal:
            click.echo(imaging.render_terminal(text, ec=ec, ansi=_colour()), nl=False)
            click.echo(code.full_name)
            click.echo(f"Số giấy tờ: {display_document(code, full)}")
            click.echo(f"Ngày sinh:  {display_birth_date(code, full)}")
        elif png_path is not None:
            _write(png_path, cards.render_card_png(code, full=full, status=status, dpi=dpi))
        elif pdf_path is not None:
            _write(pdf_path, cards.render_card_pdf(code, full=full, status=status, dpi=dpi))
        return
    if terminal:
        click.echo(imaging.render_terminal(text, ec=ec, ansi=_colour()), nl=False)
    elif png_path is not None:
        _write(
            png_path,
            imaging.render_png(text, scale=scale, ec=ec, size_mm=size_mm, dpi=dpi if size_mm else None),
        )
    elif svg_path is not None:
        _write(svg_path, imaging.render_svg(text, ec=ec, size_mm=size_mm))
    elif pdf_path is not None:
        image = cards.code_image(text, size_mm or cards.CARD_CODE_MM, dpi, ec)
        _write(pdf_path, image_to_pdf(image, dpi))


def _dcc_checker(trust_path: Path, at_text: str | None) -> Callable[[str], dict[str, Any]]:
    """A function from an HC1 text to its ``dcc verify --json`` document, trust loaded once."""
    import datetime as dt

    from unifiedqr.cli.dcc import load_signer_certificates, result_to_json
    from unifiedqr.codes.dcc import SignerTrust, verify
    from unifiedqr.codes.trust import parse_time

    trust = SignerTrust.from_der(load_signer_certificates(trust_path))
    at = parse_time(at_text, "--dcc-at") if at_text else dt.datetime.now(dt.UTC)
    return lambda text: result_to_json(verify(text, trust=trust, at=at))


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given; a directory contributes its image files (by suffix), sorted, not recursing."""
    from unifiedqr.imaging.decode import IMAGE_SUFFIXES

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            )
        else:
            files.append(path)
    return files


@click.command("scan")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of {file, text, kind}.")
@click.option("--no-cascade", is_flag=True, help="Only the plain decoder call (for comparison).")
@click.option(
    "--dcc-trust",
    "dcc_trust",
    type=click.Path(path_type=Path),
    help="Verify HC1 (EU DCC) codes against these signer certificates (as for `dcc verify --trust`).",
)
@click.option("--dcc-at", "dcc_at", help="With --dcc-trust: verify at this RFC 3339 time (default: now).")
def scan_cmd(
    images: tuple[Path, ...], as_json: bool, no_cascade: bool, dcc_trust: Path | None, dcc_at: str | None
) -> None:
    """Read every QR code in IMAGE... (PNG, JPEG, WebP files or directories of them).

    Each code is printed as FILE, KIND and TEXT (tab-separated), or as JSON with --json. A file that
    cannot be read or holds no readable code is reported on stderr; the others are still processed
    and the exit status is then 1. With --dcc-trust, each HC1 code is also verified: a fourth column
    ``dcc:<status>``, or a "dcc" object (status, stages, reasons, display) in the JSON; the outcome
    of a certificate does not change the exit status.
    """
    from unifiedqr.imaging.decode import decode_image

    check_dcc = _dcc_checker(dcc_trust, dcc_at) if dcc_trust is not None else None
    results: list[dict[str, Any]] = []
    failures = 0
    files = _expand(images)
    if not files:
        click.echo("error: no image files found", err=True)
        sys.exit(1)
    for path in files:
        try:
            found = decode_image(path, cascade=not no_cascade)
        except (InvalidInput, OSError) as exc:
            reason = exc.reason if isinstance(exc, InvalidInput) else (exc.strerror or str(exc))
            click.echo(f"{path}: {reason}", err=True)
            failures += 1
            continue
        if not found:
            click.echo(f"{path}: no readable QR code", err=True)
            failures += 1
            continue
        for item in found:
            row: dict[str, Any] = {"file": str(path), **item.to_json()}
            extra = ""
            if check_dcc is not None and item.kind == EU_DCC:
                row["dcc"] = check_dcc(item.text)
                extra = f"\tdcc:{row['dcc']['status']}"
            results.append(row)
            if not as_json:
                click.echo(f"{path}\t{item.kind}\t{item.text}{extra}")
    if as_json:
        emit_json(results)
    if failures:
        sys.exit(1)
