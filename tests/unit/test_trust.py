from __future__ import annotations

import datetime as dt
import json

import pytest

from unifiedqr.codes.trust import SigningKey, TrustList, key_id_for
from unifiedqr.errors import KeyFileError

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_trust_list_document_format() -> None:
    key = SigningKey.generate("Ministry", T0, 730)
    doc = TrustList().with_key(key.public()).with_codes_revoked(["abc"]).to_json()
    assert doc["version"] == 1
    assert doc["revoked_codes"] == ["abc"]
    (entry,) = doc["keys"]
    assert set(entry) == {"key_id", "issuer", "public_key", "valid_from", "valid_until", "revoked"}
    assert entry["valid_from"] == "2026-01-01T00:00:00Z" and entry["valid_until"] == "2028-01-01T00:00:00Z"
    assert entry["key_id"] == key_id_for(key.private_key.public_key()) == key.key_id
    assert "PRIVATE" not in json.dumps(doc)
    again = TrustList.from_json(json.loads(json.dumps(doc)))
    assert again.to_json() == doc


def test_key_file_round_trip() -> None:
    key = SigningKey.generate("Ministry", T0, 30)
    again = SigningKey.from_json(json.loads(json.dumps(key.to_json())))
    assert again.key_id == key.key_id and again.valid_until == key.valid_until


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["keys"][0].update(key_id="AAAAAAAAAAA"), "keys[0].key_id"),
        (lambda d: d["keys"][0].update(public_key="***"), "keys[0].public_key"),
        (lambda d: d["keys"][0].update(valid_until="tomorrow"), "keys[0].valid_until"),
        (lambda d: d["keys"][0].update(private_key="x"), "keys"),
        (lambda d: d.update(revoked_codes="x"), "revoked_codes"),
    ],
)
def test_bad_trust_lists_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    doc = TrustList().with_key(SigningKey.generate("M", T0, 30).public()).to_json()
    mutate(doc)
    with pytest.raises(KeyFileError) as info:
        TrustList.from_json(doc)
    assert info.value.field == field


def test_not_json() -> None:
    with pytest.raises(KeyFileError):
        TrustList.from_bytes(b"\xff{")
