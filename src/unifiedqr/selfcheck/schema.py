"""Schema-driven requests against the served OpenAPI document, for every role (schemathesis).

For each operation, each role's credentials and both generation modes (data the schema allows, and
data it forbids), ``examples`` requests go through the real app, and the six checks issue 10 names
must hold: no 5xx, only documented status codes, content types and headers, bodies matching their
schemas, and every request the schema forbids refused with a 4xx. A schema-valid request may still
be refused for state, time or throttling (404, 409, 429), so positive-data acceptance is not asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


@dataclass(frozen=True)
class SchemaFailure:
    role: str
    operation: str
    detail: str


@dataclass
class SchemaReport:
    operations: int = 0
    calls: int = 0
    failures: list[SchemaFailure] = field(default_factory=list)


def _summary(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("-", "Received", "Documented", "curl"))]
    return " | ".join(keep or lines[:3])[:400]


def run_schema_checks(
    app: Any,
    credentials: Mapping[str, str | None],
    examples: int,
    progress: Callable[[str], None] | None = None,
) -> SchemaReport:
    """Run the named checks for every operation × role × generation mode; never raises on a finding."""
    import schemathesis
    from schemathesis.core.result import Ok
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    report = SchemaReport()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            report.failures.append(SchemaFailure("-", "the OpenAPI document", str(result.err())[:400]))
            continue
        operation = result.ok()
        report.operations += 1
        if progress is not None:
            progress(operation.label)
        for role, credential in credentials.items():
            headers = {"Authorization": f"Bearer {credential}"} if credential else {}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run_operation(operation, role, headers, mode, examples, report)
    return report


def _run_operation(
    operation: Any, role: str, headers: dict[str, str], mode: Any, examples: int, report: SchemaReport
) -> None:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from schemathesis import checks

    chosen = [getattr(checks, name) for name in CHECK_NAMES]
    seen: set[str] = set()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
        database=None,
        verbosity=Verbosity.quiet,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        report.calls += 1
        try:
            case.call_and_validate(headers=headers, checks=chosen)
        except (Exception, BaseExceptionGroup) as exc:  # a finding, recorded once per kind
            detail = _summary(exc)
            if detail not in seen:
                seen.add(detail)
                report.failures.append(SchemaFailure(role, operation.label, detail))

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:
        if "Unable to satisfy assumptions" not in str(exc):  # an operation with nothing to negate
            report.failures.append(SchemaFailure(role, operation.label, _summary(exc)))
