"""Read QR codes from photos: safe loading with explicit limits, then zxing-cpp with a fallback cascade.

The first try is the plain zxing-cpp call, so an image it reads costs what the raw library costs. Only
when that finds nothing do we try other preprocessings, each chosen because it recovered a class of
degraded photos in our corpus (``imaging.corpus``) that the raw call missed. Every attempt uses the
library's Reed-Solomon-checked result, so a cascade step can add reads but not wrong reads; the
corpus tests assert zero wrong decodes anyway.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import (  # noqa: F401 - registers the openers
    Image,
    ImageFilter,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from unifiedqr.codes.classify import classify
from unifiedqr.errors import InvalidInput

Gray = npt.NDArray[np.uint8]

#: Largest accepted image: 50 megapixels covers a 48 MP phone camera; decoded size stays < 200 MB.
MAX_PIXELS: Final = 50_000_000
#: The cascade works on a copy of at most this many pixels: a 12 MP photo without a code then costs
#: about 0.5 s instead of 3.5 s; the full-resolution image has already had the plain first try.
CASCADE_MAX_PIXELS: Final = 4_000_000
#: JPEGs above this are decoded at a reduced scale (libjpeg's DCT scaling, nearly free).
JPEG_DRAFT_PIXELS: Final = 16_000_000
#: Largest accepted file: a 50 MP JPEG from a phone is ~25 MB.
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
#: The formats we promise (Pillow's JPEG opener also takes the MPO files many phone cameras write).
FORMATS: Final = ("PNG", "JPEG", "WEBP")
IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".webp")


#: What Pillow's decoders raise on hostile or broken files (found by fuzzing flipped and cut bytes);
#: each becomes an ImageError naming the file as damaged, never a crash of the caller.
_DAMAGED: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)


class ImageError(InvalidInput):
    """An image that cannot be decoded: empty, not an image, damaged, or too large."""

    def __init__(self, reason: str) -> None:
        super().__init__("image", reason)


@dataclass(frozen=True)
class Decoded:
    """One code read from an image: its exact text, what kind of code it is, and where it was."""

    text: str
    kind: str
    position: tuple[tuple[int, int], ...] = ()
    step: str = "default"
    #: Error-correction level as the symbol declares it (``L``, ``M``, ``Q``, ``H``; ``""`` if unknown).
    ec_level: str = ""
    #: Symbol version 1..40 (``0`` if the decoder did not say); the side is ``17 + 4 * version`` modules.
    version: int = 0

    def to_json(self) -> dict[str, str]:
        """The fields the CLI's ``scan --json`` and the HTTP edge print (positions stay internal)."""
        return {"text": self.text, "kind": self.kind}


