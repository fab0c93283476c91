"""Spec vectors as data files: the published sample, real-scan shapes and the negative table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from unifiedqr.cli.codes import code_to_json
from unifiedqr.codes.payload import format_code, parse
from unifiedqr.errors import PayloadError, PayloadTooLarge

DATA = Path(__file__).parent.parent / "data"
POSITIVE = json.loads((DATA / "personal_vectors.json").read_text(encoding="utf-8"))["vectors"]
NEGATIVE = json.loads((DATA / "negative_vectors.json").read_text(encoding="utf-8"))["vectors"]


def _payload(vector: dict[str, Any]) -> str | bytes:
    if "payload_repeat" in vector:
        head, tail, count = vector["payload_repeat"]
        return head + tail * count
    if "payload_hex" in vector:
        return bytes.fromhex(vector["payload_hex"])
    return vector["payload"]


@pytest.mark.parametrize("vector", POSITIVE, ids=[v["name"] for v in POSITIVE])
def test_positive_vector_parses_to_expected_fields(vector: dict[str, Any]) -> None:
    code = parse(vector["payload"], lenient=vector.get("mode") == "lenient")
    got = code_to_json(code)
    for key, value in vector["expect"].items():
        assert got[key] == value, key
    assert format_code(code) == vector.get("canonical", vector["payload"])
    assert parse(format_code(code), lenient=vector.get("mode") == "lenient") == code


def test_published_sample_is_exactly_the_spec_page() -> None:
    code = parse(POSITIVE[0]["payload"])
    assert code_to_json(code) == POSITIVE[0]["expect"]


@pytest.mark.parametrize("vector", NEGATIVE, ids=[v["name"] for v in NEGATIVE])
def test_negative_vector_raises_named_error(vector: dict[str, Any]) -> None:
    expected = PayloadTooLarge if vector.get("error") == "PayloadTooLarge" else PayloadError
    with pytest.raises(expected) as info:
        parse(_payload(vector), lenient=vector.get("mode") == "lenient")
    assert info.value.field == vector["field"]
    if "reason" in vector:
        assert info.value.reason == vector["reason"]
        assert str(info.value) == f"{vector['field']}: {vector['reason']}"


def test_lenient_only_vectors_fail_strictly() -> None:
    for vector in POSITIVE:
        if vector.get("mode") == "lenient":
            with pytest.raises(PayloadError):
                parse(vector["payload"])


def test_masked_date_and_document_in_strict_mode() -> None:
    code = parse("******029317|NGUYEN LE KHA HAN|1987-**-**|0|162979388586171100|<1<<")
    assert code.masked and code.birth_date_value is None
