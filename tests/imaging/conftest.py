"""Shared fixtures and helpers for the imaging tests: the published sample and pixel readers."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from unifiedqr.codes.payload import PersonalCode, parse

SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"


@pytest.fixture
def sample_code() -> PersonalCode:
    return parse(SAMPLE)


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def raw_read(image: Image.Image | np.ndarray) -> list[zxingcpp.Barcode]:
    """The plain library call, used to check renders independently of our cascade."""
    gray = np.asarray(image.convert("L")) if isinstance(image, Image.Image) else image
    return zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCodeModel2),
        text_mode=zxingcpp.TextMode.Plain,
    )


def rasterise_svg(svg: str, scale: int = 6) -> Image.Image:
    """Our own rasteriser for the SVG we write: parse the unit-square runs of the one path.

    Independent of the writer's code path (regex over the text), so a malformed path or a wrong
    viewBox shows up as a failed decode.
    """
    import re

    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert view is not None
    n = int(view.group(1))
    grid = np.zeros((n, n), dtype=bool)
    path = re.search(r'<path fill="#000" d="([^"]*)"', svg)
    assert path is not None
    for x, y, w in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\3z", path.group(1)):
        grid[int(y), int(x) : int(x) + int(w)] = True
    gray = np.where(grid, 0, 255).astype(np.uint8).repeat(scale, 0).repeat(scale, 1)
    return Image.fromarray(gray)


def rasterise_pdf(data: bytes, dpi: int = 150) -> tuple[Image.Image, tuple[float, float]]:
    """First page rendered by pdfium, and the page size in millimetres."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    page = document[0]
    width_pt, height_pt = page.get_size()
    image = page.render(scale=dpi / 72).to_pil()
    document.close()
    return image, (width_pt / 72 * 25.4, height_pt / 72 * 25.4)
