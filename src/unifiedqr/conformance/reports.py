"""Report writers: the assessment as JSON, a self-contained HTML page, and a PDF.

The HTML needs no network and no other file: styles inline, the annotated evidence images embedded as
PNG data URIs, every piece of evidence text escaped (OCR output and ``app.json`` are untrusted). The
PDF is rendered with Pillow and the shipped DejaVu fonts (Vietnamese text), A4 pages at 150 dpi, one
summary page (more when the findings run long) and one page per screen, written by the project's
own lossless PDF writer; no browser is involved.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw

from unifiedqr.conformance.annotate import annotate, thumbnail
from unifiedqr.conformance.assessment import Assessment, ScreenReport
from unifiedqr.conformance.findings import Finding
from unifiedqr.imaging.card import font
from unifiedqr.imaging.pdf import images_to_pdf

PDF_DPI: Final = 150
A4_PX: Final = (1240, 1754)
HTML_IMAGE_WIDTH: Final = 720
_COLOURS: Final = {
    "error": "#b91c1c",
    "warning": "#b45309",
    "info": "#1d4ed8",
    "pass": "#15803d",
    "fail": "#b91c1c",
}


def annotated_screens(assessment: Assessment, images: Mapping[str, Image.Image]) -> dict[str, Image.Image]:
    """Each screen's evidence image with its reading and findings drawn on it."""
    out = {}
    for screen in assessment.screens:
        image = images.get(screen.name)
        if image is not None:
            findings = [f for f in assessment.findings if f.screen == screen.name]
            out[screen.name] = annotate(image, screen, findings)
    return out


def report_json(assessment: Assessment) -> str:
    return json.dumps(assessment.to_json(), ensure_ascii=False, indent=2) + "\n"


