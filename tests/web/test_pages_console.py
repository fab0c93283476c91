"""The officials' console through the app: the dashboard, the look-up (audited, the holder sees it),
tracing cases from opening to closing, the pictures under a session, the CSV for officials only,
role gating, CSRF and escaping. The services underneath are tested on both databases elsewhere."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from tests.support import create_account
from tests.web.conftest import PASSWORD, Page, World
from unifiedqr.services import access_log, accounts, checkins, registry
from unifiedqr.services.context import Services

LOCAL = dt.timezone(dt.timedelta(hours=7))


def _at(days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    day = dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


def _scan(ctx: Services, world: World, text: str, at: dt.datetime) -> None:
    staff = ctx.credential(accounts.login(ctx, "gate", PASSWORD).access_token)
    checkins.staff_scan(ctx, staff, checkins.StaffScan(world.venue.venue_id, text=text, at=at.isoformat()))


def _contact(ctx: Services, world: World, name: str = "Trần Thị Bình") -> registry.Issued:
    app = ctx.authenticate("Bearer " + world.platform_key)
    reg = registry.Registration
    return registry.register(ctx, app, reg("001190000111", name, "1990-02-03", "female", "0912000333"))


def official(page: Callable[..., Page]) -> Page:
    browser = page()
    assert browser.sign_in("official").headers["location"] == "/console"
    return browser


# -- the dashboard ----------------------------------------------------------------------------------
def test_the_dashboard_counts_per_hour_and_province_with_charts(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    _scan(ctx, world, world.citizen_code, _at(1, 9, 10))
    _scan(ctx, world, "0912000111", _at(1, 9, 20))
    day = _at(1, 0).date().isoformat()
    text = official(page).get(f"/console?date={day}").text
    assert re.search(r'<b id="total-in">2</b>', text)
    hourly = text[text.index('aria-labelledby="hours-title hours-desc"') :]
    assert hourly[: hourly.index("</svg>")].count(": 2</title>") == 1  # 09:00, two check-ins
    assert 'id="province-chart"' in text and "<td>Hà Nội</td>" in text
    assert re.search(r'<b id="open-cases"><a href="/console/cases">0</a></b>', text)
    assert "Nguyễn" not in text and "0912000111" not in text  # counts only


def test_a_bad_day_is_named_and_today_shown(page: Callable[..., Page], world: World) -> None:
    answer = official(page).get("/console?date=2021-02-30")
    assert answer.status_code == 422 and "date" in answer.text and 'id="hourly-chart"' in answer.text


def test_an_administrator_sees_the_dashboard_without_tracing(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("admin")
    text = browser.get("/console").text
    assert 'id="total-in"' in text and 'id="open-cases"' not in text
    assert 'href="/console/cases"' not in text and 'href="/console/lookup"' in text
    assert browser.get("/console/cases").status_code == 403


# -- the look-up ------------------------------------------------------------------------------------
def test_a_lookup_by_scan_shows_the_full_view_and_the_holder_sees_it(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    browser = official(page)
    form = browser.get("/console/lookup").text
    assert re.search(r'<input type="text" id="text" name="text" autofocus', form)
    answer = browser.submit(
        "/console/lookup", {"text": world.citizen_code, "purpose": "checkpoint"}, "/console/lookup"
    )
    assert answer.status_code == 200, answer.text[:400]
    assert 'id="lookup-result"' in answer.text and "NGUYEN LE KHA HAN" in answer.text
    assert "001093029317" in answer.text and "Valid signature" in answer.text
    assert '<option value="checkpoint" selected>' in answer.text  # the purpose stays for the next scan
    holder = ctx.credential(accounts.login(ctx, "khahan", PASSWORD).access_token)
    entries = access_log.access_log(ctx, holder)
    assert [(e.purpose, e.role) for e in entries][:1] == [("checkpoint", "health_official")]


def test_a_lookup_by_qid_and_its_refusals(page: Callable[..., Page], world: World) -> None:
    browser = official(page)
    found = browser.submit(
        "/console/lookup", {"text": world.child_qid, "purpose": "treatment"}, "/console/lookup"
    )
    assert found.status_code == 200 and "NGUYEN HAN BAO" in found.text and "Typed QID" in found.text
    missing = browser.submit("/console/lookup", {"text": "9" * 18, "purpose": "treatment"}, "/console/lookup")
    assert missing.status_code == 404 and "No such person" in missing.text
    no_purpose = browser.submit(
        "/console/lookup", {"text": world.child_qid, "purpose": ""}, "/console/lookup"
    )
    assert no_purpose.status_code == 422 and "purpose" in no_purpose.text and "NGUYEN" not in no_purpose.text
    empty = browser.submit("/console/lookup", {"text": "  ", "purpose": "other"}, "/console/lookup")
    assert empty.status_code == 422 and "<b>text</b>" in empty.text
    huge = browser.submit("/console/lookup", {"text": "x" * 5000, "purpose": "other"}, "/console/lookup")
    assert huge.status_code == 422


def test_a_lookup_needs_the_csrf_token_and_the_role(page: Callable[..., Page], world: World) -> None:
    browser = official(page)
    body = {"text": world.citizen_code, "purpose": "checkpoint"}
    assert browser.post("/console/lookup", body).status_code == 403
    assert browser.post("/console/lookup", {**body, "csrf": "forged"}).status_code == 403
    for login, password in (
        ("khahan", PASSWORD),
        ("gate", PASSWORD),
        (world.owner_login, world.owner_password),
    ):
        other = page()
        other.sign_in(login, password)
        assert other.get("/console/lookup").status_code == 403, login
        assert other.get("/console").status_code == 403, login
    assert page().get("/console/lookup").headers["location"] == "/?next=/console/lookup"


# -- tracing ----------------------------------------------------------------------------------------
def _open_case(browser: Page, world: World) -> str:
    form = {
        "qid": world.citizen_qid,
        "window_start": _at(4, 0).strftime("%Y-%m-%dT%H:%M"),
        "window_end": _at(0, 0).strftime("%Y-%m-%dT%H:%M"),
        "rule": "national",
        "note": "PCR <b>positive</b>",
    }
    answer = browser.submit("/console/cases", form, "/console/cases")
    assert answer.status_code == 303, answer.text[:500]
    case_id = answer.headers["location"].split("/")[-1].split("?")[0]
    return case_id


def test_a_case_from_opening_to_closing(page: Callable[..., Page], world: World, ctx: Services) -> None:
    contact = _contact(ctx, world)
    _scan(ctx, world, world.citizen_code, _at(2, 12, 0))
    _scan(ctx, world, contact.payload, _at(2, 12, 10))
    browser = official(page)
    case_id = _open_case(browser, world)
    text = browser.get(f"/console/cases/{case_id}").text
    assert f'src="/console/cases/{case_id}/graph.svg"' in text and 'id="candidate-total">1<' in text
    assert contact.qid in text and "TRAN THI BINH" not in text  # masked names only
    assert f"/console/cases/{case_id}/venues/{world.venue.venue_id}/timeline.svg" in text
    assert "PCR &lt;b&gt;positive&lt;/b&gt;" in text  # the note in the case log, escaped

    graph = browser.get(f"/console/cases/{case_id}/graph.svg")
    assert graph.status_code == 200 and graph.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in graph.headers["content-security-policy"] and b"<svg" in graph.content
    timeline = browser.get(f"/console/cases/{case_id}/venues/{world.venue.venue_id}/timeline.svg")
    assert timeline.status_code == 200 and b"<svg" in timeline.content
    csv = browser.get(f"/console/cases/{case_id}/candidates.csv")
    assert (
        csv.status_code == 200
        and contact.qid in csv.text
        and "attachment" in csv.headers["content-disposition"]
    )

    page_of = f"/console/cases/{case_id}"
    no_reason = browser.submit(
        f"{page_of}/candidates/{contact.qid}", {"decision": "confirmed", "reason": ""}, page_of
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    decided = browser.submit(
        f"{page_of}/candidates/{contact.qid}",
        {"decision": "confirmed", "reason": "same table <script>x</script>"},
        page_of,
    )
    assert decided.status_code == 303
    text = browser.get(decided.headers["location"].split("#")[0]).text
    assert "Contact confirmed." in text and "same table &lt;script&gt;x&lt;/script&gt;" in text
    assert "<script>x" not in text
    notified = browser.submit(f"{page_of}/notify", {"message": ""}, page_of)
    assert notified.status_code == 303 and contact.qid in browser.get(page_of).text
    closed = browser.submit(f"{page_of}/status", {"status": "closed", "reason": "isolated"}, page_of)
    assert closed.status_code == 303
    assert "Case closed." in browser.get(closed.headers["location"]).text
    text = browser.get(page_of).text
    assert "Reopen the case" in text and 'class="decide"' not in text
    again = browser.submit(
        f"{page_of}/candidates/{contact.qid}", {"decision": "dismissed", "reason": "x"}, page_of
    )
    assert again.status_code == 409 and "reopen" in again.text
    listed = browser.get("/console/cases?status=closed").text
    assert case_id in listed


def test_opening_a_case_from_onset_and_isolation(page: Callable[..., Page], world: World) -> None:
    browser = official(page)
    form = {
        "qid": world.citizen_qid,
        "onset": _at(3, 0).date().isoformat(),
        "isolation": _at(1, 8).strftime("%Y-%m-%dT%H:%M"),
    }
    answer = browser.submit("/console/cases", form, "/console/cases")
    assert answer.status_code == 303, answer.text[:400]
    assert "Case opened." in browser.get(answer.headers["location"]).text


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        ({"qid": "001093029317000000"}, 422, "window_start"),
        ({"window_start": "yesterday", "window_end": "2021-10-01T10:00"}, 422, "window_start"),
        ({"onset": "10/05/2021", "isolation": "2021-10-09T08:00"}, 422, "onset"),
        ({"qid": "9" * 18, "window_start": "2021-10-01T10:00", "window_end": "2021-10-02T10:00"}, 404, "qid"),
    ],
)
def test_a_bad_case_form_is_named(page: Callable[..., Page], world: World, form, status, field) -> None:
    answer = official(page).submit("/console/cases", {"qid": world.citizen_qid, **form}, "/console/cases")
    assert answer.status_code == status and f"<b>{field}</b>" in answer.text, answer.text[:300]


def test_a_tracer_lands_on_cases_and_may_not_export(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    create_account(ctx, role="tracer", name="Tracer", password=PASSWORD, username="tracer")
    case_id = _open_case(official(page), world)
    tracer = page()
    assert tracer.sign_in("tracer").headers["location"] == "/console/cases"
    text = tracer.get(f"/console/cases/{case_id}").text
    assert 'id="export-csv"' not in text
    assert tracer.get(f"/console/cases/{case_id}/candidates.csv").status_code == 403
    assert tracer.get("/console/lookup").status_code == 403


@pytest.mark.parametrize("login", ["khahan", "gate", "admin"])
def test_tracing_pages_are_refused_outside_the_role(
    page: Callable[..., Page], world: World, login: str
) -> None:
    case_id = _open_case(official(page), world)
    browser = page()
    browser.sign_in(login)
    for path in ("/console/cases", f"/console/cases/{case_id}", f"/console/cases/{case_id}/graph.svg"):
        answer = browser.get(path)
        assert answer.status_code == 403, (login, path)
    assert (
        browser.post(f"/console/cases/{case_id}/status", {"status": "closed", "reason": "x"}).status_code
        == 403
    )


def test_an_unknown_case_is_not_found(page: Callable[..., Page], world: World) -> None:
    browser = official(page)
    assert browser.get("/console/cases/case_nope").status_code == 404
    assert browser.get("/console/cases/case_nope/graph.svg").status_code == 404