def read_image_bytes(source: bytes | str | os.PathLike[str]) -> bytes:
    """The bytes of an image given as bytes or a path, refusing files over the size limit."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise ImageError(f"{path} is a directory")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    if not data:
        raise ImageError("empty file")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return data


def load_gray(source: bytes | str | os.PathLike[str]) -> Gray:
    """A grayscale array of a PNG, JPEG or WebP (see :func:`load_scaled`)."""
    return load_scaled(source)[0]


def load_scaled(source: bytes | str | os.PathLike[str]) -> tuple[Gray, float]:
    """A grayscale array of a PNG, JPEG or WebP, with EXIF rotation applied and alpha on white.

    The pixel count is checked from the header before any pixel is decoded, so a 20000×20000 image is
    refused in microseconds without allocating its 400 MB. JPEGs over 16 MP are decoded at half size;
    the second value is the factor from the array back to the original image's pixels.
    """
    data = read_image_bytes(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError:
            raise ImageError(f"image has more than {MAX_PIXELS} pixels") from None
        except UnidentifiedImageError:
            raise ImageError("not a PNG, JPEG or WebP image") from None
        except _DAMAGED as exc:  # a recognised header with broken contents
            raise ImageError(f"damaged image ({exc})") from None
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageError(f"image is {width}×{height}, more than {MAX_PIXELS} pixels")
        if width < 21 or height < 21:
            raise ImageError(f"image is {width}×{height}, too small to hold a QR code")
        try:
            if image.format == "JPEG" and width * height > JPEG_DRAFT_PIXELS:
                # decode at half scale inside libjpeg: a 48 MP photo costs 12 MP of memory and time
                image.draft("L", (width // 2, height // 2))
            image.load()
            upright: Image.Image = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
                canvas = Image.new("RGBA", upright.size, (255, 255, 255, 255))
                upright = Image.alpha_composite(canvas, upright.convert("RGBA"))
            gray: Gray = np.asarray(upright.convert("L"))
            scale = max(width, height) / max(gray.shape)
        except _DAMAGED as exc:
            raise ImageError(f"damaged or truncated image ({exc})") from None
    return gray, scale


# -- the cascade --------------------------------------------------------------------------------------
def _pil(gray: Gray) -> Image.Image:
    return Image.fromarray(gray)


def _sharpen(radius: float, percent: int) -> Callable[[Gray], Gray]:
    """Blur and small codes: restore module edges the default local-average binarizer smears."""

    def apply(gray: Gray) -> Gray:
        return np.asarray(
            _pil(gray).filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=0))
        )

    return apply


def _stretch(gray: Gray) -> Gray:
    """Low contrast: spread the 1st..99th percentile over the full range (a lookup table, no sort)."""
    cumulative = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    lo, hi = (int(np.searchsorted(cumulative, q * cumulative[-1])) for q in (0.01, 0.99))
    if hi - lo < 2:
        return gray
    table = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    stretched: Gray = table[gray]
    return stretched


def _otsu(gray: Gray) -> Gray:
    """One global threshold: robust for even lighting where the local binarizer sees noise."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cum = np.cumsum(hist)
    cum_mean = np.cumsum(hist * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (cum_mean[-1] * cum - cum_mean * total) ** 2 / (cum * (total - cum))
    if not np.isfinite(between).any():  # a single grey level: nothing to separate
        return gray
    threshold = int(np.nanargmax(between))
    return np.where(gray > threshold, np.uint8(255), np.uint8(0))


class _Work:
    """The cascade's working image, with its Fourier transform computed once for every deblur step.

    The image is padded (edge values) to a multiple of 64 pixels each way: pocketfft is several times
    slower on sizes with large prime factors, and the padding also keeps wrap-around ringing off the
    image's borders.
    """

    def __init__(self, gray: Gray) -> None:
        self.gray = gray
        self._spectrum: npt.NDArray[np.complex64] | None = None

    def spectrum(self) -> npt.NDArray[np.complex64]:
        if self._spectrum is None:
            height, width = self.gray.shape
            padded = np.pad(self.gray, ((0, -height % 64), (0, -width % 64)), mode="edge")
            self._spectrum = np.fft.rfft2(padded.astype(np.float32)).astype(np.complex64)
        return self._spectrum


def _deblur(sigma: float, noise: float = 0.003) -> Callable[[_Work], Gray]:
    """Defocus and motion: Wiener deconvolution with a Gaussian kernel of ``sigma`` px.

    Unsharp masking only boosts edges; deconvolution restores the module-frequency detail that a
    blur of about one module attenuates to a few percent. One inverse FFT per step (the forward one
    is shared), so these run after the cheap steps.
    """

    def apply(work: _Work) -> Gray:
        spectrum = work.spectrum()
        rows = spectrum.shape[0]
        cols = (spectrum.shape[1] - 1) * 2
        fy = np.fft.fftfreq(rows).astype(np.float32)[:, None]
        fx = np.fft.rfftfreq(cols).astype(np.float32)[None, :]
        kernel = np.exp(np.float32(-2 * np.pi**2 * sigma**2) * (fx**2 + fy**2))
        restored = np.fft.irfft2(spectrum * (kernel / (kernel * kernel + np.float32(noise))), s=(rows, cols))
        height, width = work.gray.shape
        return np.clip(restored[:height, :width], 0, 255).astype(np.uint8)

    return apply


def _denoise(gray: Gray) -> Gray:
    """Noise: a median filter removes speckle that breaks finder-pattern run lengths."""
    denoised: Gray = np.asarray(_pil(gray).filter(ImageFilter.MedianFilter(3)))
    return denoised


def _upscale(gray: Gray) -> Gray:
    """Small codes in a large frame: modules under ~3 px are below the detector's comfort."""
    height, width = gray.shape
    if width * height > 2_000_000:  # beyond ~1080p the code has pixels enough; 4x the work buys nothing
        return gray
    return np.asarray(_pil(gray).resize((width * 2, height * 2), Image.Resampling.BICUBIC))


def _downscale(gray: Gray) -> Gray:
    """Noise and large blurred frames: averaging 2×2 pixels halves noise and relative blur."""
    height, width = gray.shape
    return np.asarray(_pil(gray).reduce(2)) if min(width, height) >= 200 else gray


def _chain(*steps: Callable[[Gray], Gray]) -> Callable[[Gray], Gray]:
    def apply(gray: Gray) -> Gray:
        for step in steps:
            gray = step(gray)
        return gray

    return apply


#: Full-size QR only: Micro QR's M1 has error detection but no correction, and read "5872" out of a
#: photographed screen's noise in our corpus, so accepting it would allow wrong decodes.
_QR_MODEL_2: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCodeModel2)


