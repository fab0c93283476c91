"""Reading the screenshot's text: Tesseract 5 (LSTM) with the Vietnamese model, called as a process.

Why the command line and not a binding: the ``tesseract`` executable is the one dependency (Debian's
``tesseract-ocr`` + ``tesseract-ocr-vie``); its TSV output gives every word with its box and
confidence, which is all the display checks need; a process has a hard timeout and cannot take the
checker down. ``pytesseract`` would be a wrapper around the same process.

Page segmentation mode 11 (sparse text): a phone screen is scattered labels and values, not a page of
paragraphs, and mode 3 dropped whole lines next to the code in our corpus. The code itself is blanked
before reading (its modules otherwise come back as garbage words). Each *variant* is one way to
present the screen to Tesseract; the display checks try them in order until every field is found
(see :data:`VARIANTS`).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from unifiedqr.errors import UnifiedQRError

Box = tuple[int, int, int, int]

LANGUAGE: Final = "vie"
#: For a lone number (Debian's tesseract-ocr installs it); falls back to LANGUAGE when absent.
DIGITS_LANGUAGE: Final = "eng"
TIMEOUT_SECONDS: Final = 60.0
#: Tesseract reads best with capitals ~20-40 px tall; phone text at under 900 px width is smaller.
UPSCALE_BELOW_WIDTH: Final = 600


@dataclass(frozen=True)
class Variant:
    """One way to present the screen: polarity, page segmentation mode, size."""

    name: str
    invert: bool
    psm: int
    enlarge: bool = False


#: Why each exists, all found on the corpus: Tesseract's LSTM reads dark text on light, and a dark
#: theme's light text comes out as garbage until inverted; sparse-text mode (11) finds scattered
#: labels but dropped a right-aligned value that automatic segmentation (3) found, and mode 3 dropped
#: lines beside the code that mode 11 found; small type reads better enlarged.
VARIANTS: Final = {
    "plain": Variant("plain", False, 11),
    "plain-auto": Variant("plain-auto", False, 3),
    "inverted": Variant("inverted", True, 11),
    "inverted-auto": Variant("inverted-auto", True, 3),
    "enlarged": Variant("enlarged", False, 11, True),
    "enlarged-inverted": Variant("enlarged-inverted", True, 11, True),
}


class OcrUnavailable(UnifiedQRError, RuntimeError):
    """No usable OCR engine (executable or Vietnamese model missing)."""


class OcrFailed(UnifiedQRError, RuntimeError):
    """The engine ran but failed (crash, timeout, unreadable output)."""


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    confidence: float


@dataclass(frozen=True)
class Line:
    """One line of text as the engine grouped it, boxes in the original screenshot's pixels."""

    words: tuple[Word, ...]
    variant: str = "plain"

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def box(self) -> Box:
        return (
            min(w.box[0] for w in self.words),
            min(w.box[1] for w in self.words),
            max(w.box[2] for w in self.words),
            max(w.box[3] for w in self.words),
        )

    @property
    def confidence(self) -> float:
        return sum(w.confidence for w in self.words) / len(self.words)


class OcrEngine(Protocol):
    """What the checks need from an OCR engine (tests may wrap one with a cache)."""

    name: str

    def read(self, image: Image.Image, psm: int = 11, language: str = LANGUAGE) -> list[Line]:
        """The lines of text in ``image`` (page segmentation mode ``psm``), boxes in its own pixels."""


def tesseract_binary() -> str | None:
    from unifiedqr.config import tesseract_setting

    return tesseract_setting() or shutil.which("tesseract")


@lru_cache(maxsize=4)
def _languages(binary: str) -> tuple[str, ...]:
    try:
        done = subprocess.run(
            [binary, "--list-langs"], capture_output=True, timeout=30, check=False, env=_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    lines = (done.stdout + done.stderr).decode("utf-8", "replace").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and " " not in line.strip())


def _env() -> dict[str, str]:
    """The child process's environment: only what Tesseract needs from ours."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TESSDATA_PREFIX")}
    env["OMP_THREAD_LIMIT"] = "1"  # deterministic and cheaper on small machines
    return env


def unavailable_reason(binary: str | None = None) -> str | None:
    """None when Tesseract with the Vietnamese model can run here; otherwise why not."""
    binary = binary or tesseract_binary()
    if not binary:
        return (
            "the tesseract executable is not installed "
            "(Debian: apt-get install tesseract-ocr tesseract-ocr-vie)"
        )
    if LANGUAGE not in _languages(binary):
        return f"tesseract has no '{LANGUAGE}' model (Debian: apt-get install tesseract-ocr-{LANGUAGE})"
    return None


class Tesseract:
    """The Tesseract command line, TSV output, sparse-text segmentation."""

    name = "tesseract"

    def __init__(self, binary: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        reason = unavailable_reason(binary)
        if reason:
            raise OcrUnavailable("ocr", reason)
        self.binary = binary or str(tesseract_binary())
        self.timeout = timeout

    def version(self) -> str:
        done = subprocess.run(
            [self.binary, "--version"], capture_output=True, timeout=30, check=False, env=_env()
        )
        first = (done.stdout or done.stderr).decode("utf-8", "replace").splitlines()
        return first[0].strip() if first else "tesseract"

    def read(self, image: Image.Image, psm: int = 11, language: str = LANGUAGE) -> list[Line]:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)
        if language not in _languages(self.binary):
            language = LANGUAGE
        command = [self.binary, "stdin", "stdout", "-l", language, "--psm", str(int(psm)), "tsv"]
        try:
            done = subprocess.run(
                command,
                input=buffer.getvalue(),
                capture_output=True,
                timeout=self.timeout,
                check=False,
                env=_env(),
            )
        except subprocess.TimeoutExpired:
            raise OcrFailed("ocr", f"tesseract did not finish within {self.timeout:.0f} s") from None
        except OSError as exc:
            raise OcrFailed("ocr", f"tesseract could not run ({exc.strerror})") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise OcrFailed("ocr", f"tesseract failed: {message[-1] if message else done.returncode}")
        return parse_tsv(done.stdout.decode("utf-8", "replace"))


def parse_tsv(text: str) -> list[Line]:
    """Words of Tesseract's TSV (level 5 rows), grouped by (block, paragraph, line), in reading order."""
    groups: dict[tuple[str, str, str], list[Word]] = {}
    for row in text.splitlines()[1:]:
        parts = row.split("\t")
        if len(parts) != 12 or parts[0] != "5" or not parts[11].strip():
            continue
        try:
            left, top, width, height = (int(v) for v in parts[6:10])
            confidence = float(parts[10])
        except ValueError:
            continue
        word = Word(parts[11].strip(), (left, top, left + width, top + height), confidence)
        groups.setdefault((parts[2], parts[3], parts[4]), []).append(word)
    lines = [Line(tuple(words)) for words in groups.values()]
    return sorted(lines, key=lambda line: (line.box[1], line.box[0]))


