"""The evidence corpus: conforming apps and one folder per kind of violation, with the exact findings.

Each case builds its folder (and the trust list to judge it with) and names the error and warning
findings it must produce, as ``(code, screen)`` pairs; info findings are not listed (they report what
was measured). The SMART Health Cards validator's tests assert error codes the same way.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from unifiedqr.codes import display
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.codes.signing import revocation_id_of
from unifiedqr.codes.trust import TrustList

from .generator import PEOPLE, Style, World, app_json, huge_png, render_screen, spec_for, write_folder

D, F = "default", "full"
Expected = frozenset[tuple[str, str | None]]


def E(code: str, *screens: str | None) -> set[tuple[str, str | None]]:
    return {(code, screen) for screen in (screens or (None,))}


@dataclass(frozen=True)
class Built:
    folder: Path
    trust: TrustList


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, World], Built]
    expected: Expected = frozenset()

    @property
    def conforming(self) -> bool:
        return not any(code for code, _ in self.expected if not _is_warning(code))


_WARNINGS = {
    "QR_MULTIPLE",
    "QUALITY_NOT_MEASURED",
    "QUALITY_MODULE_SMALL",
    "QUALITY_CONTRAST_MARGINAL",
    "QUALITY_INVERTED",
    "DISPLAY_DOCUMENT_MASK_FORM",
    "DISPLAY_BIRTH_DATE_MASK_FORM",
    "DISPLAY_BIRTH_DATE_FORMAT",
    "REGISTRY_QID_UNKNOWN",
}


def _is_warning(code: str) -> bool:
    return code in _WARNINGS


P0 = PEOPLE[0]


def _pair(
    person_index: int = 0,
    *,
    code: Callable[[World], PersonalCode] | None = None,
    style: Style = Style(),
    default: dict[str, object] | None = None,
    full: dict[str, object] | None = None,
    both: dict[str, object] | None = None,
    trust: Callable[[World, PersonalCode], TrustList] | None = None,
    **folder_options: object,
) -> Callable[[Path, World], Built]:
    """A folder of one person's screen in both modes, with changes to either screen."""

    def build(root: Path, world: World) -> Built:
        person = PEOPLE[person_index]
        the_code = code(world) if code else world.signed(person.code())
        specs = []
        for full_mode, changes in ((False, default), (True, full)):
            spec = spec_for(the_code, person, full_mode, style)
            spec = replace(spec, **{**(both or {}), **(changes or {})})  # type: ignore[arg-type]
            specs.append(spec)
        folder = write_folder(root, specs[0], specs[1], app_json(), **folder_options)  # type: ignore[arg-type]
        return Built(folder, trust(world, the_code) if trust else world.trust())

    return build


def _safe(index: int) -> Callable[[World], PersonalCode]:
    return lambda world: world.safe(PEOPLE[index].code())


def _raw(default: bytes | None, full: bytes | None, app: str | None = None) -> Callable[[Path, World], Built]:
    def build(root: Path, world: World) -> Built:
        good = spec_for(world.signed(P0.code()), P0, True)
        return Built(write_folder(root, default, full if full is not None else good, app), world.trust())

    return build


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _default_screen(world: World) -> bytes:
    return _png(render_screen(spec_for(world.signed(P0.code()), P0, False)))


def _forged(world: World) -> PersonalCode:
    signed = world.signed(P0.code())
    return signed._replace(birth_date="1987-01-19")  # the signature no longer covers this text


def _revoked(world: World, code: PersonalCode) -> TrustList:
    assert code.signature is not None
    return world.trust((revocation_id_of(code.signature),))


def _unsafe_safe_code(world: World) -> PersonalCode:
    code = P0.code()
    partly = code._replace(document_number=display.mask_document(code.document_number))
    return world.signed(display.masked_variant(code)._replace(birth_date=partly.birth_date))


def _lowercase_name(world: World) -> PersonalCode:
    return P0.code()._replace(full_name="Nguyen Le Kha Han")


def _other_person(world: World) -> PersonalCode:
    return world.signed(PEOPLE[1].code())


def _different_people(root: Path, world: World) -> Built:
    first = spec_for(world.signed(P0.code()), P0, False)
    second = spec_for(world.signed(PEOPLE[1].code()), PEOPLE[1], True)
    return Built(write_folder(root, first, second, app_json()), world.trust())


def _venue(world: World) -> str:
    return "https://checkin.unifiedqr.vn/v/QNiCgkij5pE/abcdefghijk.0123456789abcdefghijABCDEFGHIJ"


def _not_personal(root: Path, world: World) -> Built:
    specs = [
        replace(spec_for(world.signed(P0.code()), P0, m), code_text=_venue(world)) for m in (False, True)
    ]
    return Built(write_folder(root, specs[0], specs[1], app_json()), world.trust())


