"""Printable layouts: the personal card a citizen shows at a door, and a venue poster.

Sizes are in millimetres at a given dpi, so the same layout serves a phone screen (low dpi) and
print (300 dpi). The print minimums of the guidance are built in: the symbol of a card is at least
5 × 5 cm, the symbol of a poster at least 15 × 15 cm. Text uses the DejaVu Sans fonts shipped in
``fonts/`` (Vietnamese coverage, permissive licence), never a system font a fresh machine may lack.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

from unifiedqr.codes.display import display_birth_date, display_document
from unifiedqr.codes.payload import PersonalCode, format_code
from unifiedqr.errors import InvalidInput
from unifiedqr.imaging.pdf import image_to_pdf
from unifiedqr.imaging.render import MIN_BORDER, MM_PER_INCH, encode, padded, png_bytes, to_gray

CARD_CODE_MM: Final = 50.0
POSTER_CODE_MM: Final = 150.0
DEFAULT_DPI: Final = 300
A4_MM: Final = (210.0, 297.0)

#: Frame colour and label per status (the health colours' names); ``neutral`` is the faded colour of a
#: province without rules and of a code that cannot be trusted.
STATUSES: Final[dict[str, tuple[tuple[int, int, int], str]]] = {
    "green": ((30, 158, 74), "Thẻ xanh"),
    "yellow": ((242, 183, 5), "Thẻ vàng"),
    "red": ((215, 38, 61), "Thẻ đỏ"),
    "neutral": ((184, 190, 198), "Chưa xác định"),
}
PLAIN: Final = (31, 78, 121)
INK: Final = (20, 24, 28)
MUTED: Final = (90, 98, 108)


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans at ``size`` px (BASIC layout: identical output with or without raqm)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    with resources.as_file(resources.files("unifiedqr.imaging") / "fonts" / name) as path:
        return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def mm(value: float, dpi: int) -> int:
    return round(value / MM_PER_INCH * dpi)


def _check_dpi(dpi: int) -> int:
    if not isinstance(dpi, int) or not 50 <= dpi <= 1200:
        raise InvalidInput("dpi", f"must be 50..1200, not {dpi!r}")
    return dpi


def code_image(text: str, code_mm: float, dpi: int, ec: str = "M") -> Image.Image:
    """The symbol with its quiet zone, whole pixels per module, symbol side ≥ ``code_mm``."""
    symbol = encode(text, ec=ec)
    scale = max(1, math.ceil(code_mm / MM_PER_INCH * dpi / symbol.size))
    return Image.fromarray(to_gray(padded(symbol, MIN_BORDER), scale)).convert("RGB")


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    """The largest font ≤ ``size`` px at which ``text`` fits in ``width`` (long names shrink)."""
    while size > 8:
        face = font(size, bold)
        if draw.textlength(text, font=face) <= width:
            return face
        size -= max(1, size // 10)
    return font(8, bold)


def _centred(
    draw: ImageDraw.ImageDraw,
    y: int,
    text: str,
    face: ImageFont.FreeTypeFont,
    width: int,
    fill: tuple[int, int, int],
) -> int:
    """Draw one centred line at ``y``; return the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((width - (right - left)) // 2 - left, y - top), text, font=face, fill=fill)
    return y + round(bottom - top)


def card_image(
    code: PersonalCode, *, full: bool = False, status: str | None = None, dpi: int = DEFAULT_DPI
) -> Image.Image:
    """The personal card: status frame, header, the code (≥ 5 cm), name, document and birth date.

    Document number and birth date are masked unless ``full``; the symbol always carries the code
    exactly as given (a masked payload, the "safe QR", is the caller's choice of ``code``).
    """
    dpi = _check_dpi(dpi)
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    qr = code_image(format_code(code), CARD_CODE_MM, dpi)
    colour, label = STATUSES[status] if status else (PLAIN, "")
    frame = mm(5, dpi) if status else mm(1, dpi)
    pad = mm(4, dpi)
    inner_w = qr.width
    width = inner_w + 2 * frame
    header_h = mm(12, dpi)
    text_h = mm(30, dpi)
    height = frame + header_h + qr.height + text_h + frame
    card = Image.new("RGB", (width, height), colour if status else (200, 205, 210))
    draw = ImageDraw.Draw(card)
    draw.rectangle((frame, frame, width - frame - 1, height - frame - 1), fill=(255, 255, 255))
    draw.rectangle((frame, frame, width - frame - 1, frame + header_h - 1), fill=colour)
    on_colour = INK if status in ("yellow", "neutral") else (255, 255, 255)
    title = "MÃ QR CÁ NHÂN" + (f" · {label}" if label else "")
    face = _fit(draw, title, inner_w - 2 * pad, mm(5, dpi), True)
    box = draw.textbbox((0, 0), title, font=face)
    draw.text(
        ((width - (box[2] - box[0])) // 2 - box[0], frame + (header_h - (box[3] - box[1])) // 2 - box[1]),
        title,
        font=face,
        fill=on_colour,
    )
    card.paste(qr, (frame, frame + header_h))
    y = frame + header_h + qr.height
    y = _centred(
        draw, y, code.full_name, _fit(draw, code.full_name, inner_w - 2 * pad, mm(5, dpi), True), width, INK
    )
    body = font(mm(3.6, dpi))
    y += mm(3, dpi)
    y = _centred(draw, y, f"Số giấy tờ: {display_document(code, full)}", body, width, INK)
    y += mm(2, dpi)
    y = _centred(draw, y, f"Ngày sinh: {display_birth_date(code, full)}", body, width, INK)
    mode = "Hiển thị đầy đủ" if full else "Đã ẩn một phần thông tin"
    _centred(draw, y + mm(3, dpi), mode, font(mm(2.6, dpi)), width, MUTED)
    return card


def render_card_png(
    code: PersonalCode, *, full: bool = False, status: str | None = None, dpi: int = DEFAULT_DPI
) -> bytes:
    """The personal card as PNG with its dpi recorded, so it prints at the right size."""
    return png_bytes(card_image(code, full=full, status=status, dpi=dpi), dpi)


def render_card_pdf(
    code: PersonalCode, *, full: bool = False, status: str | None = None, dpi: int = DEFAULT_DPI
) -> bytes:
    """The personal card as a one-page PDF of the card's physical size."""
    return image_to_pdf(card_image(code, full=full, status=status, dpi=dpi), dpi)


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=face) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def poster_image(url: str, *, title: str, subtitle_lines: list[str], dpi: int = 200) -> Image.Image:
    """An A4 portrait poster: title, the code at ≥ 15 × 15 cm, then the subtitle lines."""
    dpi = _check_dpi(dpi)
    width, height = mm(A4_MM[0], dpi), mm(A4_MM[1], dpi)
    qr = code_image(url, POSTER_CODE_MM, dpi)
    if qr.width > width:
        raise InvalidInput("url", "too long: the code would not fit an A4 page at 15 cm")
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    margin = mm(15, dpi)
    draw.rectangle((0, 0, width - 1, mm(6, dpi)), fill=PLAIN)
    y = mm(14, dpi)
    title_face = font(mm(11, dpi), True)
    for line in _wrap(draw, title, title_face, width - 2 * margin)[:2]:
        y = _centred(draw, y, line, _fit(draw, line, width - 2 * margin, mm(11, dpi), True), width, INK)
        y += mm(3, dpi)
    code_top = max(y + mm(2, dpi), mm(45, dpi))
    page.paste(qr, ((width - qr.width) // 2, code_top))
    y = code_top + qr.height + mm(2, dpi)
    body = font(mm(6, dpi))
    for line in subtitle_lines:
        for part in _wrap(draw, line, body, width - 2 * margin):
            if y > height - mm(20, dpi):
                break
            y = _centred(draw, y, part, body, width, INK) + mm(3, dpi)
    footer = "Quét mã bằng ứng dụng hoặc camera điện thoại"
    _centred(draw, height - mm(14, dpi), footer, font(mm(4, dpi)), width, MUTED)
    return page


def render_poster(
    url: str,
    *,
    title: str,
    subtitle_lines: list[str],
    fmt: Literal["png", "pdf"] = "png",
    dpi: int = 200,
) -> bytes:
    """A printable A4 poster around any code (the venue code), as PNG (dpi recorded) or PDF."""
    if fmt not in ("png", "pdf"):
        raise InvalidInput("fmt", f"must be png or pdf, not {fmt!r}")
    image = poster_image(url, title=title, subtitle_lines=subtitle_lines, dpi=dpi)
    return png_bytes(image, dpi) if fmt == "png" else image_to_pdf(image, dpi)
