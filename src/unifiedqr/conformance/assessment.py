"""The assessment record: one app version judged on one set of evidence, as a typed, persistable value.

The platform stores it (with the assessor's decision, ``services/assessments.py``); everything in it is plain
data with a JSON form, and ``Assessment.from_json(a.to_json()) == a``. It holds what the reports show:
what was read and measured on each screen, the live calls and the findings. It never holds the
evidence images (the reports embed them) nor any credential.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from unifiedqr.codes.trust import format_time, parse_time
from unifiedqr.conformance.evidence import AppInfo
from unifiedqr.conformance.findings import Finding, Severity, counts, verdict

RECORD_KIND: Final = "unifiedqr-conformance-assessment"
RECORD_VERSION: Final = 1

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextRegion:
    """One line the OCR read, where it was, and in which variant."""

    text: str
    box: Box
    variant: str

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "box": list(self.box), "variant": self.variant}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextRegion:
        return cls(str(data["text"]), _box(data["box"]), str(data["variant"]))


@dataclass(frozen=True)
class FieldResult:
    """How one field (name, document, birth_date) was found on a screen."""

    field: str
    status: str  # match | other | missing
    form: str = ""
    seen: str = ""
    box: Box | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "status": self.status,
            "form": self.form,
            "seen": self.seen,
            "box": list(self.box) if self.box else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldResult:
        box = data.get("box")
        return cls(
            str(data["field"]),
            str(data["status"]),
            str(data.get("form", "")),
            str(data.get("seen", "")),
            _box(box) if box else None,
        )


@dataclass(frozen=True)
class ScreenReport:
    """What was read and measured on one screenshot."""

    name: str
    file: str
    sha256: str
    width: int
    height: int
    kind: str | None = None
    qid: str | None = None
    safe_code: bool | None = None
    ec_level: str | None = None
    version: int | None = None
    corners: tuple[tuple[float, float], ...] | None = None
    quality: Mapping[str, Any] | None = None
    ocr_variants: tuple[str, ...] = ()
    text: tuple[TextRegion, ...] = ()
    fields: tuple[FieldResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "kind": self.kind,
            "qid": self.qid,
            "safe_code": self.safe_code,
            "ec_level": self.ec_level,
            "version": self.version,
            "corners": [list(p) for p in self.corners] if self.corners else None,
            "quality": dict(self.quality) if self.quality is not None else None,
            "ocr_variants": list(self.ocr_variants),
            "text": [t.to_json() for t in self.text],
            "fields": [f.to_json() for f in self.fields],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScreenReport:
        corners = data.get("corners")
        return cls(
            name=str(data["name"]),
            file=str(data["file"]),
            sha256=str(data["sha256"]),
            width=int(data["width"]),
            height=int(data["height"]),
            kind=data.get("kind"),
            qid=data.get("qid"),
            safe_code=data.get("safe_code"),
            ec_level=data.get("ec_level"),
            version=data.get("version"),
            corners=tuple((float(p[0]), float(p[1])) for p in corners) if corners else None,
            quality=data.get("quality"),
            ocr_variants=tuple(data.get("ocr_variants", ())),
            text=tuple(TextRegion.from_json(t) for t in data.get("text", ())),
            fields=tuple(FieldResult.from_json(f) for f in data.get("fields", ())),
        )


@dataclass(frozen=True)
class LiveCall:
    """One call of the live integration checks and whether the service met the contract."""

    name: str
    method: str
    path: str
    expected: str
    met: bool
    status: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "expected": self.expected,
            "met": self.met,
            "status": self.status,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiveCall:
        return cls(
            str(data["name"]),
            str(data["method"]),
            str(data["path"]),
            str(data["expected"]),
            bool(data["met"]),
            data.get("status"),
            str(data.get("detail", "")),
        )


@dataclass(frozen=True)
class Assessment:
    """One assessment: the app, when, with what, what was seen, and the findings."""

    app: AppInfo | None
    folder: str
    assessed_at: dt.datetime
    tool_version: str
    trust_key_ids: tuple[str, ...]
    ocr_engine: str
    screens: tuple[ScreenReport, ...]
    live: tuple[LiveCall, ...]
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        return verdict(self.findings)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def screen(self, name: str) -> ScreenReport | None:
        return next((s for s in self.screens if s.name == name), None)

    def summary(self) -> dict[str, Any]:
        """What the public list shows of the report: verdict, counts and the codes that were raised."""
        raised = sorted({f.code.value for f in self.findings if f.severity is not Severity.INFO})
        return {
            "verdict": self.verdict,
            "assessed_at": format_time(self.assessed_at),
            "counts": counts(self.findings),
            "codes": raised,
            "screens": {s.name: s.sha256 for s in self.screens},
        }

    def findings_document(self) -> dict[str, Any]:
        """The fixed-contract document printed by ``check --json``."""
        return {"verdict": self.verdict, "findings": [f.to_json() for f in self.findings]}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": RECORD_KIND,
            "version": RECORD_VERSION,
            **self.findings_document(),
            "app": self.app.to_json() if self.app else None,
            "folder": self.folder,
            "assessed_at": format_time(self.assessed_at),
            "tool_version": self.tool_version,
            "trust_key_ids": list(self.trust_key_ids),
            "ocr_engine": self.ocr_engine,
            "screens": [s.to_json() for s in self.screens],
            "live": [c.to_json() for c in self.live],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Assessment:
        if data.get("kind") != RECORD_KIND or data.get("version") != RECORD_VERSION:
            raise ValueError(f"not a {RECORD_KIND} record, version {RECORD_VERSION}")
        app = data.get("app")
        return cls(
            app=AppInfo.from_json(app) if app else None,
            folder=str(data["folder"]),
            assessed_at=parse_time(data["assessed_at"], "assessed_at"),
            tool_version=str(data["tool_version"]),
            trust_key_ids=tuple(data.get("trust_key_ids", ())),
            ocr_engine=str(data.get("ocr_engine", "")),
            screens=tuple(ScreenReport.from_json(s) for s in data.get("screens", ())),
            live=tuple(LiveCall.from_json(c) for c in data.get("live", ())),
            findings=tuple(Finding.from_json(f) for f in data.get("findings", ())),
        )


def _box(value: Any) -> Box:
    left, top, right, bottom = (int(v) for v in value)
    return (left, top, right, bottom)
