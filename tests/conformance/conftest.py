"""Fixtures: the evidence corpus, built once per session, and its assessments, made once per case.

Tesseract reads the same text regions again and again across the corpus (most violations change one
thing on the same screen, and the code itself is blanked before reading), so a caching engine keyed by
the exact image handed to it keeps the folder's runtime down without changing any result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.support import in_ci, missing_service
from unifiedqr.conformance.assess import assess
from unifiedqr.conformance.assessment import Assessment
from unifiedqr.conformance.evidence import Evidence, load_evidence
from unifiedqr.conformance.ocr import Line, Tesseract, unavailable_reason

from .corpus import CASE_BY_NAME, Built
from .generator import NOW, World

OCR_MISSING = unavailable_reason()
needs_ocr = pytest.mark.skipif(
    OCR_MISSING is not None and not in_ci(),  # under CI the tests run and fail: .ci/run installs it
    reason=f"Tesseract with Vietnamese is needed for the display checks: {OCR_MISSING}",
)


class CachingEngine:
    """An OCR engine that remembers what it read for each exact image and mode."""

    name = "tesseract"

    def __init__(self, inner: Tesseract) -> None:
        self.inner = inner
        self.cache: dict[tuple[str, int, str], list[Line]] = {}
        self.calls = 0

    def read(self, image: Image.Image, psm: int = 11, language: str = "vie") -> list[Line]:
        key = (hashlib.sha256(image.tobytes() + repr(image.size).encode()).hexdigest(), psm, language)
        if key not in self.cache:
            self.calls += 1
            self.cache[key] = self.inner.read(image, psm, language)
        return self.cache[key]


@pytest.fixture(scope="session")
def world() -> World:
    return World()


@pytest.fixture(scope="session")
def ocr_engine() -> CachingEngine:
    if OCR_MISSING is not None:
        missing_service(f"Tesseract with Vietnamese is needed for the display checks: {OCR_MISSING}")
    return CachingEngine(Tesseract())


@pytest.fixture(scope="session")
def built_case(tmp_path_factory: pytest.TempPathFactory, world: World) -> Callable[[str], Built]:
    """``built_case(name)``: the case's evidence folder (made on first use) and its trust list."""
    root = tmp_path_factory.mktemp("evidence")
    made: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in made:
            made[name] = CASE_BY_NAME[name].build(root / name, world)
        return made[name]

    return get


@pytest.fixture(scope="session")
def assessed(
    built_case: Callable[[str], Built], ocr_engine: CachingEngine
) -> Iterator[Callable[[str], tuple[Assessment, Evidence]]]:
    """``assessed(name)``: the case's assessment (made once per session) and its loaded evidence."""
    done: dict[str, tuple[Assessment, Evidence]] = {}

    def get(name: str) -> tuple[Assessment, Evidence]:
        if name not in done:
            built = built_case(name)
            evidence = load_evidence(built.folder)
            done[name] = (assess(evidence, built.trust, NOW, ocr=ocr_engine), evidence)
        return done[name]

    yield get


@pytest.fixture
def trust_file(tmp_path: Path, world: World) -> Path:
    path = tmp_path / "trust.json"
    path.write_text(world.trust().dumps(), encoding="utf-8")
    return path
