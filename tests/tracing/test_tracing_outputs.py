"""Outputs beyond the JSON list: the CSV export (spreadsheet-safe), the pictures, the venue-hours view."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest

from tests.tracing.tracing_helpers import instant, local
from unifiedqr.services.tracing_outputs import safe_cell

WINDOW = (local(6, 0), local(1, 0))
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "＝1+1", "  =1"]


def export(tw, case) -> tuple[list[list[str]], object]:
    response = tw.official.raw("GET", f"/tracing/cases/{case['case_id']}/candidates.csv")
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text))), response


@pytest.mark.parametrize("value", FORMULAS)
def test_safe_cell_neutralises_formula_starts(value):
    assert safe_cell(value) == "'" + value
    assert safe_cell("Quán Phở = ngon") == "Quán Phở = ngon"
    assert safe_cell(None) == "" and safe_cell(3.5) == "3.5"


def test_csv_export_is_safe_against_formula_injection(tw):
    case = tw.person()
    evil = tw.make_venue("shop", '=HYPERLINK("http://evil.example","bấm vào")')
    tw.venues["EVIL"] = evil
    tw.scan("EVIL", case, local(3, 10))
    contact = tw.person()
    tw.scan("EVIL", contact, local(3, 10, 10))
    opened = tw.open_case(case, *WINDOW)
    decided = tw.official.raw(
        "POST",
        f"/tracing/cases/{opened['case_id']}/candidates/{contact['qid']}/decision",
        json={"decision": "dismissed", "reason": "+cmd|' /C calc'!A0"},
    )
    assert decided.status_code == 200
    rows, response = export(tw, opened)
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header, (row,) = rows[0], rows[1:]
    assert header[:3] == ["rank", "qid", "visitor_id"]
    record = dict(zip(header, row, strict=True))
    assert record["venue_name"] == "'" + evil.venue["name"]
    assert record["reason"] == "'+cmd|' /C calc'!A0"
    assert record["qid"] == contact["qid"] and record["status"] == "dismissed"
    for cells in rows:
        for cell in cells:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    assert instant(record["scan_at"]) == local(3, 10, 10), "times are written in local time, RFC 3339"


def test_the_graph_and_timeline_are_pictures_with_masked_labels_only(tw):
    case, contact = tw.person(phone="0987111222"), tw.person(phone="0987333444")
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 10))
    tw.phone_scan("A", "0912345678", local(3, 10, 20))
    opened = tw.open_case(case, *WINDOW)
    path = f"/tracing/cases/{opened['case_id']}"
    svg = tw.official.raw("GET", f"{path}/graph", params={"format": "svg"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(svg.content)  # noqa: S314 (our own output: well-formed)
    text = svg.content.decode()
    assert "N***** L* K** HAN" in text, "the masked name is the label"
    assert not re.search(r"\d{9}", text), "no phone, document number or QID, even masked"
    png = tw.official.raw("GET", f"{path}/graph", params={"format": "png"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    venue = tw.venue("A").id
    timeline = tw.official.raw("GET", f"{path}/venues/{venue}/timeline", params={"format": "svg"})
    assert timeline.status_code == 200 and "Địa điểm A" in timeline.content.decode()
    assert not re.search(r"\d{9}", timeline.content.decode())
    tw.venue("B")
    other = tw.official.raw("GET", f"{path}/venues/{tw.venue('B').id}/timeline")
    assert other.status_code == 404, "the case was never there"
    assert tw.official.raw("GET", f"{path}/graph", params={"format": "gif"}).status_code == 422


def test_venue_view_lists_the_local_hours_the_case_touched(tw):
    case = tw.person()
    tw.scan("A", case, local(3, 10, 15))
    tw.scan("A", case, local(3, 11, 5), direction="out")
    tw.scan("B", case, local(2, 20, 40))
    opened = tw.open_case(case, *WINDOW)
    body = tw.official.raw("GET", f"/tracing/cases/{opened['case_id']}/venues").json()
    assert body["utc_offset_minutes"] == 420
    spans = [(v["venue_id"], instant(v["start"]), instant(v["end"]), v["case_scans"]) for v in body["venues"]]
    assert spans == [
        (tw.venue("A").id, local(3, 10), local(3, 12), 2),
        (tw.venue("B").id, local(2, 20), local(2, 21), 1),
    ]
    first = body["venues"][0]
    assert instant(first["exposure_start"]) == local(3, 9) and instant(first["exposure_end"]) == local(3, 13)
    assert first["name"] == "Địa điểm A" and first["province"] == "Hà Nội"


def test_the_default_window_runs_from_two_days_before_onset_to_isolation(tw):
    response = tw.official.raw(
        "GET", "/tracing/window", params={"onset": "2026-11-20", "isolation": "2026-11-24T08:00:00+07:00"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    vn = dt.timezone(dt.timedelta(hours=7))
    assert instant(body["window_start"]) == dt.datetime(2026, 11, 18, tzinfo=vn)
    assert instant(body["window_end"]) == dt.datetime(2026, 11, 24, 8, tzinfo=vn)
    timed = tw.official.raw(
        "GET",
        "/tracing/window",
        params={
            "onset": "2026-11-20T15:00:00+07:00",
            "isolation": "2026-11-24T08:00:00+07:00",
            "rule": "overlap",
        },
    ).json()
    assert instant(timed["window_start"]) == dt.datetime(2026, 11, 18, 15, tzinfo=vn)
    assert timed["rule"] == "overlap"
    bad = tw.official.raw(
        "GET", "/tracing/window", params={"onset": "soon", "isolation": "2026-11-24T08:00:00Z"}
    )
    assert bad.status_code == 422
