"""Evidence loading: explicit limits, every problem a finding, no credential in any finding."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from unifiedqr.conformance import evidence as ev
from unifiedqr.conformance.evidence import load_evidence, load_trust
from unifiedqr.conformance.findings import Code

from .generator import World, app_json, huge_png


def _png(size: tuple[int, int] = (400, 800), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def _folder(root: Path, **files: bytes | str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name.replace("_", ".", 1) if "_" in name else root / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


def codes(evidence: ev.Evidence) -> set[tuple[str, str | None]]:
    return {(f.code.value, f.screen) for f in evidence.findings}


def test_a_complete_folder_loads_without_findings(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path / "app", default_png=_png(), full_png=_png(), app_json=app_json(), notes_txt="hi"
    )
    loaded = load_evidence(folder)
    assert loaded.findings == ()
    assert set(loaded.screens) == {"default", "full"}
    assert loaded.app is not None and loaded.app.version == "1.0.0"
    assert loaded.other_files == ("notes.txt",)
    assert loaded.screens["default"].image.mode == "RGB"


def test_huge_image_is_refused_from_its_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[object] = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))  # must never be reached
    folder = _folder(
        tmp_path / "app", default_png=huge_png(), full_png=huge_png(9000, 9000), app_json=app_json()
    )
    loaded = load_evidence(folder)
    assert codes(loaded) == {("EVIDENCE_IMAGE_TOO_LARGE", "default"), ("EVIDENCE_IMAGE_TOO_LARGE", "full")}
    assert decoded == []
    message = next(f for f in loaded.findings if f.screen == "default").message
    assert "400,000,000 pixels" in message  # 20000 × 20000, from the header alone


def test_file_size_limit_is_checked_before_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ev, "MAX_IMAGE_BYTES", 1000)
    folder = _folder(
        tmp_path / "app", default_png=_png() + b"\0" * 2000, full_png=_png(), app_json=app_json()
    )
    assert ("EVIDENCE_IMAGE_TOO_LARGE", "default") in codes(load_evidence(folder))


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "EVIDENCE_NOT_AN_IMAGE"),
        (b"GIF89a not really", "EVIDENCE_NOT_AN_IMAGE"),
        (b"%PDF-1.4 a document", "EVIDENCE_NOT_AN_IMAGE"),
        (_png()[:60], "EVIDENCE_IMAGE_DAMAGED"),
        (_png((120, 120)), "EVIDENCE_IMAGE_TOO_SMALL"),
    ],
)
def test_unusable_screenshots(tmp_path: Path, content: bytes, code: str) -> None:
    folder = _folder(tmp_path / "app", default_png=content, full_png=_png(), app_json=app_json())
    assert codes(load_evidence(folder)) == {(code, "default")}


def test_other_formats_and_modes_are_accepted(tmp_path: Path) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (400, 800), "white").save(jpeg, "JPEG")
    folder = _folder(
        tmp_path / "app", default_png=jpeg.getvalue(), full_png=_png(mode="RGBA"), app_json=app_json()
    )
    loaded = load_evidence(folder)
    assert codes(loaded) == {("EVIDENCE_LOSSY_IMAGE", "default")}
    assert loaded.screens["full"].image.mode == "RGB"
    other = _folder(tmp_path / "webp", full_png=_png(), app_json=app_json())
    webp = io.BytesIO()
    Image.new("RGB", (400, 800), "white").save(webp, "WEBP", lossless=True)
    (other / "default.webp").write_bytes(webp.getvalue())
    assert load_evidence(other).findings == ()


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"name": "A", "vendor": "B"}',
        '{"name": "", "vendor": "B", "version": "1"}',
        '{"name": 3, "vendor": "B", "version": "1"}',
        json.dumps({"name": "x" * 300, "vendor": "B", "version": "1"}),
    ],
)
def test_invalid_app_json(tmp_path: Path, content: str) -> None:
    folder = _folder(tmp_path / "app", default_png=_png(), full_png=_png(), app_json=content)
    loaded = load_evidence(folder)
    assert codes(loaded) == {("EVIDENCE_APP_INVALID", None)}
    assert loaded.app is None


def test_missing_files_and_folder(tmp_path: Path) -> None:
    assert codes(load_evidence(tmp_path / "nothing")) == {("EVIDENCE_FOLDER_MISSING", None)}
    empty = _folder(tmp_path / "empty")
    assert codes(load_evidence(empty)) == {
        ("EVIDENCE_FILE_MISSING", "default"),
        ("EVIDENCE_FILE_MISSING", "full"),
        ("EVIDENCE_FILE_MISSING", None),
    }
    file_instead = tmp_path / "file"
    file_instead.write_text("x")
    assert codes(load_evidence(file_instead)) == {("EVIDENCE_FOLDER_MISSING", None)}


def test_account_json_is_validated_and_its_key_never_shown(tmp_path: Path) -> None:
    secret = "uqr_secret_key_value_123"
    good = _folder(
        tmp_path / "good",
        default_png=_png(),
        full_png=_png(),
        app_json=app_json(),
        account_json=json.dumps({"base_url": "http://127.0.0.1:9/api/v1/", "api_key": secret}),
    )
    loaded = load_evidence(good)
    assert loaded.findings == () and loaded.account is not None
    assert loaded.account.base_url == "http://127.0.0.1:9/api/v1"
    assert secret not in repr(loaded.account)
    bad = _folder(
        tmp_path / "bad",
        default_png=_png(),
        full_png=_png(),
        app_json=app_json(),
        account_json=json.dumps({"base_url": "file:///etc/passwd", "api_key": secret}),
    )
    loaded = load_evidence(bad)
    assert codes(loaded) == {("EVIDENCE_ACCOUNT_INVALID", None)}
    assert all(secret not in json.dumps(f.to_json()) for f in loaded.findings)


def test_trust_list_loading(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text(World().trust().dumps(), encoding="utf-8")
    trust, problem = load_trust(path)
    assert trust is not None and problem is None
    path.write_text('{"version": 9}', encoding="utf-8")
    trust, problem = load_trust(path)
    assert trust is None and problem is not None and problem.code is Code.TRUST_LIST_INVALID
    trust, problem = load_trust(tmp_path / "absent.json")
    assert trust is None and problem is not None and problem.code is Code.TRUST_LIST_INVALID
