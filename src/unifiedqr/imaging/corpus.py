"""A deterministic corpus of photo-like degradations of QR codes, for the tests and the benchmark.

Each category imitates one way a venue camera or a citizen's upload goes wrong. Severities are drawn
from ranges that run from easy to beyond what the raw decoder reads, so the corpus measures the
cascade where it matters. Everything derives from the seed: the same seed gives the same images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from unifiedqr.imaging.render import encode, padded, to_gray

CATEGORIES: Final = (
    "rotation",
    "perspective",
    "blur",
    "noise",
    "low_contrast",
    "jpeg",
    "inversion",
    "small",
    "glare",
    "screen",
)


@dataclass(frozen=True)
class Sample:
    category: str
    index: int
    text: str
    image: Image.Image


def random_payload(rng: np.random.Generator) -> str:
    """A well-formed personal code with random digits and name (so every sample is distinct)."""

    def digits(count: int) -> str:
        return "".join(str(int(d)) for d in rng.integers(0, 10, size=count))

    names = (
        "NGUYEN",
        "TRAN",
        "LE",
        "PHAM",
        "HOANG",
        "VU",
        "DANG",
        "BUI",
        "DO",
        "HO",
        "THI",
        "VAN",
        "ANH",
        "HAN",
    )
    name = " ".join(str(rng.choice(names)) for _ in range(int(rng.integers(2, 5))))
    year, month, day = int(rng.integers(1930, 2020)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    phone = "09" + digits(8)
    return (
        f"0{digits(11)}|{name}|{year:04d}-{month:02d}-{day:02d}|0|{digits(18)}|<{rng.integers(0, 3)}<<{phone}"
    )


def _code(text: str, scale: int) -> Image.Image:
    return Image.fromarray(to_gray(padded(encode(text, ec="M")), scale))


def _background(rng: np.random.Generator, size: tuple[int, int], base: int = 200) -> Image.Image:
    """A lit surface: a smooth gradient plus faint texture, never a flat white page."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height) * rng.uniform(10, 50)
    texture = rng.normal(0, 4, (height, width))
    return Image.fromarray(np.clip(base + ramp + texture, 0, 255).astype(np.uint8))


