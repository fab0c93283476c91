"""The citizen's pages through the app: the card (safe code, masked text, the full code on request,
what may be kept offline), the household, declarations through the API's own rules, visit history."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from tests.web.conftest import PASSWORD, Page, World
from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import parse
from unifiedqr.services import accounts, checkins, my_visits
from unifiedqr.services.context import Services
from unifiedqr.web import citizen


def signed_in(page: Callable[..., Page]) -> Page:
    browser = page()
    assert browser.sign_in("khahan").status_code == 303
    return browser


def test_my_code_shows_the_safe_code_masked(page: Callable[..., Page], world: World) -> None:
    answer = signed_in(page).get("/me")
    assert answer.status_code == 200
    text = answer.text
    assert "******029317" in text and "1987-**-**" in text
    assert "001093029317" not in text and "1987-01-18" not in text
    assert "0944713700" not in text and "HS4010120878821" not in text
    assert world.citizen_qid in text
    assert 'class="status red"' in text and "no qualifying record" in text  # no records: red
    assert answer.headers["x-offline-copy"] == "safe"  # the only page the service worker may keep
    assert 'aria-pressed="false"' in text and 'name="view" value="full"' in text


def test_the_card_encodes_the_served_safe_code(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    """The inline SVG symbol holds exactly the signed safe code ``GET /people/{qid}/code?masked=true``
    serves: the masked variant of the holder's code, signed, verifying against the trust list."""
    from unifiedqr.codes.signing import Status, verify_payload
    from unifiedqr.imaging import render_svg
    from unifiedqr.services.keys import trust_list

    served = (
        page()
        .get(
            f"/api/v1/people/{world.citizen_qid}/code",
            params={"format": "text", "masked": "true"},
            headers={"Authorization": f"Bearer {world.platform_key}"},
        )
        .text.strip()
    )
    safe = parse(served)
    assert safe.unsigned() == masked_variant(parse(world.citizen_code))
    assert verify_payload(served, trust_list(ctx.db), ctx.now()).status is Status.VALID
    principal = ctx.credential(accounts.login(ctx, "khahan", PASSWORD).access_token)
    assert citizen.served_safe_code(ctx, principal, world.citizen_qid) == served
    svg = render_svg(served)
    assert svg[svg.index("<svg") :].strip() in signed_in(page).get("/me").text


def test_the_full_view_is_on_request_and_never_kept(page: Callable[..., Page], world: World) -> None:
    browser = signed_in(page)
    full = browser.get("/me/full")
    assert full.status_code == 200 and full.headers["cache-control"] == "no-store"
    body = full.json()
    assert body["document_number"] == "001093029317" and body["birth_date"] == "1987-01-18"
    assert body["qr"].startswith("data:image/svg+xml;base64,")
    no_script = browser.get("/me?view=full")
    assert "001093029317" in no_script.text and "1987-01-18" in no_script.text
    assert "x-offline-copy" not in no_script.headers
    assert 'aria-pressed="true"' in no_script.text


def test_both_symbols_read_back(page: Callable[..., Page], world: World) -> None:
    """The page's symbol decodes to the safe code, the full view's to the holder's full signed code."""
    from tests.imaging.conftest import rasterise_svg
    from unifiedqr.imaging import decode_image

    def decoded(svg: str) -> list[str]:
        buffer = io.BytesIO()
        rasterise_svg(svg).save(buffer, "PNG")
        return [d.text for d in decode_image(buffer.getvalue())]

    browser = signed_in(page)
    text = browser.get("/me").text
    inline = text[text.index("<svg") : text.index("</svg>") + 6]
    safe = decoded(inline)
    assert len(safe) == 1 and parse(safe[0]).unsigned() == masked_variant(parse(world.citizen_code))
    full = browser.get("/me/full").json()["qr"]
    assert decoded(base64.b64decode(full.split(",", 1)[1]).decode("utf-8")) == [world.citizen_code]


def test_household_lists_me_and_who_i_declared(page: Callable[..., Page], world: World) -> None:
    text = signed_in(page).get("/me/household").text
    assert world.citizen_qid in text and world.child_qid in text
    assert "NGUYEN HAN BAO" in text and "Declared by me" in text


