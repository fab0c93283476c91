"""Benchmark: how well the conformance checker reads a phone screen (Tesseract 5, Vietnamese model).

Screens come from the test corpus generator (tests/conformance/generator.py): every person × theme ×
phone size × layout × name case × display mode, a share of them saved as JPEG or downscaled. Two
things are measured:

- **Raw OCR** (the first variant the checker tries, as Tesseract returns it): the share of screens
  where the shown name appears exactly, diacritics included; its character error rate; the share
  where the full document number / birth date / masked forms appear verbatim.
- **The checker** (every variant until each field matches, then the tolerant comparisons): the share
  of fields matched, mask glyphs counted right, variants needed, seconds per screen; and, with the
  same OCR text judged against *another person's* code, the share of fields rejected (no false
  accept from the tolerances).

``--quick`` runs 12 screens (< 1 min); the full run 72.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from tests.conformance.generator import PEOPLE, Style, World, render_screen, spec_for  # noqa: E402

from support.common import report, row  # noqa: E402
from unifiedqr.codes.display import mask_birth_date  # noqa: E402
from unifiedqr.codes.payload import format_code, mask_document  # noqa: E402
from unifiedqr.conformance.assess import blank_boxes, read_text  # noqa: E402
from unifiedqr.conformance.display import read_display  # noqa: E402
from unifiedqr.conformance.ocr import Tesseract, read_variant, variants_for  # noqa: E402
from unifiedqr.conformance.reading import edit_distance, letters_only, name_tolerance  # noqa: E402
from unifiedqr.conformance.symbol import find_symbols, gray_of  # noqa: E402


def screens(count: int) -> list[dict[str, Any]]:
    world = World()
    styles = [
        Style(theme, phone, layout, case)
        for theme, phone, layout, case in itertools.product(
            ("light", "dark"),
            ("small", "large", "iphone"),
            ("inline", "stacked", "columns"),
            ("title", "upper"),
        )
    ]
    out = []
    for index in range(count):
        person = PEOPLE[index % len(PEOPLE)]
        style = styles[(index * 7) % len(styles)]
        full = index % 2 == 1
        code = world.safe(person.code()) if index % 3 == 0 else world.signed(person.code())
        image = render_screen(spec_for(code, person, full, style))
        damage = ("jpeg", "downscaled", "none", "none")[index % 4]
        if damage == "jpeg":
            from io import BytesIO

            buffer = BytesIO()
            image.save(buffer, "JPEG", quality=75)
            image = Image.open(BytesIO(buffer.getvalue())).convert("RGB")
        elif damage == "downscaled":
            image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.Resampling.BILINEAR)
        other = world.signed(PEOPLE[(index + 3) % len(PEOPLE)].code())
        out.append(
            {
                "person": person,
                "full": full,
                "style": style,
                "code": code,
                "image": image,
                "damage": damage,
                "other": other,
            }
        )
    return out


def _best_window(lines: list[str], shown: str) -> int:
    """Least edit distance between ``shown`` and any run of words of any line (as written)."""
    best = len(shown)
    size = len(shown.split())
    for line in lines:
        words = line.split()
        for length in (size - 1, size, size + 1):
            for start in range(0, max(len(words) - length + 1, 0)):
                best = min(best, edit_distance(" ".join(words[start : start + length]), shown))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 screens instead of 72")
    args = parser.parse_args()
    engine = Tesseract()
    samples = screens(12 if args.quick else 72)
    totals: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        totals[key] = totals.get(key, 0.0) + value

    name_chars = 0
    for sample in samples:
        person, image, code = sample["person"], sample["image"], sample["code"]
        shown_name = person.name.upper() if sample["style"].name_case == "upper" else person.name
        document = person.document if sample["full"] else mask_document(person.document)
        birth = person.birth.isoformat() if sample["full"] else mask_birth_date(person.birth.isoformat())
        gray = gray_of(image)
        symbols = find_symbols(gray)
        assert symbols and symbols[0].text == format_code(code)
        blank = blank_boxes(symbols, image)
        first = read_variant(engine, image, variants_for(image)[0], blank)
        texts = [line.text for line in first]
        add("raw.name_exact", any(shown_name in t for t in texts))
        distance = _best_window(texts, shown_name)
        add("raw.name_char_errors", distance)
        name_chars += len(shown_name)
        add("raw.document_verbatim", any(document in t.replace(" ", "") for t in texts))
        add("raw.birth_verbatim", any(birth in t.replace(" ", "") for t in texts))
        started = time.perf_counter()
        reading, lines, used = read_text(engine, image, code, blank, gray)
        add("checker.seconds", time.perf_counter() - started)
        add("checker.variants", len(used))
        add("checker.name", reading.name.status == "match")
        if reading.name.matches:
            totals["checker.name_max_distance"] = max(
                totals.get("checker.name_max_distance", 0), min(c.distance for c in reading.name.matches)
            )
        add("checker.document", reading.document.status == "match")
        add("checker.birth_date", reading.birth_date.status == "match")
        masked = [c for c in reading.document.matches if c.form == "masked"]
        if not sample["full"]:
            add("checker.masked_screens", 1)
            add("checker.mask_glyphs_right", bool(masked) and masked[0].mask_glyphs == 6)
        wrong = read_display(lines, sample["other"], gray)
        add("reject.name", wrong.name.status != "match")
        add("reject.document", wrong.document.status != "match")
        add(
            "reject.birth_date",
            wrong.birth_date.status != "match"
            or sample["other"].birth_date[:4] == person.birth.isoformat()[:4],
        )
    n = len(samples)
    folded = [letters_only(p.name) for p in PEOPLE]
    apart = min(edit_distance(a, b) for a, b in itertools.combinations(folded, 2))
    slack = min(edit_distance(a, b) - name_tolerance(len(b)) for a, b in itertools.permutations(folded, 2))
    masked_n = totals.get("checker.masked_screens", 0) or 1
    rows = [
        row("screens", n, "screens"),
        row("raw.name_exact_with_diacritics", 100 * totals["raw.name_exact"] / n, "%"),
        row("raw.name_character_error_rate", 100 * totals["raw.name_char_errors"] / name_chars, "%"),
        row("raw.document_verbatim", 100 * totals["raw.document_verbatim"] / n, "%"),
        row("raw.birth_date_verbatim", 100 * totals["raw.birth_verbatim"] / n, "%"),
        row("checker.name_matched", 100 * totals["checker.name"] / n, "%"),
        row("checker.document_matched", 100 * totals["checker.document"] / n, "%"),
        row("checker.birth_date_matched", 100 * totals["checker.birth_date"] / n, "%"),
        row(
            "checker.mask_glyphs_counted_right",
            100 * totals.get("checker.mask_glyphs_right", 0) / masked_n,
            "%",
        ),
        row(
            "checker.name_max_edit_distance_when_matched", totals.get("checker.name_max_distance", 0), "edits"
        ),
        row("names.least_distance_between_people", apart, "edits"),
        row("names.least_margin_over_tolerance", slack, "edits"),
        row("checker.variants_per_screen", totals["checker.variants"] / n, "variants"),
        row("checker.seconds_per_screen", totals["checker.seconds"] / n, "s"),
        row("reject.other_person_name", 100 * totals["reject.name"] / n, "%"),
        row("reject.other_person_document", 100 * totals["reject.document"] / n, "%"),
        row("reject.other_person_birth_date", 100 * totals["reject.birth_date"] / n, "%"),
    ]
    report("ocr", rows)


if __name__ == "__main__":
    main()
