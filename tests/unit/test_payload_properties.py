"""Hypothesis round trips for the codec and the builder."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import extras, names, personal_codes
from unifiedqr.codes.build import build
from unifiedqr.codes.display import mask_birth_date, mask_document, masked_variant
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import ExtForm, PersonalCode, decode_input, format_code, parse
from unifiedqr.errors import InvalidInput


@given(personal_codes())
def test_parse_format_round_trip(code: PersonalCode) -> None:
    text = format_code(code)
    assert parse(text) == code
    assert format_code(parse(text)) == text


@given(personal_codes())
def test_semantics_survive_the_round_trip(code: PersonalCode) -> None:
    again = parse(format_code(code))
    assert (again.phone, again.insurance_number, again.gender, again.proxy_qid, again.extra) == (
        code.phone,
        code.insurance_number,
        code.gender,
        code.proxy_qid,
        code.extra,
    )


@given(names, st.sampled_from(["NFC", "NFD", "NFKC"]))
def test_name_folding_is_form_independent_and_idempotent(name: str, form: str) -> None:
    folded = fold_name(unicodedata.normalize(form, name))
    assert folded == fold_name(name)
    assert fold_name(folded) == folded
    assert folded.isascii() and folded == folded.upper()


@given(personal_codes())
def test_masked_variant_parses_and_leaks_nothing(code: PersonalCode) -> None:
    masked = masked_variant(code)
    text = format_code(masked)
    again = parse(text)
    assert again.masked and again.phone is None and again.insurance_number is None
    assert text.split("|")[0] == "******" + code.document_number[6:]
    assert again.document_number == mask_document(code.document_number)
    assert again.birth_date == mask_birth_date(code.birth_date)
    assert again.qid == code.qid


@given(personal_codes(), extras)
def test_field_form_keeps_phone_last(code: PersonalCode, extra: list[str]) -> None:
    if code.phone is None:
        return
    field = build(
        document_number=code.document_number,
        full_name=code.full_name,
        birth_date=code.birth_date,
        qid=code.qid,
        phone=code.phone,
        insurance_number=code.insurance_number,
        proxy_qid=code.proxy_qid,
        extra=extra,
        form=ExtForm.FIELD,
    )
    assert field.ext[-1] == code.phone
    assert field.ext_form is ExtForm.FIELD
    assert parse(format_code(field)).phone == code.phone


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_parse_raises_only_the_documented_error(data: str | bytes) -> None:
    try:
        parse(data)
    except InvalidInput as exc:
        assert exc.field and exc.reason
    try:
        parse(data, lenient=True)
    except InvalidInput as exc:
        assert exc.field and exc.reason


@settings(max_examples=300)
@given(personal_codes(), st.integers(min_value=0), st.characters(codec="utf-8"))
def test_mutated_codes_parse_or_raise_the_documented_error(code: PersonalCode, where: int, ch: str) -> None:
    text = format_code(code)
    index = where % len(text)
    mutated = text[:index] + ch + text[index + 1 :]
    try:
        again = parse(mutated)
    except InvalidInput as exc:
        assert exc.field and exc.reason
    else:
        assert format_code(again) == decode_input(mutated)
