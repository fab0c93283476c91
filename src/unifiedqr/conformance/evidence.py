"""The evidence folder of one app version, read with explicit limits (the I/O edge of the checker).

Layout (fixed contract): ``default.png`` (the personal-code screen in its default, masked display mode),
``full.png`` (the same screen in full mode), ``app.json`` (``{"name", "vendor", "version"}``); optional
``account.json`` (``{"base_url", "api_key", "venue_code"?}``) for the live checks, and anything else
(exported code images), which is listed but not judged.

Nothing here raises for bad evidence: every problem becomes a finding in :attr:`Evidence.findings`,
so one run reports all of them. Limits are checked before work is done: the file size before the file
is read whole, the pixel count from the image header before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from unifiedqr.codes.trust import MAX_TRUST_LIST_BYTES, TrustList
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.errors import InvalidInput

SCREENS: Final = ("default", "full")
#: The contract names ``<screen>.png``; the same screen saved as JPEG or WebP is accepted too.
SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".webp")
FORMATS: Final = ("PNG", "JPEG", "WEBP")
#: A phone screenshot is 1-6 MB; 32 MiB leaves room for a lossless tablet capture.
MAX_IMAGE_BYTES: Final = 32 * 1024 * 1024
#: The largest phone and tablet screens are under 6 MP (2048 × 2732); 30 MP is generous, and bounded.
MAX_IMAGE_PIXELS: Final = 30_000_000
#: Below this a screenshot cannot show a code and three lines of text legibly.
MIN_IMAGE_SIDE: Final = 200
MAX_JSON_BYTES: Final = 64 * 1024
MAX_TEXT_FIELD: Final = 200

_DAMAGED: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)


@dataclass(frozen=True)
class AppInfo:
    """``app.json``: which app and version the evidence is about."""

    name: str
    vendor: str
    version: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "vendor": self.vendor, "version": self.version}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppInfo:
        return cls(str(data["name"]), str(data["vendor"]), str(data["version"]))


@dataclass(frozen=True)
class Account:
    """``account.json``: the app's platform account on a sandbox service, for the live checks."""

    base_url: str
    api_key: str = field(repr=False)
    venue_code: str | None = None


@dataclass(frozen=True)
class Screen:
    """One screenshot, decoded to RGB (EXIF orientation applied, transparency on white)."""

    name: str
    file: str
    image: Image.Image = field(repr=False, compare=False)
    sha256: str
    format: str

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


@dataclass(frozen=True)
class Evidence:
    folder: str
    app: AppInfo | None
    screens: Mapping[str, Screen]
    account: Account | None
    findings: tuple[Finding, ...]
    other_files: tuple[str, ...] = ()


def load_evidence(folder: str | Path) -> Evidence:
    """Read an evidence folder; problems become findings, never exceptions."""
    root = Path(folder)
    if not root.is_dir():
        missing = finding(Code.EVIDENCE_FOLDER_MISSING, f"{root} is not a folder of evidence", file=str(root))
        return Evidence(str(root), None, {}, None, (missing,))
    findings: list[Finding] = []
    screens: dict[str, Screen] = {}
    used: set[str] = set()
    for name in SCREENS:
        path = _screen_path(root, name)
        if path is None:
            findings.append(
                finding(
                    Code.EVIDENCE_FILE_MISSING,
                    f"{name}.png is missing: a screenshot of the code screen in {name} mode is required",
                    name,
                    file=f"{name}.png",
                )
            )
            continue
        used.add(path.name)
        loaded = load_screen(path, name)
        if isinstance(loaded, Screen):
            screens[name] = loaded
            if loaded.format == "JPEG":
                findings.append(
                    finding(
                        Code.EVIDENCE_LOSSY_IMAGE,
                        f"{path.name} is a JPEG: compression blurs module edges and text; "
                        "lossless PNG screenshots give exact measurements",
                        name,
                        file=path.name,
                    )
                )
        else:
            findings.append(loaded)
    app, app_finding = _load_app(root / "app.json")
    used.add("app.json")
    if app_finding:
        findings.append(app_finding)
    account: Account | None = None
    if (root / "account.json").exists():
        used.add("account.json")
        account, account_finding = load_account(root / "account.json")
        if account_finding:
            findings.append(account_finding)
    others = tuple(
        sorted(p.name for p in root.iterdir() if p.name not in used and not p.name.startswith("."))
    )
    return Evidence(str(root), app, screens, account, tuple(findings), others[:100])


