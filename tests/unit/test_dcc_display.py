"""The holder's minimal display, value-set names and the health facts a colour rule evaluates."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.dcc_factory import T0, Code, lab_test, make_signer, recovery, vaccination
from unifiedqr.codes.dcc import (
    CertificateFacts,
    RecoveryFact,
    TestFact,
    VaccinationFact,
    health_facts,
    minimal_display,
    trusted_facts,
    value_set_names,
    verify,
)

ES = make_signer()
AT = T0 + dt.timedelta(days=30)


def test_vaccination_display_is_minimal() -> None:
    result = verify(Code(ES, vaccination(dose=1, series=2)).build(), trust=[ES.der], at=AT)
    display = minimal_display(result)
    assert display is not None
    assert display.to_json() == {
        "name": "Nguyễn, Văn An",
        "name_standardised": "NGUYEN<<VAN<AN",
        "birth_date": "1990-01-31",
        "certificate_type": "vaccination",
        "dose": "1/2",
        "date": None,
        "issuer_country": "VN",
    }


def test_test_and_recovery_display_their_date() -> None:
    assert minimal_display(lab_test(sc="2022-04-20T08:00:00Z")).date == "2022-04-20T08:00:00Z"  # type: ignore[union-attr]
    shown = minimal_display(recovery(fr="2022-01-10"), issuer="DE")
    assert shown is not None and shown.date == "2022-01-10" and shown.dose is None
    assert shown.name == "" and shown.name_standardised == "LE<<MINH" and shown.issuer_country == "DE"


def test_display_of_an_undecodable_result_is_none() -> None:
    assert minimal_display(verify("HC1:??", trust=[ES.der], at=AT)) is None


def test_issuer_country_falls_back_to_the_entry() -> None:
    assert minimal_display(vaccination()).issuer_country == "VN"  # type: ignore[union-attr]


def test_value_set_names() -> None:
    names = value_set_names(vaccination(mp="EU/1/21/1529"))
    assert names is not None
    assert (names.disease, names.vaccine_product, names.manufacturer) == (
        "COVID-19",
        "Vaxzevria",
        "Biontech Manufacturing GmbH",
    )
    unknown = value_set_names(vaccination(mp="XYZ-Vax"))
    assert unknown is not None and unknown.vaccine_product == "XYZ-Vax"  # unknown codes are shown as such
    test = value_set_names(lab_test(tt="LP217198-3", tr="260373001"))
    assert test is not None and (test.test_type, test.test_result) == ("Rapid immunoassay", "Detected")
    assert value_set_names({"ver": "1.3.0"}) is None


def test_health_facts_per_kind() -> None:
    assert health_facts(vaccination(dose=2, series=2, date="2021-09-10")) == (
        VaccinationFact(dt.date(2021, 9, 10), 2, 2, "EU/1/20/1528"),
    )
    [pcr] = health_facts(lab_test(tt="LP6464-4", tr="260415000", sc="2022-04-20T10:00:00+07:00"))
    assert pcr == TestFact(dt.datetime(2022, 4, 20, 3, 0, tzinfo=dt.UTC), "pcr", "negative")
    assert pcr.taken_at.tzinfo is not None
    [rat] = health_facts(lab_test(tt="LP217198-3", tr="260373001"))
    assert (rat.method, rat.result) == ("rapid_antigen", "positive")  # type: ignore[union-attr]
    assert health_facts(recovery(fr="2022-01-10")) == (RecoveryFact(dt.date(2022, 1, 10)),)


def test_fact_records_have_the_platform_shape() -> None:
    [fact] = health_facts(vaccination())
    assert fact.to_record() == {
        "kind": "vaccination",
        "date": dt.date(2021, 9, 10),
        "dose": 2,
        "doses_in_series": 2,
        "product": "EU/1/20/1528",
    }
    [test] = health_facts(lab_test())
    assert set(test.to_record()) == {"kind", "taken_at", "method", "result"}
    [rec] = health_facts(recovery())
    assert rec.to_record() == {"kind": "recovery", "date": dt.date(2022, 1, 10)}


@pytest.mark.parametrize(
    "certificate",
    [
        lab_test(tt="LP0000-0"),
        lab_test(tr="123"),
        lab_test(sc="yesterday"),
        vaccination(date="2021-13-45"),
        recovery(fr=""),
        {"v": "not a list"},
        {},
    ],
)
def test_entries_that_state_no_fact_are_left_out(certificate: dict) -> None:
    assert health_facts(certificate) == ()


def test_naive_sample_time_is_read_as_utc() -> None:
    [fact] = health_facts(lab_test(sc="2022-04-20T08:00:00"))
    assert fact.taken_at == dt.datetime(2022, 4, 20, 8, tzinfo=dt.UTC)  # type: ignore[union-attr]


def test_trusted_facts_only_for_a_valid_certificate_before_its_expiry() -> None:
    text = Code(ES, vaccination()).build()
    result = verify(text, trust=[ES.der], at=AT)
    facts = trusted_facts(result, AT)
    assert isinstance(facts, CertificateFacts)
    assert facts.expires_at == result.expires_at == T0 + dt.timedelta(days=366)
    assert facts.records()[0]["kind"] == "vaccination" and facts.issuer == "VN"
    assert trusted_facts(result, T0 + dt.timedelta(days=367)) is None  # past its own expiry
    forged = verify(Code(ES, vaccination(), tamper=True).build(), trust=[ES.der], at=AT)
    assert forged.certificate is not None and trusted_facts(forged, AT) is None


def test_classifier_still_says_eu_dcc() -> None:
    from unifiedqr.codes.classify import classify

    result = classify(Code(ES).build())
    assert result.kind == "eu_dcc" and result.details == {"valid_base45": True}


def test_facade_is_pinned() -> None:
    import unifiedqr.codes.dcc as dcc

    assert sorted(dcc.__all__) == sorted(
        [
            "STAGES",
            "CertificateFacts",
            "DccVerification",
            "Display",
            "RecoveryFact",
            "SignerCertificate",
            "SignerTrust",
            "TestFact",
            "VaccinationFact",
            "ValueSetNames",
            "health_facts",
            "key_id",
            "minimal_display",
            "trusted_facts",
            "value_set_names",
            "verify",
        ]
    )
    assert all(hasattr(dcc, name) for name in dcc.__all__)
