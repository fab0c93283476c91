"""``unifiedqr render`` and ``unifiedqr scan`` through click, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from unifiedqr.cli import main

from .conftest import SAMPLE, open_png, rasterise_pdf, rasterise_svg, raw_read


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_contract_card_then_scan_json(runner: CliRunner, tmp_path: Path) -> None:
    card = tmp_path / "card.png"
    result = runner.invoke(main, ["render", "-", "--card", "--png", str(card)], input=SAMPLE + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    scanned = runner.invoke(main, ["scan", "--json", str(card)])
    assert scanned.exit_code == 0
    assert json.loads(scanned.stdout) == [{"file": str(card), "text": SAMPLE, "kind": "personal"}]


@pytest.mark.parametrize("status", ["green", "yellow", "red", "neutral"])
def test_card_status_and_full(runner: CliRunner, tmp_path: Path, status: str) -> None:
    out = tmp_path / "card.pdf"
    result = runner.invoke(
        main, ["render", SAMPLE, "--card", "--full", "--status", status, "--pdf", str(out)]
    )
    assert result.exit_code == 0, result.output
    image, (width_mm, _) = rasterise_pdf(out.read_bytes(), dpi=120)
    assert width_mm > 50
    assert [b.text for b in raw_read(image)] == [SAMPLE]


def test_symbol_formats(runner: CliRunner, tmp_path: Path) -> None:
    png, svg, pdf = tmp_path / "a.png", tmp_path / "a.svg", tmp_path / "a.pdf"
    for args in (["--png", str(png), "--ec", "H", "--scale", "4"], ["--svg", str(svg)], ["--pdf", str(pdf)]):
        result = runner.invoke(main, ["render", SAMPLE, *args])
        assert result.exit_code == 0, result.output
    [barcode] = raw_read(open_png(png.read_bytes()))
    assert (barcode.text, barcode.ec_level) == (SAMPLE, "H")
    assert [b.text for b in raw_read(rasterise_svg(svg.read_text()))] == [SAMPLE]
    image, (width_mm, height_mm) = rasterise_pdf(pdf.read_bytes())
    assert width_mm == pytest.approx(height_mm) and width_mm >= 50
    assert [b.text for b in raw_read(image)] == [SAMPLE]


def test_png_print_size(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "a.png"
    assert (
        runner.invoke(
            main, ["render", SAMPLE, "--png", str(out), "--size-mm", "60", "--dpi", "200"]
        ).exit_code
        == 0
    )
    image = open_png(out.read_bytes())
    assert image.info["dpi"] == pytest.approx((200, 200), abs=0.01)
    assert image.width / 200 * 25.4 >= 60


def test_terminal(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", SAMPLE, "--terminal"])
    assert result.exit_code == 0
    assert "█" in result.stdout and "▀" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes in a pipe or a file
    card = runner.invoke(main, ["render", SAMPLE, "--terminal", "--card"])
    assert (
        "NGUYEN LE KHA HAN" in card.stdout and "******029317" in card.stdout and "1987-**-**" in card.stdout
    )
    assert "001093029317" not in card.stdout
    full = runner.invoke(main, ["render", SAMPLE, "--terminal", "--card", "--full"])
    assert "001093029317" in full.stdout and "1987-01-18" in full.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["render", SAMPLE],
        ["render", SAMPLE, "--terminal", "--png", "x.png"],
        ["render", SAMPLE, "--terminal", "--full"],
        ["render", SAMPLE, "--card", "--svg", "x.svg"],
        ["render", SAMPLE, "--terminal", "--status", "blue"],
    ],
)
def test_usage_errors(runner: CliRunner, args: list[str]) -> None:
    assert runner.invoke(main, args).exit_code == 2


def test_card_needs_a_personal_code(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["render", "https://example.vn", "--card", "--png", str(tmp_path / "c.png")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert not (tmp_path / "c.png").exists()


def test_scan_reports_bad_files_and_goes_on(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "a-good.png"
    assert runner.invoke(main, ["render", SAMPLE, "--png", str(good)]).exit_code == 0
    (tmp_path / "b-empty.png").write_bytes(b"")
    (tmp_path / "c-text.jpg").write_text("not an image")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    blank = tmp_path / "d-blank.png"
    open_png(good.read_bytes()).point(lambda _: 255).save(blank)
    result = runner.invoke(main, ["scan", "--json", str(tmp_path), str(tmp_path / "missing.png")])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{"file": str(good), "text": SAMPLE, "kind": "personal"}]
    errors = result.stderr.splitlines()
    assert len(errors) == 4
    assert any("b-empty.png: empty file" in e for e in errors)
    assert any("c-text.jpg: not a PNG, JPEG or WebP image" in e for e in errors)
    assert any("d-blank.png: no readable QR code" in e for e in errors)
    assert any("missing.png" in e for e in errors)


def test_scan_text_output(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "a.png"
    runner.invoke(main, ["render", SAMPLE, "--png", str(good)])
    result = runner.invoke(main, ["scan", str(good)])
    assert result.exit_code == 0
    assert result.stdout == f"{good}\tpersonal\t{SAMPLE}\n"


def test_scan_empty_directory(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["scan", str(tmp_path)])
    assert result.exit_code == 1 and "no image files" in result.stderr