def _on_gray(transform: Callable[[Gray], Gray]) -> Callable[[_Work], Gray]:
    return lambda work: transform(work.gray)


Step = tuple[str, Callable[[_Work], Gray], zxingcpp.Binarizer]
_LA = zxingcpp.Binarizer.LocalAverage

#: The fallback steps, in the order that recovered most corpus images per millisecond (see bench).
CASCADE: Final[Sequence[Step]] = (
    ("sharpen", _on_gray(_sharpen(2, 300)), _LA),
    ("stretch-sharpen", _on_gray(_chain(_stretch, _sharpen(5, 400))), _LA),
    ("downscale", _on_gray(_downscale), _LA),
    ("deblur-3", _deblur(3), _LA),
    ("upscale-sharpen", _on_gray(_chain(_upscale, _sharpen(3, 250))), _LA),
    ("deblur-5", _deblur(5), _LA),
    ("deblur-4-fine", _deblur(4, 0.001), _LA),
    ("sharpen-strong", _on_gray(_sharpen(3, 500)), _LA),
    ("deblur-5-fine", _deblur(5, 0.001), _LA),
    ("deblur-3-fine", _deblur(3, 0.001), _LA),
    ("denoise", _on_gray(_denoise), _LA),
    ("global-histogram", lambda work: work.gray, zxingcpp.Binarizer.GlobalHistogram),
    ("otsu", _on_gray(_otsu), zxingcpp.Binarizer.BoolCast),
    ("upscale", _on_gray(_upscale), _LA),
)


def _read(gray: Gray, binarizer: zxingcpp.Binarizer) -> list[zxingcpp.Barcode]:
    found = zxingcpp.read_barcodes(
        gray, formats=_QR_MODEL_2, binarizer=binarizer, text_mode=zxingcpp.TextMode.Plain
    )
    return [barcode for barcode in found if barcode.valid]


def _position(barcode: zxingcpp.Barcode, factor: float) -> tuple[tuple[int, int], ...]:
    pos = barcode.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    return tuple((round(p.x * factor), round(p.y * factor)) for p in corners)


def _working_copy(gray: Gray) -> Gray:
    height, width = gray.shape
    factor = math.ceil(math.sqrt(height * width / CASCADE_MAX_PIXELS))
    return np.asarray(_pil(gray).reduce(factor)) if factor > 1 else gray


def decode_gray(gray: Gray, *, cascade: bool = True, scale: float = 1.0) -> list[Decoded]:
    """Every QR code in a grayscale image; the cascade runs only if the plain call finds none.

    ``scale`` maps positions back to the original image when ``gray`` was decoded smaller.
    """
    found = _read(gray, zxingcpp.Binarizer.LocalAverage)
    step = "default"
    factor = scale
    if not found and cascade:
        work = _Work(_working_copy(gray))
        for name, transform, binarizer in CASCADE:
            variant = transform(work)
            found = _read(variant, binarizer)
            if found:
                step = name
                factor = scale * gray.shape[1] / variant.shape[1]
                break
    results: list[Decoded] = []
    seen: set[str] = set()
    for barcode in found:
        text = barcode.text
        if text in seen:
            continue
        seen.add(text)
        results.append(
            Decoded(
                text,
                classify(text).kind,
                _position(barcode, factor),
                step,
                str(getattr(barcode, "ec_level", "") or ""),
                _version(barcode),
            )
        )
    return results


def _version(barcode: zxingcpp.Barcode) -> int:
    """The symbol version from zxing-cpp's ``extra`` (3.x); 0 when this zxing-cpp does not report it."""
    extra = getattr(barcode, "extra", None)
    value = extra.get("Version") if isinstance(extra, dict) else None
    try:
        version = int(str(value))
    except ValueError:
        return 0
    return version if 1 <= version <= 40 else 0


def decode_image(data: bytes | str | os.PathLike[str], *, cascade: bool = True) -> list[Decoded]:
    """Every QR code in an image file or its bytes (PNG, JPEG, WebP); ``[]`` when none is readable.

    Raises :class:`ImageError` (an ``InvalidInput``) for empty, non-image, damaged or oversized input.
    """
    gray, scale = load_scaled(data)
    return decode_gray(gray, cascade=cascade, scale=scale)