def _screen_path(root: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        path = root / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _read_limited(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than ``limit`` (never reads more than limit + 1)."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def load_screen(path: Path, name: str) -> Screen | Finding:
    """One screenshot, or the finding that says why it cannot be used."""
    try:
        data = _read_limited(path, MAX_IMAGE_BYTES)
    except OSError as exc:
        return finding(Code.EVIDENCE_FILE_MISSING, f"{path.name} cannot be read ({exc.strerror})", name)
    if data is None:
        return finding(
            Code.EVIDENCE_IMAGE_TOO_LARGE,
            f"{path.name} is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB",
            name,
            file=path.name,
        )
    return decode_screen(data, name, path.name)


def decode_screen(data: bytes, name: str, file: str) -> Screen | Finding:
    """Decode image bytes into a :class:`Screen`, checking the pixel count from the header first."""
    if not data:
        return finding(Code.EVIDENCE_NOT_AN_IMAGE, f"{file} is empty", name, file=file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours: say how many
            counted = re.search(r"\(([0-9]+) pixels\)", str(exc))
            return _too_large(name, file, None, int(counted[1]) if counted else None)
        except UnidentifiedImageError:
            return finding(
                Code.EVIDENCE_NOT_AN_IMAGE, f"{file} is not a PNG, JPEG or WebP image", name, file=file
            )
        except _DAMAGED as exc:
            return _damaged(name, file, exc)
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            return _too_large(name, file, (width, height))
        if min(width, height) < MIN_IMAGE_SIDE:
            return finding(
                Code.EVIDENCE_IMAGE_TOO_SMALL,
                f"{file} is {width}×{height} pixels; a phone screenshot is at least "
                f"{MIN_IMAGE_SIDE} pixels a side",
                name,
                file=file,
                size=[width, height],
            )
        try:
            image.load()
            upright: Image.Image = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
                canvas = Image.new("RGBA", upright.size, (255, 255, 255, 255))
                upright = Image.alpha_composite(canvas, upright.convert("RGBA"))
            rgb = upright.convert("RGB")
        except _DAMAGED as exc:
            return _damaged(name, file, exc)
    return Screen(name, file, rgb, hashlib.sha256(data).hexdigest(), str(image.format))


def _too_large(name: str, file: str, size: tuple[int, int] | None, pixels: int | None = None) -> Finding:
    shown = f"{size[0]}×{size[1]} pixels" if size else f"{pixels:,} pixels" if pixels else "too many pixels"
    return finding(
        Code.EVIDENCE_IMAGE_TOO_LARGE,
        f"{file} is {shown}, more than the limit of {MAX_IMAGE_PIXELS:,} pixels for a screenshot",
        name,
        file=file,
        size=list(size) if size else None,
    )


def _damaged(name: str, file: str, exc: BaseException) -> Finding:
    return finding(
        Code.EVIDENCE_IMAGE_DAMAGED,
        f"{file} is a damaged or truncated image ({type(exc).__name__})",
        name,
        file=file,
    )


def _load_json(path: Path, code: Code) -> tuple[Any, Finding | None]:
    what = path.name
    if not path.is_file():
        return None, finding(Code.EVIDENCE_FILE_MISSING, f"{what} is missing", file=what)
    try:
        raw = _read_limited(path, MAX_JSON_BYTES)
    except OSError as exc:
        return None, finding(code, f"{what} cannot be read ({exc.strerror})", file=what)
    if raw is None:
        return None, finding(code, f"{what} is larger than {MAX_JSON_BYTES // 1024} KiB", file=what)
    try:
        return json.loads(raw.decode("utf-8")), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, finding(code, f"{what} is not valid UTF-8 JSON ({exc})", file=what)


def _text_field(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_FIELD:
        return None
    return value.strip()


def _load_app(path: Path) -> tuple[AppInfo | None, Finding | None]:
    data, problem = _load_json(path, Code.EVIDENCE_APP_INVALID)
    if problem:
        return None, problem
    if not isinstance(data, dict):
        return None, finding(Code.EVIDENCE_APP_INVALID, "app.json must be a JSON object", file="app.json")
    values = {key: _text_field(data, key) for key in ("name", "vendor", "version")}
    bad = [key for key, value in values.items() if value is None]
    if bad:
        return None, finding(
            Code.EVIDENCE_APP_INVALID,
            f"app.json needs non-empty text (at most {MAX_TEXT_FIELD} characters) for: {', '.join(bad)}",
            file="app.json",
            fields=bad,
        )
    return AppInfo(str(values["name"]), str(values["vendor"]), str(values["version"])), None


def load_account(path: Path) -> tuple[Account | None, Finding | None]:
    """``account.json``; the API key is never copied into a finding or a report."""
    data, problem = _load_json(path, Code.EVIDENCE_ACCOUNT_INVALID)
    if problem:
        return None, problem
    if not isinstance(data, dict):
        return None, finding(
            Code.EVIDENCE_ACCOUNT_INVALID, "account.json must be a JSON object", file="account.json"
        )
    base_url = _text_field(data, "base_url")
    api_key = data.get("api_key")
    venue_code = data.get("venue_code")
    reasons = []
    if (
        base_url is None
        or urlsplit(base_url).scheme not in ("http", "https")
        or not urlsplit(base_url).netloc
    ):
        reasons.append("base_url must be an http(s) URL")
    if not isinstance(api_key, str) or not api_key.strip() or len(api_key) > 512 or not api_key.isprintable():
        reasons.append("api_key must be the platform API key (text)")
    if venue_code is not None and (not isinstance(venue_code, str) or len(venue_code) > 200):
        reasons.append("venue_code, when given, must be a venue code URL")
    if reasons:
        return None, finding(Code.EVIDENCE_ACCOUNT_INVALID, "; ".join(reasons), file="account.json")
    assert base_url is not None and isinstance(api_key, str)
    return Account(base_url.rstrip("/"), api_key.strip(), venue_code or None), None


def load_trust(path: str | Path) -> tuple[TrustList | None, Finding | None]:
    """The assessor's trust list, or the finding that says why it cannot be used (the evidence is still
    checked; only the signatures cannot be)."""
    where = Path(path)
    try:
        raw = _read_limited(where, MAX_TRUST_LIST_BYTES)
        if raw is None:
            raise InvalidInput("trust list", f"is larger than {MAX_TRUST_LIST_BYTES} bytes")
        return TrustList.from_bytes(raw), None
    except (InvalidInput, OSError) as exc:
        reason = f"{exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
        return None, finding(
            Code.TRUST_LIST_INVALID,
            f"the trust list {where} cannot be used ({reason}): signatures were not checked",
            file=str(where),
        )