def _missing_folder(root: Path, world: World) -> Built:
    return Built(root / "does-not-exist", world.trust())


def _with_account(account: bytes) -> Callable[[Path, World], Built]:
    def build(root: Path, world: World) -> Built:
        built = _pair()(root, world)
        (built.folder / "account.json").write_bytes(account)
        return built

    return build


def _masked_doc(text: str) -> dict[str, object]:
    return {"document": text}


CASES: tuple[Case, ...] = (
    # -- conforming apps: light and dark, three phone sizes, three layouts, full and safe codes -----------
    Case("ok-light-small-full-code", _pair(0)),
    Case(
        "ok-dark-large-safe-code", _pair(1, code=_safe(1), style=Style("dark", "large", "stacked", "upper"))
    ),
    Case("ok-light-iphone-safe-code", _pair(2, code=_safe(2), style=Style("light", "iphone", "columns"))),
    Case("ok-dark-small-columns-full-code", _pair(3, style=Style("dark", "small", "columns", "upper"))),
    Case("ok-cmnd-9-digits", _pair(4, style=Style("light", "large", "inline"))),
    Case("ok-dark-iphone-safe-code", _pair(5, code=_safe(5), style=Style("dark", "iphone", "inline"))),
    Case(
        "ok-light-small-stacked-safe-code", _pair(6, code=_safe(6), style=Style("light", "small", "stacked"))
    ),
    Case(
        "ok-blue-app-other-label",
        _pair(7, style=Style("light", "large", "columns", accent=(29, 78, 216), doc_label="CCCD/CMND")),
    ),
    Case(
        "ok-safe-code-shown-as-held-in-full-mode",
        _pair(
            3,
            code=_safe(3),
            style=Style("dark", "large", "inline"),
            full={"document": "******007788", "birth": "2001-**-**"},
        ),
    ),
    Case(
        "ok-round-dots-and-logo",
        _pair(5, style=Style("light", "large", "inline"), both={"dots": True, "logo": True, "ec_level": "H"}),
    ),
    Case("ok-jpeg-screenshots", _pair(1, style=Style("light", "large", "inline"), jpeg_quality=88)),
    Case(
        "ok-downscaled-screenshots",
        _pair(2, code=_safe(2), style=Style("light", "iphone", "inline"), width=780),
    ),
    # -- display -------------------------------------------------------------------------------------------
    Case(
        "default-shows-everything",
        _pair(default={"document": P0.document, "birth": P0.birth.isoformat()}),
        frozenset(E("DISPLAY_DOCUMENT_NOT_MASKED", D) | E("DISPLAY_BIRTH_DATE_NOT_MASKED", D)),
    ),
    Case(
        "default-shows-more-digits",
        _pair(default=_masked_doc("****93029317")),
        frozenset(E("DISPLAY_DOCUMENT_NOT_MASKED", D)),
    ),
    Case(
        "default-four-mask-characters",
        _pair(default=_masked_doc("****029317")),
        frozenset(E("DISPLAY_DOCUMENT_MASK_FORM", D)),
    ),
    Case(
        "default-date-masked-other-form",
        _pair(default={"birth": "**/**/1987"}),
        frozenset(E("DISPLAY_BIRTH_DATE_MASK_FORM", D)),
    ),
    Case(
        "full-mode-still-masked",
        _pair(full={"document": "******029317", "birth": "1987-**-**"}),
        frozenset(E("DISPLAY_DOCUMENT_MASKED_IN_FULL", F) | E("DISPLAY_BIRTH_DATE_MASKED_IN_FULL", F)),
    ),
    Case(
        "full-mode-date-dd-mm-yyyy",
        _pair(full={"birth": "18/01/1987"}),
        frozenset(E("DISPLAY_BIRTH_DATE_FORMAT", F)),
    ),
    Case(
        "fields-disagree-with-code",
        _pair(default={"birth": "1988-**-**"}, full={"birth": "1988-01-18"}),
        frozenset(E("DISPLAY_BIRTH_DATE_MISMATCH", D, F)),
    ),
    Case("birth-date-missing", _pair(both={"birth": None}), frozenset(E("DISPLAY_BIRTH_DATE_MISSING", D, F))),
    Case("name-missing", _pair(default={"name": None}), frozenset(E("DISPLAY_NAME_MISSING", D))),
    Case(
        "someone-elses-code",
        _pair(code=_other_person),
        frozenset(
            E("DISPLAY_NAME_MISMATCH", D, F)
            | E("DISPLAY_DOCUMENT_MISMATCH", D, F)
            | E("DISPLAY_BIRTH_DATE_MISMATCH", D, F)
        ),
    ),
    Case("screens-of-two-people", _different_people, frozenset(E("SCREENS_DIFFERENT_PERSON"))),
    # -- symbol quality --------------------------------------------------------------------------------------
    Case(
        "tiny-quiet-zone-on-colour",
        _pair(both={"quiet_modules": 1, "plate": (22, 128, 74)}),
        frozenset(E("QUALITY_QUIET_ZONE", D, F)),
    ),
    Case("error-correction-L", _pair(both={"ec_level": "L"}), frozenset(E("QUALITY_EC_LOW", D, F))),
    Case("low-contrast", _pair(both={"ink": (178, 178, 178)}), frozenset(E("QUALITY_LOW_CONTRAST", D, F))),
    Case(
        "marginal-contrast",
        _pair(both={"ink": (60, 150, 90)}),
        frozenset(E("QUALITY_CONTRAST_MARGINAL", D, F)),
    ),
    Case(
        "inverted-code",
        _pair(style=Style("dark", "large"), both={"ink": (240, 240, 240), "paper": (18, 18, 20)}),
        frozenset(E("QUALITY_INVERTED", D, F)),
    ),
    Case("small-modules", _pair(both={"code_dp": 95}), frozenset(E("QUALITY_MODULE_SMALL", D, F))),
    Case(
        "two-codes-on-screen",
        _pair(both={"second_code": "https://example.com/promo"}),
        frozenset(E("QR_MULTIPLE", D, F)),
    ),
    # -- the code and its signature --------------------------------------------------------------------------
    Case("unsigned-code", _pair(code=lambda w: P0.code()), frozenset(E("SIGNATURE_UNSIGNED", D, F))),
    Case(
        "self-signed-code",
        _pair(code=lambda w: w.signed(P0.code(), w.rogue)),
        frozenset(E("SIGNATURE_UNKNOWN_KEY", D, F)),
    ),
    Case(
        "forged-code",
        _pair(code=_forged, full={"birth": "1987-01-19"}),
        frozenset(E("SIGNATURE_INVALID", D, F)),
    ),
    Case("revoked-code", _pair(trust=_revoked), frozenset(E("SIGNATURE_CODE_REVOKED", D, F))),
    Case(
        "payload-not-v1-1",
        _pair(code=_lowercase_name),
        frozenset(E("PAYLOAD_INVALID", D, F) | E("SIGNATURE_UNSIGNED", D, F)),
    ),
    Case(
        "safe-code-half-masked",
        _pair(code=_unsafe_safe_code),
        frozenset(E("PAYLOAD_SAFE_CODE_INCOMPLETE", D, F)),
    ),
    Case("venue-code-instead", _not_personal, frozenset(E("PAYLOAD_NOT_PERSONAL", D, F))),
    Case("no-code-on-screen", _pair(both={"code_text": None}), frozenset(E("QR_NOT_FOUND", D, F))),
    # -- bad evidence ---------------------------------------------------------------------------------------
    Case(
        "not-an-image",
        _raw(b"this is not an image\n", None, app_json()),
        frozenset(E("EVIDENCE_NOT_AN_IMAGE", D)),
    ),
    Case("huge-image", _raw(huge_png(), None, app_json()), frozenset(E("EVIDENCE_IMAGE_TOO_LARGE", D))),
    Case(
        "truncated-image",
        lambda root, world: _raw(_default_screen(world)[:5000], None, app_json())(root, world),
        frozenset(E("EVIDENCE_IMAGE_DAMAGED", D)),
    ),
    Case(
        "tiny-image",
        _raw(_png(Image.new("RGB", (150, 150), "white")), None, app_json()),
        frozenset(E("EVIDENCE_IMAGE_TOO_SMALL", D)),
    ),
    Case(
        "screens-missing",
        lambda root, world: Built(write_folder(root, None, None, app_json()), world.trust()),
        frozenset(E("EVIDENCE_FILE_MISSING", D, F)),
    ),
    Case(
        "app-json-missing",
        lambda root, world: _raw(_default_screen(world), None, None)(root, world),
        frozenset(E("EVIDENCE_FILE_MISSING")),
    ),
    Case(
        "app-json-invalid",
        lambda root, world: _raw(_default_screen(world), None, '{"name": ""}')(root, world),
        frozenset(E("EVIDENCE_APP_INVALID")),
    ),
    Case("folder-missing", _missing_folder, frozenset(E("EVIDENCE_FOLDER_MISSING"))),
    Case(
        "account-invalid",
        _with_account(b'{"base_url": "ftp://sandbox", "api_key": 7}'),
        frozenset(E("EVIDENCE_ACCOUNT_INVALID")),
    ),
)

CASE_BY_NAME = {case.name: case for case in CASES}
