"""Symbol measurement on synthetic screens with known geometry: quiet zone, module size, contrast, EC."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from unifiedqr.conformance.quality import check_quality
from unifiedqr.conformance.symbol import estimate_modules, find_symbols, gray_of, measure
from unifiedqr.imaging.render import encode, to_gray

SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"


def screen(
    quiet: int = 4,
    scale: int = 6,
    ec: str = "M",
    background: tuple[int, int, int] = (22, 128, 74),
    ink: int = 0,
    paper: int = 255,
    size: tuple[int, int] = (600, 1100),
) -> Image.Image:
    symbol = encode(SAMPLE, ec=ec)
    gray = to_gray(np.pad(symbol.modules, quiet), scale)
    tile = np.where(gray < 128, ink, paper).astype(np.uint8)
    image = Image.new("RGB", size, background)
    image.paste(Image.fromarray(tile).convert("RGB"), (100, 200))
    return image


def _measure(image: Image.Image):  # type: ignore[no-untyped-def]
    gray = gray_of(image)
    (reading,) = find_symbols(gray)
    return reading, measure(gray, reading)


@pytest.mark.parametrize("quiet", [1, 2, 4, 6])
def test_quiet_zone_is_measured_against_what_surrounds_it(quiet: int) -> None:
    reading, quality = _measure(screen(quiet=quiet))
    assert quality is not None
    for side, value in quality.quiet_zone.items():
        assert abs(value - quiet) <= 0.5, (side, value)
    assert reading.ec_level == "M" and reading.version == 5 and quality.modules == 37
    assert quality.module_px == pytest.approx(6, abs=0.05)
    assert quality.contrast == pytest.approx(1.0, abs=0.01) and not quality.inverted


def test_quiet_zone_findings_name_the_short_sides() -> None:
    reading, quality = _measure(screen(quiet=1))
    codes = {f.code.value: f for f in check_quality("default", reading, quality, (600, 1100))}
    assert "QUALITY_QUIET_ZONE" in codes
    assert set(codes["QUALITY_QUIET_ZONE"].details["seen"]) == {"top", "right", "bottom", "left"}  # type: ignore[arg-type]
    reading, quality = _measure(screen(quiet=4))
    assert not [
        f for f in check_quality("default", reading, quality, (600, 1100)) if f.severity.value != "info"
    ]


def test_a_light_surround_counts_as_quiet_zone() -> None:
    _, quality = _measure(screen(quiet=4, background=(240, 242, 245)))
    assert quality is not None and quality.quiet_zone_min == pytest.approx(8.0)  # measured up to the cap


def test_contrast_polarity_and_error_correction() -> None:
    reading, quality = _measure(screen(ink=178))
    assert quality is not None and quality.contrast == pytest.approx((255 - 178) / 255, abs=0.02)
    assert {f.code.value for f in check_quality("default", reading, quality, (600, 1100))} >= {
        "QUALITY_LOW_CONTRAST"
    }
    reading, quality = _measure(screen(ink=240, paper=20, background=(20, 20, 20)))
    assert quality is not None and quality.inverted
    reading, quality = _measure(screen(ec="L"))
    assert reading.ec_level == "L"
    assert "QUALITY_EC_LOW" in {f.code.value for f in check_quality("default", reading, quality, (600, 1100))}
    reading, quality = _measure(screen(ec="H"))
    assert reading.ec_level == "H"


def test_rotated_screen_is_measured_the_same() -> None:
    _reading, quality = _measure(screen(quiet=3).rotate(90, expand=True))
    assert quality is not None and quality.module_px == pytest.approx(6, abs=0.05)
    assert all(abs(v - 3) <= 0.5 for v in quality.quiet_zone.values())


def test_module_count_is_estimated_when_the_decoder_gives_no_version() -> None:
    image = screen(scale=5)
    gray = gray_of(image)
    (reading,) = find_symbols(gray)
    assert estimate_modules(gray, reading.corners) == 37
    quality = measure(gray, dataclasses.replace(reading, version=0))
    assert quality is not None and quality.modules == 37


def test_small_modules_are_flagged() -> None:
    reading, quality = _measure(screen(scale=3))
    found = {f.code.value for f in check_quality("default", reading, quality, (600, 1100))}
    assert "QUALITY_MODULE_SMALL" in found
    assert quality is not None
    tiny = dataclasses.replace(quality, module_px=1.5)
    assert "QUALITY_MODULE_TOO_SMALL" in {
        f.code.value for f in check_quality("default", reading, tiny, (600, 1100))
    }
