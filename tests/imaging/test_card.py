"""The personal card and the poster: round trips, print sizes, masking, glyphs, golden layouts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.support import update_golden
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.errors import InvalidInput
from unifiedqr.imaging import decode_image, render_card_pdf, render_card_png, render_poster
from unifiedqr.imaging.card import card_image, font

from .conftest import SAMPLE, open_png, rasterise_pdf, raw_read

GOLDEN = Path(__file__).parent / "golden"
VENUE = "https://qr.example.vn/v/01HF8Z3KQ7?s=MEUCIQDx_abc-123_def456"


def _symbol_side_px(image: Image.Image) -> float:
    [barcode] = raw_read(image)
    pos = barcode.position
    return float(np.hypot(pos.top_right.x - pos.top_left.x, pos.top_right.y - pos.top_left.y))


@pytest.mark.parametrize("status", [None, "green", "yellow", "red", "neutral"])
def test_card_png_round_trip(sample_code: PersonalCode, status: str | None) -> None:
    png = render_card_png(sample_code, status=status)
    found = decode_image(png)
    assert [(d.text, d.kind) for d in found] == [(SAMPLE, "personal")]


def test_card_code_is_at_least_5_cm_and_dpi_is_recorded(sample_code: PersonalCode) -> None:
    image = open_png(render_card_png(sample_code))
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert _symbol_side_px(image) / 300 * 25.4 >= 50  # zxing's corners are the symbol's outer corners


def test_card_pdf_has_the_physical_size_and_decodes(sample_code: PersonalCode) -> None:
    pdf = render_card_pdf(sample_code, status="red")
    assert pdf.startswith(b"%PDF-1.4")
    image, (width_mm, height_mm) = rasterise_pdf(pdf, dpi=200)
    card = card_image(sample_code, status="red")
    assert width_mm == pytest.approx(card.width / 300 * 25.4, abs=0.1)
    assert height_mm == pytest.approx(card.height / 300 * 25.4, abs=0.1)
    assert [b.text for b in raw_read(image)] == [SAMPLE]
    assert _symbol_side_px(image) / 200 * 25.4 >= 49.5


def test_masked_and_full_cards_differ_only_below_the_code(sample_code: PersonalCode) -> None:
    masked = np.asarray(card_image(sample_code, dpi=100))
    full = np.asarray(card_image(sample_code, full=True, dpi=100))
    assert masked.shape == full.shape
    rows = np.flatnonzero((masked != full).any(axis=(1, 2)))
    assert rows.size > 0
    [barcode] = raw_read(Image.fromarray(masked))
    assert rows.min() > barcode.position.bottom_left.y


def test_masked_payload_renders_too(sample_code: PersonalCode) -> None:
    from unifiedqr.codes.display import masked_variant
    from unifiedqr.codes.payload import format_code

    safe = masked_variant(sample_code)
    assert [d.text for d in decode_image(render_card_png(safe, dpi=150))] == [format_code(safe)]


def test_unknown_status_is_refused(sample_code: PersonalCode) -> None:
    with pytest.raises(InvalidInput) as info:
        render_card_png(sample_code, status="blue")
    assert info.value.field == "status"


def test_shipped_font_has_vietnamese_glyphs() -> None:
    face = font(40)

    def glyph(ch: str) -> bytes:
        canvas = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(canvas).text((5, 0), ch, font=face, fill=255)
        return canvas.tobytes()

    missing = glyph("\ue000")  # a private-use code point: the .notdef box
    assert glyph("A") != missing
    for ch in "ẠạẢảẤấẦầẨẩẪẫẬậĂăẮắẰằẲẳẴẵẶặĐđẸẹẾếỀềỂểỄễỆệỈỉỊịỐốỒồỔổỖỗỘộƠơỚớỜờỞởỠỡỢợỤụƯưỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ":
        assert glyph(ch) != missing, ch
    assert "fonts" in str(Path(face.path).parent)


def _similar(actual: Image.Image, golden_path: Path) -> tuple[bool, str]:
    golden = np.asarray(Image.open(golden_path).convert("RGB")).astype(np.int16)
    got = np.asarray(actual.convert("RGB")).astype(np.int16)
    if got.shape != golden.shape:
        return False, f"size {got.shape} != {golden.shape}"
    diff = np.abs(got - golden).max(axis=2)
    changed = float((diff > 48).mean())
    return changed < 0.005, f"{changed:.2%} of pixels differ"


@pytest.mark.parametrize(
    ("status", "full"), [(None, False), ("green", False), ("yellow", True), ("neutral", False)]
)
def test_card_layout_matches_golden(sample_code: PersonalCode, status: str | None, full: bool) -> None:
    """A layout change must be deliberate: regenerate with UNIFIEDQR_UPDATE_GOLDEN=1 and review."""
    image = card_image(sample_code, status=status, full=full, dpi=100)
    path = GOLDEN / f"card-{status or 'plain'}-{'full' if full else 'masked'}.png"
    update_golden(path, lambda target: image.save(target, optimize=True))
    ok, detail = _similar(image, path)
    assert ok, f"{path.name}: {detail}"


def test_golden_comparison_notices_a_change(sample_code: PersonalCode) -> None:
    image = card_image(sample_code, status="red", dpi=100)
    assert not _similar(image, GOLDEN / "card-green-masked.png")[0]


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_poster_round_trip_and_size(fmt: str) -> None:
    data = render_poster(
        VENUE,
        title="Quán Phở Hàng Bạc",
        subtitle_lines=["1 Hàng Bạc, Hoàn Kiếm, Hà Nội", "Quét mã khi vào và khi ra"],
        fmt=fmt,  # type: ignore[arg-type]
    )
    if fmt == "png":
        image = Image.open(io.BytesIO(data))
        dpi = round(image.info["dpi"][0])
        assert (image.size[0] / dpi * 25.4) == pytest.approx(210, abs=0.5)
    else:
        image, (width_mm, height_mm) = rasterise_pdf(data, dpi=100)
        dpi = 100
        assert (width_mm, height_mm) == (pytest.approx(210, abs=0.5), pytest.approx(297, abs=0.5))
    assert [b.text for b in raw_read(image)] == [VENUE]
    assert _symbol_side_px(image) / dpi * 25.4 >= 149.5


def test_poster_refuses_unknown_format() -> None:
    with pytest.raises(InvalidInput):
        render_poster(VENUE, title="x", subtitle_lines=[], fmt="gif")  # type: ignore[arg-type]
