"""Round trips for every symbol format, and the rules of the symbol: EC level, quiet zone, sizes."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from unifiedqr.errors import InvalidInput
from unifiedqr.imaging import data_uri, decode_image, render_png, render_svg, render_terminal
from unifiedqr.imaging.render import MAX_BYTES, encode

from .conftest import SAMPLE, open_png, rasterise_svg, raw_read

VENUE = "https://qr.example.vn/v/01HF8Z3K?s=MEUCIQDx_abc-123"


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_png_round_trip_at_each_ec_level(ec: str) -> None:
    image = open_png(render_png(SAMPLE, ec=ec))
    found = raw_read(image)
    assert [(b.text, b.ec_level) for b in found] == [(SAMPLE, ec)]


def test_default_ec_is_m_and_h_makes_a_bigger_symbol() -> None:
    assert encode(SAMPLE).ec == "M"
    assert encode(SAMPLE, ec="h").size > encode(SAMPLE).size


@pytest.mark.parametrize(("scale", "border"), [(1, 4), (3, 4), (8, 6), (10, 10)])
def test_quiet_zone_and_module_size(scale: int, border: int) -> None:
    image = np.asarray(open_png(render_png(SAMPLE, scale=scale, border=border)).convert("L"))
    modules = encode(SAMPLE).size
    assert image.shape == ((modules + 2 * border) * scale,) * 2
    edge = border * scale
    assert image[:edge].min() == 255 and image[-edge:].min() == 255
    assert image[:, :edge].min() == 255 and image[:, -edge:].min() == 255
    assert image[edge, edge] == 0  # the finder pattern's corner starts right after the quiet zone


def test_default_scale_is_8_pixels_per_module() -> None:
    image = open_png(render_png(SAMPLE))
    assert image.size[0] == (encode(SAMPLE).size + 8) * 8


def test_print_size_in_mm_at_dpi() -> None:
    image = open_png(render_png(SAMPLE, size_mm=50, dpi=300))
    modules = encode(SAMPLE).size
    module_px = image.size[0] // (modules + 8)
    assert modules * module_px >= 50 / 25.4 * 300
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert raw_read(image)[0].text == SAMPLE


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ec": "X"}, "ec"),
        ({"border": 3}, "border"),
        ({"scale": 0}, "scale"),
        ({"scale": 65}, "scale"),
    ],
)
def test_bad_render_options(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        render_png(SAMPLE, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_too_long_and_empty_payloads() -> None:
    with pytest.raises(InvalidInput, match="do not fit"):
        render_png("9" * (MAX_BYTES["M"] + 1))
    with pytest.raises(InvalidInput, match="nothing"):
        render_png("")
    assert (
        raw_read(open_png(render_png("a" * MAX_BYTES["L"], ec="L", scale=2)))[0].text == "a" * MAX_BYTES["L"]
    )


def test_ascii_has_no_eci_and_other_text_is_utf8() -> None:
    [ascii_code] = raw_read(open_png(render_png(SAMPLE)))
    assert ascii_code.bytes == SAMPLE.encode("ascii")
    # the reader's API does not expose the ECI header, so compare matrices: ours is zint's plain one
    plain = zxingcpp.create_barcode(SAMPLE, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    with_eci = zxingcpp.create_barcode(SAMPLE, zxingcpp.BarcodeFormat.QRCode, ec_level="M", eci="UTF-8")
    matrix = encode(SAMPLE).modules
    assert np.array_equal(matrix, np.asarray(plain.to_image(add_quiet_zones=False)) < 128)
    assert not np.array_equal(matrix, np.asarray(with_eci.to_image(add_quiet_zones=False)) < 128)
    for text in ("Nguyễn Lê Kha Hân · Đặng Thị Ánh", "¡", "日本"):  # zint alone: Latin-1 / Shift_JIS
        [barcode] = raw_read(open_png(render_png(text)))
        assert barcode.text == text
        assert barcode.bytes == text.encode("utf-8")


def test_svg_round_trip_with_own_rasteriser() -> None:
    svg = render_svg(VENUE)
    assert svg.startswith("<?xml") and 'shape-rendering="crispEdges"' in svg
    assert [b.text for b in raw_read(rasterise_svg(svg))] == [VENUE]
    grid = np.asarray(rasterise_svg(svg, scale=1))
    assert grid[:4].min() == 255 and grid[:, :4].min() == 255


def test_svg_print_size() -> None:
    svg = render_svg(SAMPLE, size_mm=50)
    assert 'width="50mm" height="50mm"' in svg


def _terminal_to_image(text: str) -> Image.Image:
    rows: list[list[bool]] = []
    for line in text.splitlines():
        line = line.removeprefix("\x1b[30;107m").removesuffix("\x1b[0m")
        top = [ch in "▀█" for ch in line]
        bottom = [ch in "▄█" for ch in line]
        rows += [top, bottom]
    grid = np.array(rows, dtype=bool)
    return Image.fromarray(np.where(grid, 0, 255).astype(np.uint8).repeat(6, 0).repeat(6, 1))


@pytest.mark.parametrize("ansi", [True, False])
def test_terminal_round_trip(ansi: bool) -> None:
    out = render_terminal(SAMPLE, ansi=ansi)
    assert ("\x1b[" in out) is ansi
    assert [b.text for b in raw_read(_terminal_to_image(out))] == [SAMPLE]


def test_data_uri_round_trip() -> None:
    uri = data_uri(SAMPLE)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    png = base64.b64decode(uri[len(prefix) :], validate=True)
    assert [d.text for d in decode_image(png)] == [SAMPLE]


@settings(max_examples=25, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=120))
def test_any_text_round_trips(text: str) -> None:
    image = Image.open(io.BytesIO(render_png(text, scale=3)))
    assert [b.text for b in raw_read(image)] == [text]
