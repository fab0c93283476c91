"""No input produces a 500: random JSON bodies, strings and query values against the write endpoints."""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from platform_helpers import person_body

FIELDS = [
    "document_number",
    "full_name",
    "birth_date",
    "gender",
    "phone",
    "insurance_number",
    "proxy_qid",
    "old_document_number",
    "nationality",
    "cccd_qr",
]
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits, min_size=8, max_size=13),
    st.sampled_from(
        [
            "001093029317",
            "1987-01-18",
            "0944713700",
            "HS4010120878821",
            "\ud800",
            "٠١٢٣٤٥٦٧٨٩٠١",
            "１２３４５６７８９０１２",
            "Ｃ1234567",
            "9999-99-99",
            "2000-02-29",
            "male",
            "\x00",
            "a|b<c",
        ]
    ),
)
VALUE = st.one_of(
    TEXT,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
BODY = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), VALUE, max_size=len(FIELDS)),
    st.builds(
        lambda extra: {**person_body(), **extra}, st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=3)
    ),
    VALUE,
)
HEADERS = {"content-type": "application/json"}


def as_json(value: object) -> bytes:
    """ASCII JSON (lone surrogates become \\ud800 escapes, which the server must survive)."""
    return json.dumps(value).encode("ascii")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_clients(make_platform, make_user):
    platform = make_platform()
    qid = platform.register(**person_body())["qid"]
    return platform, make_user("citizen", qid=qid), qid


#: validation is the same code on both databases: fuzz once, on SQLite
ON_SQLITE = pytest.mark.parametrize("backend_services", ["sqlite"], indirect=True)


@ON_SQLITE
def test_registration_never_500(fuzz_clients):
    platform, _, _ = fuzz_clients

    @FUZZ
    @given(body=BODY, path=st.sampled_from(["/people", "/people/from-cccd"]))
    def check(body, path):
        response = platform.raw("POST", path, content=as_json(body), headers=HEADERS)
        assert response.status_code in (200, 201, 404, 409, 422), (body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")

    check()


@ON_SQLITE
def test_corrections_declarations_and_codes_never_500(fuzz_clients):
    platform, citizen, qid = fuzz_clients

    @FUZZ
    @given(
        body=BODY,
        decl=st.dictionaries(
            st.sampled_from(
                [
                    "address",
                    "symptoms",
                    "origin",
                    "destination",
                    "transport",
                    "departure_date",
                    "arrival_date",
                    "email",
                    "phone",
                    "places_visited",
                ]
            ),
            VALUE,
        ),
        query=TEXT,
    )
    def check(body, decl, query):
        safe = query.encode("utf-8", "replace").decode("utf-8")
        responses = [
            platform.raw("PATCH", f"/people/{qid}", content=as_json(body), headers=HEADERS),
            citizen.raw("POST", f"/people/{qid}/health-declarations", content=as_json(decl), headers=HEADERS),
            citizen.raw(
                "POST", f"/people/{qid}/movement-declarations", content=as_json(decl), headers=HEADERS
            ),
            platform.raw("GET", f"/people/{qid}/code", params={"format": safe, "masked": safe}),
            platform.raw("GET", "/people/" + quote(safe, safe="")),
        ]
        for response in responses:
            assert response.status_code < 500, response.text

    check()
