"""Benchmark: rendering and decoding, each beside the raw zxing-cpp call in the same run.

Render: symbols/s, PNGs/s and cards/s against zxing-cpp's own create + image (+ the same PNG
encoder for the PNG rows). Decode: per category of the degraded-photo corpus, the success rate and
decodes/s of ``decode_gray`` against one plain ``zxingcpp.read_barcodes`` call on the same arrays,
plus the speed on the images the raw call reads at its first try (where the cascade must cost
nothing: target >= 0.8x). Wrong decodes are counted and must be zero. ``--quick`` runs in < 60 s.
"""

from __future__ import annotations

import argparse
import io
import time
from typing import Any

import numpy as np
import zxingcpp
from PIL import Image

from support.common import paired_rates, report, row
from unifiedqr.codes.payload import parse
from unifiedqr.imaging import render_card_png, render_png
from unifiedqr.imaging.card import CARD_CODE_MM, code_image
from unifiedqr.imaging.corpus import CATEGORIES, generate
from unifiedqr.imaging.decode import decode_gray
from unifiedqr.imaging.render import encode

SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"
QR = zxingcpp.BarcodeFormat.QRCode
MODEL_2 = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCodeModel2)


def _raw_png(scale: int) -> bytes:
    barcode = zxingcpp.create_barcode(SAMPLE, QR, ec_level="M")
    out = io.BytesIO()
    Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))).save(out, "PNG")
    return out.getvalue()


def render_rows(seconds: float) -> list[dict[str, Any]]:
    code = parse(SAMPLE)
    card_scale = code_image(SAMPLE, CARD_CODE_MM, 300).width // (encode(SAMPLE).size + 8)
    pairs = [
        (
            "render.symbol",
            lambda: encode(SAMPLE),
            lambda: zxingcpp.create_barcode(SAMPLE, QR, ec_level="M").to_image(),
        ),
        ("render.png", lambda: render_png(SAMPLE), lambda: _raw_png(8)),
        ("render.card_png", lambda: render_card_png(code), lambda: _raw_png(card_scale)),
    ]
    rows = []
    for name, ours, raw in pairs:
        our_rate, raw_rate = paired_rates(ours, raw, seconds, 1, rounds=5)
        rows.append(row(name, our_rate, "renders/s", raw_rate))
    return rows


def _best(fn: Any, repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def decode_rows(count: int, repeats: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    totals = {"ours": 0, "raw": 0, "n": 0, "wrong": 0}
    for category in CATEGORIES:
        ours_ok = raw_ok = wrong = 0
        ours_time = raw_time = first_ours = first_raw = 0.0
        for sample in generate(category, count):
            gray = np.ascontiguousarray(np.asarray(sample.image.convert("L")))
            raw_s, raw_found = _best(lambda g=gray: zxingcpp.read_barcodes(g, formats=MODEL_2), repeats)
            our_s, our_found = _best(lambda g=gray: decode_gray(g), repeats)
            raw_hit = any(b.text == sample.text for b in raw_found)
            our_texts = [d.text for d in our_found]
            raw_ok += raw_hit
            ours_ok += sample.text in our_texts
            wrong += sum(t != sample.text for t in our_texts)
            raw_time += raw_s
            ours_time += our_s
            if raw_hit:
                first_raw += raw_s
                first_ours += our_s
        rows.append(row(f"decode.{category}.read", ours_ok, f"of {count}", raw_ok, wrong=wrong))
        rows.append(row(f"decode.{category}.rate", count / ours_time, "decodes/s", count / raw_time))
        if first_raw:
            rows.append(
                row(
                    f"decode.{category}.first_try",
                    first_raw and raw_ok / first_ours,
                    "decodes/s",
                    raw_ok / first_raw,
                )
            )
        totals["ours"] += ours_ok
        totals["raw"] += raw_ok
        totals["n"] += count
        totals["wrong"] += wrong
    rows.append(
        row("decode.all.read", totals["ours"], f"of {totals['n']}", totals["raw"], wrong=totals["wrong"])
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 60 s)")
    args = parser.parse_args()
    rows = render_rows(2.0 if args.quick else 6.0)
    rows += decode_rows(12 if args.quick else 40, 1 if args.quick else 3)
    report("imaging", rows)


if __name__ == "__main__":
    main()
