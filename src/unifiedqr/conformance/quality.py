"""Symbol quality as displayed (spec §3's decisions: quiet zone ≥ 4 modules, EC M or higher; readable
from a phone screen), judged from :mod:`unifiedqr.conformance.symbol`'s measurements.

The thresholds are constants here, each with its reason, and catalogued in ``docs/conformance.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from unifiedqr.conformance.checks import region_of
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.symbol import Quality, SymbolReading

#: The spec's decision (§3): a quiet zone of at least 4 modules.
QUIET_ZONE_MODULES: Final = 4.0
#: The decoder's corners are whole pixels; a quarter module absorbs that rounding.
QUIET_ZONE_TOLERANCE: Final = 0.25
#: Under 2 px a module cannot be drawn with one clean edge; scanners reading the screen then guess.
MODULE_PX_ERROR: Final = 2.0
#: Under 4 px, or an estimated 0.3 mm on the phone's glass, reads slowly from arm's length.
MODULE_PX_WARNING: Final = 4.0
MODULE_MM_WARNING: Final = 0.3
#: A portrait phone screen is about 68 mm wide (6.1-6.7 inch phones: 64-71 mm).
PHONE_SCREEN_MM: Final = 68.0
#: ISO/IEC 15415 symbol contrast grades: C (40 %) is the usual floor for a pass, B (55 %) is good.
CONTRAST_ERROR: Final = 0.40
CONTRAST_WARNING: Final = 0.55


@dataclass(frozen=True)
class _Measured:
    """What every quality rule looks at, gathered once so each rule is a short function of it."""

    screen: str
    reading: SymbolReading
    quality: Quality
    region: list[int]
    module_mm: float | None


def check_quality(
    screen: str, reading: SymbolReading, quality: Quality | None, image_size: tuple[int, int]
) -> list[Finding]:
    region = region_of(reading.box)
    if quality is None:
        return [
            finding(
                Code.QUALITY_NOT_MEASURED,
                "the symbol's geometry could not be sampled (version unknown or the code leaves the screen)",
                screen,
                region=region,
            )
        ]
    measured = _Measured(screen, reading, quality, region, _module_mm(quality, image_size))
    return [
        _measured_finding(measured),
        *_quiet_zone_findings(measured),
        *_module_size_findings(measured),
        *_contrast_findings(measured),
        *_ec_level_findings(measured),
        *_inverted_findings(measured),
    ]


def _module_mm(quality: Quality, image_size: tuple[int, int]) -> float | None:
    """A module's size on the phone's glass, estimated only where the screenshot's width is known."""
    width, height = image_size
    if height >= 1.6 * width:  # a portrait phone screen: its width is known closely enough
        return round(quality.module_px * PHONE_SCREEN_MM / width, 3)
    return None


def _measured_finding(m: _Measured) -> Finding:
    """The measurements themselves, reported whether or not they pass, so a report shows the margins."""
    quality, reading, module_mm = m.quality, m.reading, m.module_mm
    measured = {**quality.to_json(), "ec_level": reading.ec_level or None, "version": reading.version or None}
    return finding(
        Code.QUALITY_MEASURED,
        f"version {reading.version or '?'}, EC {reading.ec_level or '?'}, "
        f"{quality.module_px:.1f} px a module"
        + (f" (≈ {module_mm:.2f} mm on a phone)" if module_mm else "")
        + f", quiet zone ≥ {quality.quiet_zone_min:.1f} modules, contrast {quality.contrast:.0%}",
        m.screen,
        region=m.region,
        measured=measured,
        module_mm=module_mm,
    )


def _quiet_zone_findings(m: _Measured) -> list[Finding]:
    """The spec's 4-module quiet zone, side by side, so the report names the sides that are short."""
    short = {
        side: round(v, 2)
        for side, v in m.quality.quiet_zone.items()
        if v < QUIET_ZONE_MODULES - QUIET_ZONE_TOLERANCE
    }
    if not short:
        return []
    sides = ", ".join(f"{side} {value:.1f}" for side, value in short.items())
    return [
        finding(
            Code.QUALITY_QUIET_ZONE,
            f"the quiet zone is narrower than {QUIET_ZONE_MODULES:.0f} modules ({sides} modules): "
            "what the app draws around the code touches it",
            m.screen,
            region=m.region,
            expected=QUIET_ZONE_MODULES,
            seen=short,
        )
    ]


def _module_size_findings(m: _Measured) -> list[Finding]:
    """Too small to draw cleanly is an error; merely slow to read from arm's length is a warning."""
    module_px, module_mm = m.quality.module_px, m.module_mm
    if module_px < MODULE_PX_ERROR:
        return [
            finding(
                Code.QUALITY_MODULE_TOO_SMALL,
                f"{module_px:.1f} px a module at the screenshot's resolution (at least "
                f"{MODULE_PX_ERROR:.0f} required)",
                m.screen,
                region=m.region,
                seen=round(module_px, 2),
            )
        ]
    if module_px < MODULE_PX_WARNING or (module_mm is not None and module_mm < MODULE_MM_WARNING):
        return [
            finding(
                Code.QUALITY_MODULE_SMALL,
                f"small modules: {module_px:.1f} px"
                + (f", ≈ {module_mm:.2f} mm on a phone" if module_mm else "")
                + f" (recommended ≥ {MODULE_PX_WARNING:.0f} px and ≥ {MODULE_MM_WARNING} mm)",
                m.screen,
                region=m.region,
                seen=round(module_px, 2),
            )
        ]
    return []


def _contrast_findings(m: _Measured) -> list[Finding]:
    """ISO/IEC 15415's contrast grades: under C fails, under B is marginal."""
    contrast = m.quality.contrast
    if contrast < CONTRAST_ERROR:
        return [
            finding(
                Code.QUALITY_LOW_CONTRAST,
                f"symbol contrast {contrast:.0%} (at least {CONTRAST_ERROR:.0%} required)",
                m.screen,
                region=m.region,
                seen=round(contrast, 3),
            )
        ]
    if contrast < CONTRAST_WARNING:
        return [
            finding(
                Code.QUALITY_CONTRAST_MARGINAL,
                f"symbol contrast {contrast:.0%} (recommended ≥ {CONTRAST_WARNING:.0%})",
                m.screen,
                region=m.region,
                seen=round(contrast, 3),
            )
        ]
    return []


def _ec_level_findings(m: _Measured) -> list[Finding]:
    """The spec's EC M or higher; a level the decoder did not report cannot be judged, only noted."""
    if m.reading.ec_level == "L":
        return [
            finding(
                Code.QUALITY_EC_LOW,
                "error correction L: the spec requires M or higher",
                m.screen,
                region=m.region,
                seen="L",
                expected="M",
            )
        ]
    if not m.reading.ec_level:
        return [
            finding(
                Code.QUALITY_NOT_MEASURED, "the decoder did not report the error-correction level", m.screen
            )
        ]
    return []


def _inverted_findings(m: _Measured) -> list[Finding]:
    """A warning rather than an error: only some scanners fail on light modules on a dark ground."""
    if not m.quality.inverted:
        return []
    return [
        finding(
            Code.QUALITY_INVERTED,
            "the code is shown inverted (light modules on a dark ground): some scanners cannot read it",
            m.screen,
            region=m.region,
        )
    ]