def _place(code: Image.Image, rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> Image.Image:
    frame = _background(rng, size)
    x = int(rng.integers(0, max(1, size[0] - code.width)))
    y = int(rng.integers(0, max(1, size[1] - code.height)))
    frame.paste(code, (x, y))
    return frame


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> list[float]:
    """Coefficients for Pillow's PERSPECTIVE transform mapping output points ``dst`` to input ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows, dtype=np.float64), src.reshape(8).astype(np.float64))
    return [float(c) for c in solution]


def warp(image: Image.Image, rng: np.random.Generator, strength: float, fill: int = 180) -> Image.Image:
    """A camera held off-axis: move each corner inwards by up to ``strength`` of the side."""
    width, height = image.size
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    jitter = rng.uniform(0, strength, (4, 2)) * np.array([width, height])
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    dst = src + signs * jitter
    coeffs = _perspective_coeffs(src, dst)
    return image.transform(
        image.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=fill
    )


def _rotation(text: str, rng: np.random.Generator) -> Image.Image:
    code = _code(text, int(rng.integers(3, 7)))
    turned = code.rotate(float(rng.uniform(-180, 180)), Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return _place(turned, rng)


def _perspective(text: str, rng: np.random.Generator) -> Image.Image:
    return warp(_place(_code(text, int(rng.integers(4, 7))), rng), rng, float(rng.uniform(0.05, 0.3)))


def _blur(text: str, rng: np.random.Generator) -> Image.Image:
    scale = int(rng.integers(4, 8))
    frame = _place(_code(text, scale), rng)
    return frame.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8)) * scale))


def _noise(text: str, rng: np.random.Generator) -> Image.Image:
    frame = np.asarray(_place(_code(text, int(rng.integers(3, 7))), rng)).astype(np.float32)
    frame += rng.normal(0, rng.uniform(20, 80), frame.shape)
    return Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))


def _low_contrast(text: str, rng: np.random.Generator) -> Image.Image:
    frame = np.asarray(_place(_code(text, int(rng.integers(3, 7))), rng)).astype(np.float32) / 255.0
    low = rng.uniform(60, 190)
    span = rng.uniform(6, 30)
    width = frame.shape[1]
    shade = np.linspace(0, rng.uniform(0, 40), width, dtype=np.float32)[None, :]
    out = low + frame * span + shade + rng.normal(0, 1.5, frame.shape)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert(image.mode)


def _jpeg(text: str, rng: np.random.Generator) -> Image.Image:
    scale = int(rng.integers(2, 5))
    return jpeg(_place(_code(text, scale), rng), int(rng.integers(3, 25)))


def _inversion(text: str, rng: np.random.Generator) -> Image.Image:
    frame = _place(_code(text, int(rng.integers(3, 7))), rng)
    inverted = Image.fromarray(255 - np.asarray(frame))
    return inverted.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 2))))


def _small(text: str, rng: np.random.Generator) -> Image.Image:
    """A small code in a large frame: the code is 1.2–2.5 px per module in a 1280×720 photo."""
    code = _code(text, 8)
    target = int(code.width * rng.uniform(1.2, 2.5) / 8)
    code = code.resize((target, target), Image.Resampling.BILINEAR)
    return _place(code, rng, (1280, 720)).filter(ImageFilter.GaussianBlur(0.5))


def _glare(text: str, rng: np.random.Generator) -> Image.Image:
    """A specular highlight (lamp, window) washing out part of a printed code, slightly out of focus."""
    frame = np.asarray(_place(_code(text, int(rng.integers(3, 7))), rng)).astype(np.float32)
    height, width = frame.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    rx, ry = rng.uniform(30, 160), rng.uniform(20, 100)
    frame += rng.uniform(120, 320) * np.exp(-(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2))
    frame += rng.normal(0, 4, frame.shape)
    photo = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
    return photo.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))


def _screen(text: str, rng: np.random.Generator) -> Image.Image:
    """A phone held up to a 1280×720 camera: dark body, lit screen with app chrome, glare, tilt, JPEG."""
    width, height = 1280, 720
    frame = _background(rng, (width, height), base=int(rng.integers(60, 150)))
    phone_h = int(rng.integers(420, 680))
    phone_w = int(phone_h * 0.5)
    phone = Image.new("L", (phone_w, phone_h), 20)
    draw = ImageDraw.Draw(phone)
    margin = phone_w // 14
    screen_level = int(rng.integers(170, 250))
    draw.rectangle((margin, margin * 2, phone_w - margin, phone_h - margin * 2), fill=screen_level)
    draw.rectangle((margin, margin * 2, phone_w - margin, margin * 4), fill=int(rng.integers(40, 120)))
    code = _code(text, 8)
    side = phone_w - 4 * margin
    code = code.resize((side, side), Image.Resampling.BILINEAR)
    code = Image.fromarray((np.asarray(code).astype(np.float32) * screen_level / 255).astype(np.uint8))
    phone.paste(code, (2 * margin, margin * 5))
    for line in range(3):
        y = margin * 6 + side + line * margin
        draw.rectangle((2 * margin, y, phone_w - 3 * margin, y + margin // 3), fill=90)
    turned = phone.rotate(float(rng.uniform(-25, 25)), Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    x = int(rng.integers(0, max(1, width - turned.width)))
    y = int(rng.integers(0, max(1, height - turned.height)))
    body_mask = turned.point(lambda value: 255 if value > 0 else 0)
    frame.paste(turned, (x, y), body_mask)
    pixels = np.asarray(frame).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    gx, gy = rng.uniform(0, width), rng.uniform(0, height)
    radius = rng.uniform(60, 200)
    pixels += rng.uniform(30, 110) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2))
    pixels += rng.normal(0, rng.uniform(2, 8), pixels.shape)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    photo = warp(photo, rng, float(rng.uniform(0.0, 0.12)), fill=60)
    photo = photo.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 2.0))))
    return jpeg(photo, int(rng.integers(30, 80)))


GENERATORS: Final[dict[str, Callable[[str, np.random.Generator], Image.Image]]] = {
    "rotation": _rotation,
    "perspective": _perspective,
    "blur": _blur,
    "noise": _noise,
    "low_contrast": _low_contrast,
    "jpeg": _jpeg,
    "inversion": _inversion,
    "small": _small,
    "glare": _glare,
    "screen": _screen,
}


def generate(category: str, count: int, seed: int = 2021) -> Iterator[Sample]:
    """``count`` samples of one category; each has its own payload and its own random severity."""
    make = GENERATORS[category]
    rng = np.random.default_rng([seed, CATEGORIES.index(category)])
    for index in range(count):
        text = random_payload(rng)
        yield Sample(category, index, text, make(text, rng))