# -- HTML -------------------------------------------------------------------------------------------------
_STYLE: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2rem;color:#111}
body{max-width:1200px} table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f6} code{font-size:.85rem}
.verdict{display:inline-block;padding:.2rem .8rem;color:#fff;border-radius:4px;font-weight:bold}
.sev{color:#fff;padding:0 .4rem;border-radius:3px;font-size:.8rem}
.screen{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}
.screen img{max-width:100%;border:1px solid #999} .legend{color:#444;font-size:.9rem}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _png_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _findings_table(findings: Sequence[Finding]) -> str:
    rows = "".join(
        f'<tr><td><span class="sev" style="background:{_COLOURS[f.severity.value]}">'
        f"{_e(f.severity.value)}</span></td><td><code>{_e(f.code.value)}</code></td>"
        f"<td>{_e(f.screen or '')}</td><td>{_e(f.message)}</td></tr>"
        for f in findings
    )
    return f"<table><tr><th>severity</th><th>code</th><th>screen</th><th>message</th></tr>{rows}</table>"


def _screen_html(screen: ScreenReport, image: Image.Image | None, findings: Sequence[Finding]) -> str:
    size = f"{screen.width}×{screen.height}"
    parts = [f"<section><h2>Screen <code>{_e(screen.name)}</code> ({_e(screen.file)}, {size})</h2>"]
    parts.append('<div class="screen">')
    if image is not None:
        uri = _png_uri(thumbnail(image, HTML_IMAGE_WIDTH))
        parts.append(f'<img alt="{_e(screen.name)} screenshot, annotated" src="{uri}">')
    parts.append("<div>")
    facts = [
        ("code kind", screen.kind),
        ("QID", screen.qid),
        ("safe (masked) code", screen.safe_code),
        ("version", screen.version),
        ("EC level", screen.ec_level),
        ("SHA-256", screen.sha256),
    ]
    for key, value in (screen.quality or {}).items():
        facts.append((key.replace("_", " "), json.dumps(value) if isinstance(value, dict) else value))
    facts.append(("OCR variants", ", ".join(screen.ocr_variants)))
    parts.append(
        "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts) + "</table>"
    )
    if screen.fields:
        parts.append(
            "<h3>Fields read</h3><table><tr><th>field</th><th>status</th><th>form</th><th>seen</th></tr>"
        )
        parts.extend(
            f"<tr><td>{_e(f.field)}</td><td>{_e(f.status)}</td><td>{_e(f.form)}</td><td>{_e(f.seen)}</td></tr>"
            for f in screen.fields
        )
        parts.append("</table>")
    parts.append("<h3>Findings on this screen</h3>" + _findings_table(findings) if findings else "")
    parts.append("</div></div>")
    if screen.text:
        parts.append(
            "<details><summary>All text the OCR read</summary>"
            "<table><tr><th>variant</th><th>box</th><th>text</th></tr>"
        )
        parts.extend(
            f"<tr><td>{_e(t.variant)}</td><td>{_e(list(t.box))}</td><td>{_e(t.text)}</td></tr>"
            for t in screen.text
        )
        parts.append("</table></details>")
    parts.append("</section>")
    return "".join(parts)


def report_html(assessment: Assessment, images: Mapping[str, Image.Image]) -> str:
    annotated = annotated_screens(assessment, images)
    app = assessment.app
    title = f"{app.name} {app.version} ({app.vendor})" if app else assessment.folder
    verdict = assessment.verdict
    summary = assessment.summary()
    counts = summary["counts"]
    live = ""
    if assessment.live:
        rows = "".join(
            f"<tr><td>{_e(c.name)}</td><td><code>{_e(c.method)} {_e(c.path)}</code></td>"
            f"<td>{_e(c.status)}</td><td>{_e(c.expected)}</td>"
            f"<td>{'met' if c.met else 'NOT met: ' + _e(c.detail)}</td></tr>"
            for c in assessment.live
        )
        live = (
            "<section><h2>Live integration</h2><table><tr><th>call</th><th>request</th><th>status</th>"
            f"<th>contract</th><th>result</th></tr>{rows}</table></section>"
        )
    screens = "".join(
        _screen_html(s, annotated.get(s.name), [f for f in assessment.findings if f.screen == s.name])
        for s in assessment.screens
    )
    legend = (
        "<p class=legend>Images: <b style='color:#2563eb'>blue</b> the code as located; "
        "<b style='color:#ea8c00'>dashed orange</b> the required 4-module quiet zone; "
        "<b style='color:#16a34a'>green</b>/<b style='color:#dc2626'>red</b> the clear zone measured and "
        "the fields read (red: a finding); grey: every line of text the OCR read.</p>"
    )
    ocr = assessment.ocr_engine or "none"
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Conformance report: {_e(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>Conformance report</h1>
<p><b>{_e(title)}</b> &nbsp;
<span class="verdict" style="background:{_COLOURS[verdict]}">{_e(verdict.upper())}</span></p>
<table>
<tr><th>assessed at</th><td>{_e(summary["assessed_at"])}</td></tr>
<tr><th>findings</th><td>{counts["error"]} error, {counts["warning"]} warning, {counts["info"]} info</td></tr>
<tr><th>tool</th><td>unifiedqr {_e(assessment.tool_version)}, OCR: {_e(ocr)}</td></tr>
<tr><th>trust list keys</th><td>{_e(", ".join(assessment.trust_key_ids) or "none")}</td></tr>
<tr><th>evidence</th><td>{_e(assessment.folder)}</td></tr>
</table>
<h2>Findings</h2>
{_findings_table(assessment.findings)}
<p>Each code is explained, with how to fix it, in the catalogue (docs/conformance.md).</p>
{legend}
{screens}
{live}
</body></html>
"""


# -- PDF --------------------------------------------------------------------------------------------------
class _Pages:
    """A4 pages drawn top to bottom with wrapped text; a new page when one is full."""

    def __init__(self) -> None:
        self.pages: list[Image.Image] = []
        self.margin = 80
        self._new()

    def _new(self) -> None:
        self.page = Image.new("RGB", A4_PX, (255, 255, 255))
        self.draw = ImageDraw.Draw(self.page)
        self.pages.append(self.page)
        self.y = self.margin

    def text(
        self,
        value: str,
        size: int = 22,
        bold: bool = False,
        colour: tuple[int, int, int] = (17, 17, 17),
        indent: int = 0,
    ) -> None:
        face = font(size, bold)
        width = A4_PX[0] - 2 * self.margin - indent
        for paragraph in value.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}".strip()
                if line and self.draw.textlength(candidate, font=face) > width:
                    self._line(line, face, colour, indent, size)
                    line = word
                else:
                    line = candidate
            self._line(line, face, colour, indent, size)

    def _line(self, line: str, face: object, colour: tuple[int, int, int], indent: int, size: int) -> None:
        if self.y + size * 1.4 > A4_PX[1] - self.margin:
            self._new()
        self.draw.text((self.margin + indent, self.y), line, font=face, fill=colour)  # type: ignore[arg-type]
        self.y += round(size * 1.4)

    def gap(self, pixels: int = 16) -> None:
        self.y += pixels

    def image(self, image: Image.Image, max_height: int) -> None:
        room = A4_PX[0] - 2 * self.margin
        scale = min(room / image.width, max_height / image.height, 1.0)
        shown = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.LANCZOS,
        )
        if self.y + shown.height > A4_PX[1] - self.margin:
            self._new()
        self.page.paste(shown, (self.margin, self.y))
        self.y += shown.height + 12


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def report_pdf(assessment: Assessment, images: Mapping[str, Image.Image]) -> bytes:
    annotated = annotated_screens(assessment, images)
    pages = _Pages()
    app = assessment.app
    pages.text("Conformance report", 40, True)
    pages.text(f"{app.name} {app.version} ({app.vendor})" if app else assessment.folder, 28, True)
    verdict = assessment.verdict
    pages.text(f"Verdict: {verdict.upper()}", 30, True, _rgb(_COLOURS[verdict]))
    summary = assessment.summary()
    counts = summary["counts"]
    pages.text(
        f"Assessed at {summary['assessed_at']} with unifiedqr {assessment.tool_version}; OCR "
        f"{assessment.ocr_engine or 'none'}; trust list keys {', '.join(assessment.trust_key_ids) or 'none'}."
    )
    pages.text(f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info.")
    pages.gap(20)
    pages.text("Findings", 30, True)
    for item in assessment.findings:
        colour = _rgb(_COLOURS[item.severity.value])
        where = f" [{item.screen}]" if item.screen else ""
        pages.text(f"{item.severity.value.upper()} {item.code.value}{where}", 22, True, colour)
        pages.text(item.message, 20, indent=24)
    if assessment.live:
        pages.gap(20)
        pages.text("Live integration", 30, True)
        for call in assessment.live:
            result = "met" if call.met else f"NOT met: {call.detail}"
            pages.text(
                f"{call.name}: {call.method} {call.path} → {call.status}: {result}",
                20,
                colour=(17, 17, 17) if call.met else _rgb(_COLOURS["error"]),
            )
    for screen in assessment.screens:
        pages._new()
        pages.text(f"Screen {screen.name} ({screen.file}, {screen.width}×{screen.height})", 30, True)
        image = annotated.get(screen.name)
        if image is not None:
            pages.image(image, 1150)
        quality = screen.quality or {}
        if quality:
            zone = quality.get("quiet_zone_modules", {})
            pages.text(
                f"QR version {screen.version}, EC {screen.ec_level}, {quality.get('module_px')} px a module, "
                f"contrast {quality.get('contrast')}, quiet zone (modules) {zone}",
                18,
            )
        for field in screen.fields:
            pages.text(f"{field.field}: {field.status} ({field.form}) read as “{field.seen}”", 18)
    return images_to_pdf(pages.pages, PDF_DPI)


def write_reports(assessment: Assessment, images: Mapping[str, Image.Image], out_dir: Path) -> list[Path]:
    """``report.json``, ``report.html`` and ``report.pdf`` in ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (
        ("report.json", report_json(assessment).encode("utf-8")),
        ("report.html", report_html(assessment, images).encode("utf-8")),
        ("report.pdf", report_pdf(assessment, images)),
    ):
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
