"""PDF pages around raster images, each page at its image's physical size.

Pillow's own PDF writer stores RGB images as JPEG, whose ringing around module edges costs scan
margin on paper; this writer stores them losslessly (Flate) and sets each page to exactly
``pixels / dpi`` inches, so a 5 cm code prints as 5 cm at 100 % scale. Output is deterministic.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from PIL import Image

from unifiedqr.errors import InvalidInput


def image_to_pdf(image: Image.Image, dpi: int) -> bytes:
    """One page, ``image.width / dpi`` × ``image.height / dpi`` inches, the image filling it."""
    return images_to_pdf([image], dpi)


def images_to_pdf(images: Sequence[Image.Image], dpi: int) -> bytes:
    """One page per image, each ``width / dpi`` × ``height / dpi`` inches, the image filling it."""
    if dpi <= 0:
        raise InvalidInput("dpi", "must be positive")
    if not images:
        raise InvalidInput("images", "a PDF needs at least one page")
    count = len(images)
    # objects: 1 catalog, 2 pages, then per page: page, image, contents
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode("ascii"),
    ]
    for index, image in enumerate(images):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        page, picture, contents = 3 + 3 * index, 4 + 3 * index, 5 + 3 * index
        colour_space = "/DeviceRGB" if image.mode == "RGB" else "/DeviceGray"
        width_pt = image.width * 72 / dpi
        height_pt = image.height * 72 / dpi
        pixels = zlib.compress(image.tobytes(), 6)
        content = f"q {width_pt:.4f} 0 0 {height_pt:.4f} 0 0 cm /Im0 Do Q".encode("ascii")
        objects += [
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt:.4f} {height_pt:.4f}] "
                f"/Resources << /XObject << /Im0 {picture} 0 R >> >> /Contents {contents} 0 R >>"
            ).encode("ascii"),
            (
                f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                f"/ColorSpace {colour_space} /BitsPerComponent 8 /Filter /FlateDecode "
                f"/Length {len(pixels)} >>\n"
                "stream\n"
            ).encode("ascii")
            + pixels
            + b"\nendstream",
            f"<< /Length {len(content)} >>\nstream\n".encode("ascii") + content + b"\nendstream",
        ]
        assert page == len(objects) - 2
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)
