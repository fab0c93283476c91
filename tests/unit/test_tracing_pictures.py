"""Tracing pictures: valid SVG and PNG, masked labels only, bounded size, deterministic, golden."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import update_golden
from unifiedqr.errors import InvalidInput
from unifiedqr.imaging.scene import Dot, Poly, Rect, Scene, Text, fit, to_image
from unifiedqr.imaging.tracing_pictures import (
    Track,
    contact_graph,
    safe_label,
    timeline_tracks,
    to_png,
    to_svg,
    venue_timeline,
)
from unifiedqr.services.tracing_rules import CaseScan, ContactScan, VenueFacts, make_window, trace

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "tracing"
SVG_NS = "{http://www.w3.org/2000/svg}"
VN = dt.timezone(dt.timedelta(hours=7))
NAMES = [
    "N***** V** AN",
    "T*** T** BICH",
    "L* H**** DUC",
    "P*** T** HUONG",
    "H**** M*** KHOI",
    "D*** T** THUY",
]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, 10, day, hour, minute, tzinfo=VN)


def scenario(contacts: int = 12):
    """A case at a hospital, a restaurant late at night and a shop; contacts spread over them."""
    case_scans = [
        CaseScan(1, at(5, 10)),
        CaseScan(1, at(5, 12)),
        CaseScan(2, at(5, 23, 30)),
        CaseScan(3, at(4, 8)),
    ]
    rows = []
    for i in range(contacts):
        scan = case_scans[i % len(case_scans)]
        rows.append(
            ContactScan(i, scan.venue_id, scan.at + dt.timedelta(minutes=(i * 37) % 121 - 60), i % 5 != 4)
        )
    venues = {1: VenueFacts("hospital"), 2: VenueFacts("restaurant"), 3: VenueFacts("shop")}
    candidates = trace(case_scans, rows, make_window(at(3, 0), at(7, 0)), venues=venues)
    labels = {i: NAMES[i % len(NAMES)] for i in range(contacts)}
    venue_labels = {1: "Bệnh viện Đa khoa tỉnh Khánh Hòa", 2: "Quán phở Hà Nội", 3: "Tạp hóa Minh Anh"}
    return case_scans, candidates, labels, venue_labels


def graph(contacts: int = 12, **kw):
    _, candidates, labels, venue_labels = scenario(contacts)
    return contact_graph(
        candidates,
        case_label="N***** L* K** HAN",
        person_labels=labels,
        venue_labels=venue_labels,
        venue_kinds={1: "bệnh viện", 2: "nhà hàng", 3: "cửa hàng"},
        **kw,
    )


def timeline(contacts: int = 12, **kw):
    case_scans, candidates, labels, venue_labels = scenario(contacts)
    return venue_timeline(
        venue_labels[2],
        [s.at for s in case_scans if s.venue_id == 2],
        timeline_tracks(candidates, 2, labels),
        **kw,
    )


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == f"{SVG_NS}svg"
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("make", [graph, timeline], ids=["graph", "timeline"])
def test_svg_parses_and_png_decodes_at_the_scene_size(make) -> None:
    scene = make()
    svg = to_svg(scene)
    root = ET.fromstring(svg.encode("utf-8"))  # noqa: S314 (our own output, not untrusted input)
    assert (root.get("width"), root.get("height")) == (str(scene.width), str(scene.height))
    image = decode(to_png(scene))
    assert (image.format, image.size) == ("PNG", (scene.width, scene.height))
    assert decode(to_png(scene, scale=2)).size == (scene.width * 2, scene.height * 2)
    assert np.asarray(image.convert("L")).std() > 10, "not a blank picture"


@pytest.mark.parametrize("make", [graph, timeline], ids=["graph", "timeline"])
def test_output_is_deterministic(make) -> None:
    assert to_svg(make()) == to_svg(make())
    assert to_png(make()) == to_png(make())


def test_graph_shows_the_case_venues_and_ranked_candidates_with_vietnamese_text() -> None:
    words = texts(to_svg(graph()))
    assert "CA BỆNH" in words and "N***** L* K** HAN" in words
    assert "Bệnh viện Đa khoa tỉnh Khánh Hòa" in words and "Quán phở Hà Nội" in words
    assert any(w.startswith("#1 · điểm") for w in words)
    assert any("chưa xác minh" in w for w in words), "unverified visitors are marked"


def test_graph_size_is_bounded_and_says_how_many_more() -> None:
    small, big = graph(12), graph(200, max_candidates=30)
    words = texts(to_svg(big))
    assert sum(w.startswith("#") for w in words) == 30
    assert "+170 người khác" in words  # every contact is a candidate in this scenario
    assert big.height <= 64 + 31 * 44 + 44
    assert small.height < big.height
    few_venues = texts(to_svg(graph(12, max_venues=1)))
    assert "+2 địa điểm khác" in few_venues
    with pytest.raises(InvalidInput):
        graph(12, max_candidates=0)


def test_timeline_across_midnight_labels_both_days_and_bounds_rows() -> None:
    words = texts(to_svg(timeline(12)))
    assert "05/10" in words and "06/10" in words
    assert "Ca bệnh" in words and "00:00" in words
    many = texts(to_svg(timeline(400, max_tracks=5)))
    assert sum(w in NAMES or w.removesuffix(" (chưa xác minh)") in NAMES for w in many) <= 5
    assert any(re.fullmatch(r"\+\d+ người khác", w) for w in many)
    with pytest.raises(InvalidInput):
        venue_timeline("x", [], [])


def test_timeline_draws_visit_spans_for_the_overlap_rule() -> None:
    scene = venue_timeline(
        "Văn phòng",
        [],
        [Track("A*** B", [at(5, 9)], spans=[(at(5, 9), at(5, 17))])],
        case_spans=[(at(5, 8), at(5, 12))],
    )
    assert any(isinstance(s, Rect) and s.w > 100 for s in scene.shapes)


PHONE = "0912345678"
DOCUMENT = "001093029317"
QID = "162979388586171100"


def test_no_phone_document_or_qid_reaches_a_picture_even_if_a_caller_passes_one() -> None:
    _, candidates, _, venue_labels = scenario(6)
    labels = {i: f"Nguyễn Văn {i} {PHONE} {DOCUMENT}" for i in range(6)}
    scene = contact_graph(
        candidates,
        case_label=f"case {QID}",
        person_labels=labels,
        venue_labels={**venue_labels, 1: f"Bệnh viện {PHONE}"},
        title=f"Ca {DOCUMENT}",
    )
    line = venue_timeline(f"venue {PHONE}", [at(5, 10)], [Track(f"x {DOCUMENT}", [at(5, 10)])])
    for svg in (to_svg(scene), to_svg(line)):
        assert not re.search(r"\d{9,}", svg), "nothing that looks like a phone, document or QID"
        for word in texts(svg):
            assert not re.search(r"\d{5,}", word), word
        assert "•••" in svg


def test_safe_label() -> None:
    assert safe_label("Nguyễn  Văn\tAn\x00") == "Nguyễn Văn An"
    assert safe_label("gọi 0912 345 678") == "gọi 0912 345 678"  # short runs stay (dates, house numbers)
    assert safe_label("gọi 0912345678") == "gọi •••"
    assert len(safe_label("x" * 500)) == 80


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    cut = fit("Bệnh viện Đa khoa Trung ương Thành phố Hồ Chí Minh cơ sở 2", 12, 120)
    assert cut.endswith("…") and len(cut) < 40


def test_vietnamese_glyphs_render_with_the_shipped_font() -> None:
    def pixels(text: str) -> np.ndarray:
        scene = Scene(60, 30, (Text(5, 22, text, 18),))
        return np.asarray(to_image(scene).convert("L"))

    plain, marked = pixels("e"), pixels("ệ")
    assert (plain < 128).sum() > 0
    assert not np.array_equal(plain, marked), "the dot below and circumflex are drawn, not a box"


def test_dashed_and_solid_shapes_draw() -> None:
    scene = Scene(
        100,
        60,
        (
            Poly(((5, 5), (95, 5)), (0, 0, 0), 2.0, dashed=True),
            Poly(((5, 15), (95, 15)), (0, 0, 0), 2.0),
            Rect(5, 25, 40, 20, None, (0, 0, 0), 1.0, 0.0, dashed=True),
            Dot(70, 35, 6, (0, 0, 255)),
        ),
    )
    gray = np.asarray(to_image(scene).convert("L"))
    dashed_row, solid_row = gray[5, 5:95] < 128, gray[15, 5:95] < 128
    assert 0.4 < dashed_row.mean() < 0.8 and solid_row.all()
    assert 'stroke-dasharray="6 4"' in to_svg(scene)


@pytest.mark.parametrize("name", ["graph", "timeline"])
def test_golden_svg(name: str) -> None:
    """A layout change must be deliberate: regenerate with UNIFIEDQR_UPDATE_GOLDEN=1 and review."""
    svg = to_svg(graph() if name == "graph" else timeline())
    path = GOLDEN / f"{name}.svg"

    def write(target: Path) -> None:
        target.write_text(svg, encoding="utf-8")
        decode(to_png(graph() if name == "graph" else timeline())).save(GOLDEN / f"{name}.png", optimize=True)

    update_golden(path, write)
    assert svg == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["graph", "timeline"])
def test_golden_png(name: str) -> None:
    """PNG pixels may move by anti-aliasing across Pillow versions: compared with a tolerance."""
    got = np.asarray(decode(to_png(graph() if name == "graph" else timeline())).convert("RGB")).astype(
        np.int16
    )
    golden = np.asarray(Image.open(GOLDEN / f"{name}.png").convert("RGB")).astype(np.int16)
    assert got.shape == golden.shape
    assert float((np.abs(got - golden).max(axis=2) > 48).mean()) < 0.005
