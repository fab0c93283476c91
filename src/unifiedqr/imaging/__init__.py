"""QR pixels: render symbols, personal cards and posters; decode codes from photos.

This facade is the public surface (the platform service and the CLI call only these names); the
modules behind it are private and may change. ``tests/imaging/test_exports.py`` pins the list.
"""

from __future__ import annotations

from unifiedqr.imaging.card import render_card_pdf, render_card_png, render_poster
from unifiedqr.imaging.decode import Decoded, ImageError, decode_image
from unifiedqr.imaging.render import data_uri, render_png, render_svg, render_terminal

__all__ = [
    "Decoded",
    "ImageError",
    "data_uri",
    "decode_image",
    "render_card_pdf",
    "render_card_png",
    "render_png",
    "render_poster",
    "render_svg",
    "render_terminal",
]
