"""A deterministic generator of evidence folders: phone screenshots of a personal-code screen.

Screens are drawn with Pillow and the shipped DejaVu fonts, in the layouts real apps use: a status bar,
a coloured app bar, a card with the code on a white square and the holder's name, document number and
birth date below it (label and value on one line, label above value, or two columns), a display-mode
toggle and a bottom navigation bar; light and dark themes; three phone sizes. Every knob a violation
needs is a field of :class:`ScreenSpec`. Keys are derived from fixed numbers, so the folders differ
between runs only in the random part of each ECDSA signature.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageDraw, ImageFont

from unifiedqr.codes import build, display, payload, signing
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.codes.trust import SigningKey, TrustList
from unifiedqr.imaging.card import font as shipped_font
from unifiedqr.imaging.render import encode, to_gray

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
KEY_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

#: (width, height, density): a 360 dp Android phone at 2x and 3x, and a 390 pt iPhone at 3x.
PHONES = {"small": (720, 1520, 2.0), "large": (1080, 2340, 3.0), "iphone": (1170, 2532, 3.0)}


@dataclass(frozen=True)
class Person:
    name: str  # as people write it, with diacritics
    document: str
    birth: dt.date
    qid: str
    gender: str = "male"
    phone: str | None = None
    insurance: str | None = None

    def code(self) -> PersonalCode:
        return build.build(
            document_number=self.document,
            full_name=self.name,
            birth_date=self.birth,
            qid=self.qid,
            gender=self.gender,
            phone=self.phone,
            insurance_number=self.insurance,
        )


PEOPLE = [
    Person(
        "Nguyễn Lê Kha Hân",
        "001093029317",
        dt.date(1987, 1, 18),
        "162979388586171100",
        "male",
        "0944713700",
        "HS4010120878821",
    ),
    Person(
        "Đặng Thị Ánh", "079301004512", dt.date(1994, 11, 3), "281640339105377201", "female", "0912345678"
    ),
    Person("Trần Văn Đức", "036088123456", dt.date(1962, 7, 29), "377820093314650902"),
    Person("Hoàng Thị Thu Hương", "040195007788", dt.date(2001, 5, 9), "480213376650912003", "female"),
    Person("Phạm Ngọc Thạch", "187654509", dt.date(1975, 12, 24), "519023847561029304"),
    Person("Vũ Đình Khôi", "024099876543", dt.date(1999, 2, 14), "620394857162039405", "male", "0987654321"),
    Person("Bùi Xuân Phượng", "031185002468", dt.date(1985, 8, 30), "731029384756102906", "female"),
    Person("Lê Quốc Việt", "001200013579", dt.date(2000, 4, 1), "842039485761029307"),
]


def _key(secret: int, issuer: str) -> SigningKey:
    private = ec.derive_private_key(secret, ec.SECP256R1())
    return SigningKey(private, issuer, KEY_START, KEY_START + dt.timedelta(days=730))


@dataclass(frozen=True)
class World:
    """The issuing key on the trust list, a rogue key that is not, and the trust list itself."""

    issuer: SigningKey = field(default_factory=lambda: _key(0x5EED_0001, "National platform (test)"))
    rogue: SigningKey = field(default_factory=lambda: _key(0x5EED_0002, "Self-signed app"))

    def trust(self, revoked_codes: tuple[str, ...] = ()) -> TrustList:
        return TrustList().with_key(self.issuer.public()).with_codes_revoked(revoked_codes)

    def signed(self, code: PersonalCode, key: SigningKey | None = None) -> PersonalCode:
        return signing.sign_code(code, key or self.issuer, NOW)

    def safe(self, code: PersonalCode) -> PersonalCode:
        """The signed safe (masked) code of the look-up issue."""
        return signing.sign_code(display.masked_variant(code), self.issuer, NOW)


@dataclass(frozen=True)
class Style:
    theme: str = "light"  # light | dark
    phone: str = "small"
    layout: str = (
        "inline"  # inline "Label: value" | stacked (label above) | columns (label left, value right)
    )
    name_case: str = "title"  # title | upper
    accent: tuple[int, int, int] = (22, 128, 74)
    doc_label: str = "Số CCCD"
    birth_label: str = "Ngày sinh"
    font_files: tuple[str, str] | None = None  # (regular, bold) TTF paths; None: the shipped DejaVu Sans


@dataclass(frozen=True)
class ScreenSpec:
    """One screenshot. ``None`` for a shown value leaves that line out."""

    code_text: str | None
    name: str | None
    document: str | None
    birth: str | None
    style: Style = Style()
    full_mode: bool = False
    ec_level: str = "M"
    quiet_modules: int = 4
    plate: tuple[int, int, int] | None = None  # what the app draws right around the quiet zone
    ink: tuple[int, int, int] = (0, 0, 0)
    paper: tuple[int, int, int] = (255, 255, 255)
    code_dp: int = 230
    second_code: str | None = None  # another code drawn small below the card (a second symbol)
    dots: bool = False  # round data modules (finder patterns stay square, as apps draw them)
    logo: bool = False  # a logo over the centre (needs a higher EC level to stay readable)


def shown_fields(person: Person, full: bool) -> dict[str, str]:
    """What a conforming screen shows for ``person`` in a mode (the app holds the whole record, so the
    full mode shows it whole even when the code on the screen is the safe one)."""
    birth_text = person.birth.isoformat()
    document = person.document if full else display.mask_document(person.document)
    birth = birth_text if full else display.mask_birth_date(birth_text)
    return {"name": person.name, "document": document, "birth": birth}


def spec_for(
    code: PersonalCode, person: Person, full: bool, style: Style = Style(), **changes: Any
) -> ScreenSpec:
    shown = shown_fields(person, full)
    base = ScreenSpec(
        payload.format_code(code), shown["name"], shown["document"], shown["birth"], style, full
    )
    return replace(base, **changes)


# -- drawing -----------------------------------------------------------------------------------------
def _symbol_image(spec: ScreenSpec, module_px: int) -> Image.Image:
    assert spec.code_text is not None
    symbol = encode(spec.code_text, ec=spec.ec_level)
    matrix = np.pad(symbol.modules, spec.quiet_modules, constant_values=False)
    if spec.dots:
        image = Image.new("RGB", (matrix.shape[1] * module_px, matrix.shape[0] * module_px), spec.paper)
        draw = ImageDraw.Draw(image)
        n, q = symbol.size, spec.quiet_modules
        for y, x in zip(*np.nonzero(matrix), strict=True):
            r, c = y - q, x - q
            finder = (r < 7 and c < 7) or (r < 7 and c >= n - 7) or (r >= n - 7 and c < 7)
            box = (x * module_px, y * module_px, (x + 1) * module_px - 1, (y + 1) * module_px - 1)
            if finder:
                draw.rectangle(box, fill=spec.ink)
            else:
                draw.ellipse(box, fill=spec.ink)
    else:
        gray = to_gray(matrix, module_px)
        dark = gray < 128
        rgb = np.empty((*gray.shape, 3), dtype=np.uint8)
        rgb[dark] = spec.ink
        rgb[~dark] = spec.paper
        image = Image.fromarray(rgb)
    if spec.logo:
        draw = ImageDraw.Draw(image)
        cx, cy, r = image.width // 2, image.height // 2, image.width // 10
        draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=r // 3, fill=(215, 38, 61))
    return image


def render_screen(spec: ScreenSpec) -> Image.Image:
    width, height, density = PHONES[spec.style.phone]
    style = spec.style

    def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        if style.font_files is None:
            return shipped_font(size, bold)
        return ImageFont.truetype(style.font_files[1 if bold else 0], size)

    dark = style.theme == "dark"

    def dp(value: float) -> int:
        return round(value * density)

    background = (18, 18, 20) if dark else (242, 244, 247)
    surface = (36, 37, 41) if dark else (255, 255, 255)
    text = (232, 232, 236) if dark else (24, 28, 33)
    muted = (160, 164, 172) if dark else (98, 104, 112)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    # status bar and app bar
    draw.rectangle((0, 0, width, dp(24)), fill=(0, 0, 0) if dark else style.accent)
    draw.text((dp(14), dp(4)), "9:41", font=font(dp(13), True), fill=(255, 255, 255))
    for index in range(3):
        draw.rectangle(
            (width - dp(60) + index * dp(16), dp(8), width - dp(50) + index * dp(16), dp(17)),
            fill=(255, 255, 255),
        )
    draw.rectangle((0, dp(24), width, dp(80)), fill=style.accent)
    draw.text((dp(16), dp(40)), "Mã QR cá nhân", font=font(dp(20), True), fill=(255, 255, 255))
    # card
    card_top = dp(96)
    draw.rounded_rectangle((dp(16), card_top, width - dp(16), height - dp(90)), radius=dp(14), fill=surface)
    draw.text(
        (width // 2, card_top + dp(14)),
        "Đưa mã này cho nhân viên kiểm tra",
        font=font(dp(13)),
        fill=muted,
        anchor="mt",
    )
    y = card_top + dp(40)
    if spec.code_text is not None:
        symbol_modules = encode(spec.code_text, ec=spec.ec_level).size + 2 * spec.quiet_modules
        module_px = max(1, dp(spec.code_dp) // symbol_modules)
        qr = _symbol_image(spec, module_px)
        x = (width - qr.width) // 2
        if spec.plate is not None:
            margin = dp(10)
            draw.rounded_rectangle(
                (x - margin, y - margin, x + qr.width + margin, y + qr.height + margin),
                radius=dp(8),
                fill=spec.plate,
            )
        elif dark:
            draw.rounded_rectangle(
                (x - dp(6), y - dp(6), x + qr.width + dp(6), y + qr.height + dp(6)),
                radius=dp(10),
                fill=spec.paper,
            )
        image.paste(qr, (x, y))
        y += qr.height + dp(22)
    else:
        draw.rounded_rectangle(
            (dp(70), y, width - dp(70), y + dp(220)), radius=dp(10), outline=muted, width=dp(2)
        )
        draw.text((width // 2, y + dp(110)), "Không tải được mã", font=font(dp(15)), fill=muted, anchor="mm")
        y += dp(240)
    if spec.name is not None:
        shown = spec.name.upper() if style.name_case == "upper" else spec.name
        draw.text((width // 2, y), shown, font=font(dp(21), True), fill=text, anchor="mt")
        y += dp(40)
    rows = [(style.doc_label, spec.document), (style.birth_label, spec.birth)]
    body = font(dp(16))
    label_face = font(dp(14))
    for label, value in rows:
        if value is None:
            continue
        if style.layout == "inline":
            draw.text((dp(40), y), f"{label}: {value}", font=body, fill=text)
            y += dp(30)
        elif style.layout == "stacked":
            draw.text((dp(40), y), label, font=label_face, fill=muted)
            draw.text((dp(40), y + dp(20)), value, font=body, fill=text)
            y += dp(50)
        else:
            draw.text((dp(40), y), label, font=label_face, fill=muted)
            draw.text((width - dp(40), y), value, font=body, fill=text, anchor="ra")
            y += dp(32)
    # display-mode toggle
    y += dp(10)
    toggle = "Ẩn bớt thông tin" if spec.full_mode else "Hiện đầy đủ thông tin"
    draw.text((dp(40), y), toggle, font=font(dp(14)), fill=muted)
    knob_on = spec.full_mode
    track = (width - dp(84), y - dp(2), width - dp(40), y + dp(20))
    draw.rounded_rectangle(track, radius=dp(11), fill=style.accent if knob_on else (120, 124, 130))
    cx = track[2] - dp(11) if knob_on else track[0] + dp(11)
    draw.ellipse((cx - dp(9), y, cx + dp(9), y + dp(18)), fill=(255, 255, 255))
    if spec.second_code is not None:
        small = Image.fromarray(to_gray(np.pad(encode(spec.second_code).modules, 4), max(2, dp(2))))
        image.paste(
            small.convert("RGB"), (width - small.width - dp(30), height - dp(90) - small.height - dp(10))
        )
    # bottom navigation
    nav_top = height - dp(64)
    draw.rectangle((0, nav_top, width, height), fill=surface)
    for index, label in enumerate(("Trang chủ", "Mã QR", "Cá nhân")):
        cx = width * (2 * index + 1) // 6
        colour = style.accent if index == 1 else muted
        draw.rounded_rectangle(
            (cx - dp(11), nav_top + dp(10), cx + dp(11), nav_top + dp(30)), radius=dp(5), fill=colour
        )
        draw.text((cx, nav_top + dp(36)), label, font=font(dp(12)), fill=colour, anchor="mt")
    return image


# -- folders -----------------------------------------------------------------------------------------
def app_json(name: str = "Sổ sức khoẻ", vendor: str = "Công ty Thử nghiệm", version: str = "1.0.0") -> str:
    return json.dumps({"name": name, "vendor": vendor, "version": version}, ensure_ascii=False)


def write_folder(
    root: Path,
    default: ScreenSpec | bytes | None,
    full: ScreenSpec | bytes | None,
    app: str | None = None,
    extra: dict[str, bytes] | None = None,
    *,
    jpeg_quality: int | None = None,
    width: int | None = None,
) -> Path:
    """An evidence folder; a screen given as bytes is written as is (not an image, a huge header...).

    ``jpeg_quality`` saves the screens as JPEG (still named ``.png``, as a careless export would);
    ``width`` resizes them first (a downscaled screenshot)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, spec in (("default", default), ("full", full)):
        if spec is None:
            continue
        target = root / f"{name}.png"
        if isinstance(spec, bytes):
            target.write_bytes(spec)
            continue
        image = render_screen(spec)
        if width is not None:
            image = image.resize(
                (width, round(image.height * width / image.width)), Image.Resampling.BILINEAR
            )
        if jpeg_quality is not None:
            image.save(target, "JPEG", quality=jpeg_quality)
        else:
            image.save(target, "PNG", compress_level=1)
    if app is not None:
        (root / "app.json").write_text(app, encoding="utf-8")
    for file_name, data in (extra or {}).items():
        (root / file_name).write_bytes(data)
    return root


def huge_png(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny file whose header claims a huge image: refused from the header, never decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
