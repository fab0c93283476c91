"""Symbol quality as displayed (spec §3's decisions: quiet zone ≥ 4 modules, EC M or higher; readable
from a phone screen), judged from :mod:`unifiedqr.conformance.symbol`'s measurements.

The thresholds are constants here, each with its reason, and catalogued in ``docs/conformance.md``.
"""

from __future__ import annotations

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
    width, height = image_size
    module_mm = None
    if height >= 1.6 * width:  # a portrait phone screen: its width is known closely enough
        module_mm = round(quality.module_px * PHONE_SCREEN_MM / width, 3)
    measured = {**quality.to_json(), "ec_level": reading.ec_level or None, "version": reading.version or None}
    out = [
        finding(
            Code.QUALITY_MEASURED,
            f"version {reading.version or '?'}, EC {reading.ec_level or '?'}, "
            f"{quality.module_px:.1f} px a module"
            + (f" (≈ {module_mm:.2f} mm on a phone)" if module_mm else "")
            + f", quiet zone ≥ {quality.quiet_zone_min:.1f} modules, contrast {quality.contrast:.0%}",
            screen,
            region=region,
            measured=measured,
            module_mm=module_mm,
        )
    ]
    short = {
        side: round(v, 2)
        for side, v in quality.quiet_zone.items()
        if v < QUIET_ZONE_MODULES - QUIET_ZONE_TOLERANCE
    }
    if short:
        sides = ", ".join(f"{side} {value:.1f}" for side, value in short.items())
        out.append(
            finding(
                Code.QUALITY_QUIET_ZONE,
                f"the quiet zone is narrower than {QUIET_ZONE_MODULES:.0f} modules ({sides} modules): "
                "what the app draws around the code touches it",
                screen,
                region=region,
                expected=QUIET_ZONE_MODULES,
                seen=short,
            )
        )
    if quality.module_px < MODULE_PX_ERROR:
        out.append(
            finding(
                Code.QUALITY_MODULE_TOO_SMALL,
                f"{quality.module_px:.1f} px a module at the screenshot's resolution (at least "
                f"{MODULE_PX_ERROR:.0f} required)",
                screen,
                region=region,
                seen=round(quality.module_px, 2),
            )
        )
    elif quality.module_px < MODULE_PX_WARNING or (module_mm is not None and module_mm < MODULE_MM_WARNING):
        out.append(
            finding(
                Code.QUALITY_MODULE_SMALL,
                f"small modules: {quality.module_px:.1f} px"
                + (f", ≈ {module_mm:.2f} mm on a phone" if module_mm else "")
                + f" (recommended ≥ {MODULE_PX_WARNING:.0f} px and ≥ {MODULE_MM_WARNING} mm)",
                screen,
                region=region,
                seen=round(quality.module_px, 2),
            )
        )
    if quality.contrast < CONTRAST_ERROR:
        out.append(
            finding(
                Code.QUALITY_LOW_CONTRAST,
                f"symbol contrast {quality.contrast:.0%} (at least {CONTRAST_ERROR:.0%} required)",
                screen,
                region=region,
                seen=round(quality.contrast, 3),
            )
        )
    elif quality.contrast < CONTRAST_WARNING:
        out.append(
            finding(
                Code.QUALITY_CONTRAST_MARGINAL,
                f"symbol contrast {quality.contrast:.0%} (recommended ≥ {CONTRAST_WARNING:.0%})",
                screen,
                region=region,
                seen=round(quality.contrast, 3),
            )
        )
    if reading.ec_level == "L":
        out.append(
            finding(
                Code.QUALITY_EC_LOW,
                "error correction L: the spec requires M or higher",
                screen,
                region=region,
                seen="L",
                expected="M",
            )
        )
    elif not reading.ec_level:
        out.append(
            finding(
                Code.QUALITY_NOT_MEASURED, "the decoder did not report the error-correction level", screen
            )
        )
    if quality.inverted:
        out.append(
            finding(
                Code.QUALITY_INVERTED,
                "the code is shown inverted (light modules on a dark ground): some scanners cannot read it",
                screen,
                region=region,
            )
        )
    return out