def test_a_health_declaration_for_a_household_member(page: Callable[..., Page], world: World) -> None:
    browser = signed_in(page)
    form = {
        "kind": "health",
        "qid": world.child_qid,
        "address_province": "Hà Nội",
        "address_district": "Hoàn Kiếm",
        "places_visited": "Chợ Đồng Xuân\nHồ Gươm",
        "fever": "1",
    }
    answer = browser.submit("/me/declarations", form, "/me/declarations")
    assert answer.status_code == 303 and answer.headers["location"] == "/me/declarations?done=1"
    listing = browser.get("/me/declarations?done=1").text
    assert "Declaration sent" in listing and "NGUYEN HAN BAO" in listing and "Sốt" in listing


def test_a_declaration_is_refused_by_the_apis_rules(page: Callable[..., Page], world: World) -> None:
    browser = signed_in(page)
    bad = {
        "kind": "movement",
        "qid": world.citizen_qid,
        "origin_province": "Hà Nội",
        "origin_district": "Ba Đình",
        "destination_province": "Huế",
        "destination_district": "Phú Hội",
        "transport": "rocket",
        "departure_date": "2026-01-02",
        "arrival_date": "2026-01-01",
    }
    answer = browser.submit("/me/declarations", bad, "/me/declarations")
    assert answer.status_code == 422
    assert "transport" in answer.text and 'id="form-error"' in answer.text
    assert 'value="Huế"' in answer.text  # what was typed stays in the form
    stranger = browser.submit(
        "/me/declarations", {**bad, "transport": "car", "qid": "123456789012345678"}, "/me/declarations"
    )
    assert stranger.status_code in (404, 422)


def test_my_visits_lists_my_own_scans(page: Callable[..., Page], world: World, ctx: Services) -> None:
    staff = ctx.credential(accounts.login(ctx, "gate", PASSWORD).access_token)
    checkins.staff_scan(ctx, staff, checkins.StaffScan(world.venue.venue_id, text=world.citizen_code))
    checkins.staff_scan(
        ctx, staff, checkins.StaffScan(world.venue.venue_id, phone="0912000111")
    )  # someone else
    text = signed_in(page).get("/me/visits").text
    assert "Quán Phở" in text and text.count('class="pill in"') == 1
    assert "(UTC+7)" in text


def test_my_visits_service_is_for_people_only(ctx: Services, world: World) -> None:
    import pytest

    from unifiedqr.errors import InvalidInput, PermissionDenied

    official = ctx.authenticate("Bearer " + accounts.login(ctx, "official", PASSWORD).access_token)
    with pytest.raises(PermissionDenied):
        my_visits.my_checkins(ctx, official)
    me = ctx.authenticate("Bearer " + accounts.login(ctx, "khahan", PASSWORD).access_token)
    with pytest.raises(InvalidInput):
        my_visits.my_checkins(ctx, me, 365)
    assert my_visits.my_checkins(ctx, me) == []


def test_the_service_worker_is_served_from_the_root(page: Callable[..., Page]) -> None:
    answer = page().get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    assert "x-offline-copy" in answer.text  # it keeps only pages the server marked safe


def test_the_card_shows_the_holders_health_colour(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    """Two doses recorded by the health authority: the card turns green, with until when."""
    import datetime as dt

    import pytest

    from tests.support import OPERATOR
    from unifiedqr.errors import PermissionDenied
    from unifiedqr.services import health

    today = dt.date.today()
    for dose, days_ago in ((1, 90), (2, 45)):
        body = {
            "kind": "vaccination",
            "date": (today - dt.timedelta(days=days_ago)).isoformat(),
            "dose": dose,
            "doses_in_series": 2,
            "product": "Comirnaty",
        }
        health.add(ctx, OPERATOR, world.citizen_qid, body)
    text = signed_in(page).get("/me").text
    assert 'class="status green"' in text and "Green" in text and "fully vaccinated" in text
    official = ctx.credential(accounts.login(ctx, "official", PASSWORD).access_token)
    with pytest.raises(PermissionDenied):  # one's own colour is for people, not for officials
        health.own_status(ctx, official)