# -- presenting the screen to the engine --------------------------------------------------------------
def _surround(values: np.ndarray, box: Box) -> int:
    """The median grey just outside ``box`` (what the area looks like without the code)."""
    height, width = values.shape
    left, top, right, bottom = (
        max(box[0] - 2, 0),
        max(box[1] - 2, 0),
        min(box[2] + 2, width - 1),
        min(box[3] + 2, height - 1),
    )
    ring = np.concatenate(
        (
            values[top, left : right + 1],
            values[bottom, left : right + 1],
            values[top : bottom + 1, left],
            values[top : bottom + 1, right],
        )
    )
    return int(np.median(ring)) if ring.size else 255


def blanked(image: Image.Image, blank: Sequence[Box] = ()) -> Image.Image:
    """The screenshot in grey with the ``blank`` boxes (the code and its quiet zone) painted over with
    their surrounding grey."""
    gray = image.convert("L")
    if blank:
        gray = gray.copy()
        values = np.asarray(gray)
        draw = ImageDraw.Draw(gray)
        for box in blank:
            draw.rectangle(box, fill=_surround(values, box))
    return gray


def read_crop(engine: OcrEngine, gray: Image.Image, box: Box) -> str:
    """The text of one small region holding one word of digits and Latin letters (the visible part of a
    masked number), dark on light and about 48 px tall. Read as a single word (mode 8) with the English
    model when installed: on a lone ``509`` the Vietnamese model in line mode returned ``=l0j=)``."""
    left, top, right, bottom = box
    height = max(bottom - top, 1)
    pad = max(4, height // 2)
    crop = gray.crop((left - pad, top - pad, right + pad, bottom + pad))
    values = np.asarray(crop)
    if float(np.median(values)) < 128:
        crop = ImageOps.invert(crop)
    factor = max(1.0, 48 / height)
    if factor > 1.0:
        crop = crop.resize(
            (round(crop.width * factor), round(crop.height * factor)), Image.Resampling.LANCZOS
        )
    return " ".join(line.text for line in engine.read(crop, 8, DIGITS_LANGUAGE))


def prepare(image: Image.Image, variant: Variant, blank: Sequence[Box] = ()) -> tuple[Image.Image, float]:
    """The screenshot as the engine should see it in ``variant``, and the factor applied to it.

    ``blank`` boxes (the code and its quiet zone) are painted over with their surrounding colour.
    """
    gray = blanked(image, blank)
    factor = 1.0
    if variant.invert:
        gray = ImageOps.invert(gray)
    if gray.width < UPSCALE_BELOW_WIDTH or variant.enlarge:
        factor = 2.0
        gray = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.LANCZOS)
    return gray, factor


def variants_for(image: Image.Image) -> tuple[Variant, ...]:
    """The variants to try, most promising first: the screen's own polarity (a mostly dark screen is a
    dark theme, read inverted) in both segmentation modes, then the other polarity, then enlarged."""
    small = image.convert("L").reduce(8)
    dark = float(np.median(np.asarray(small))) < 110
    order = (
        ("inverted", "inverted-auto", "plain", "enlarged-inverted")
        if dark
        else ("plain", "plain-auto", "inverted", "enlarged")
    )
    return tuple(VARIANTS[name] for name in order)


def read_variant(
    engine: OcrEngine, image: Image.Image, variant: Variant, blank: Sequence[Box] = ()
) -> list[Line]:
    """Lines of ``image`` read in ``variant``, boxes mapped back to the screenshot's pixels."""
    prepared, factor = prepare(image, variant, blank)
    lines = engine.read(prepared, variant.psm)
    if factor == 1.0:
        return [Line(line.words, variant.name) for line in lines]
    return [
        Line(
            tuple(
                Word(w.text, tuple(round(v / factor) for v in w.box), w.confidence)  # type: ignore[arg-type]
                for w in line.words
            ),
            variant.name,
        )
        for line in lines
    ]
