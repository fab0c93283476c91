"""The assessor's host commands on a platform database: check, submit, approve, list, verify-list.

The first test is the whole workflow on evidence of a code the platform itself signed: the checker
judges it with the platform's exported trust list, the record goes in, the approval puts the app on
the list, and the list written by ``conformance list`` verifies offline; withdrawal takes it off.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support import test_settings
from unifiedqr.cli import main
from unifiedqr.codes.signing import sign_code
from unifiedqr.services.context import Services

from .conftest import needs_ocr
from .generator import PEOPLE, app_json, spec_for, write_folder
from .records import make_record


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh platform database (schema and development keys made by the first host command) and
    its trust list, exported as a verifier would fetch it."""
    url = f"sqlite:///{tmp_path / 'platform.sqlite'}"
    code, exported, err = run("trust", "export", "--database-url", url)
    assert code == 0, err
    trust = tmp_path / "trust.json"
    trust.write_text(exported, encoding="utf-8")
    yield url, trust


def services(url: str, tmp_path: Path) -> Services:
    return Services(test_settings(url, tmp_path / "platform.secrets"))  # where the CLI made them


def written(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return path


@needs_ocr
def test_check_submit_approve_list_verify_withdraw(platform: tuple[str, Path], tmp_path: Path) -> None:
    url, trust = platform
    ctx = services(url, tmp_path)
    try:  # the app shows a code the platform signed (as it would after registering the person)
        person = PEOPLE[0]
        code = sign_code(person.code(), ctx.keys.current(ctx.now()), ctx.now())
    finally:
        ctx.close()
    folder = write_folder(
        tmp_path / "evidence", spec_for(code, person, False), spec_for(code, person, True), app_json()
    )
    status, out, _ = run(
        "conformance", "check", str(folder), "--trust", str(trust), "--report", str(tmp_path)
    )
    assert status == 0, out
    status, out, err = run("conformance", "submit", str(tmp_path / "report.json"), "--database-url", url)
    assert status == 0, err
    assessment_id, decision, verdict, vendor, name, version = out.strip().split("\t")
    assert (decision, verdict, name, version) == ("pending", "pass", "Sổ sức khoẻ", "1.0.0")
    status, out, err = run(
        "conformance", "approve", assessment_id, "--reason", "conforms", "--database-url", url
    )
    assert status == 0 and out.startswith(f"{assessment_id}\tapproved") and "sequence 1" in err, err
    listed = tmp_path / "list.json"
    status, _, err = run("conformance", "list", "--out", str(listed), "--database-url", url)
    assert status == 0 and "sequence 1, 1 apps" in err
    status, out, _ = run("conformance", "verify-list", str(listed), "--trust", str(trust))
    assert status == 0 and out.startswith("valid:") and f"{vendor}\tSổ sức khoẻ\t1.0.0" in out

    status, out, err = run(
        "conformance", "withdraw", assessment_id, "--reason", "recalled", "--database-url", url
    )
    assert status == 0 and f"{assessment_id}\twithdrawn" in out
    status, out, _ = run("conformance", "list", "--database-url", url)
    document = json.loads(out)
    assert document["apps"] == [] and document["sequence"] == 2
    listed.write_text(out, encoding="utf-8")
    assert run("conformance", "verify-list", str(listed), "--trust", str(trust))[0] == 0


def test_host_decisions_refusals_and_listing(platform: tuple[str, Path], tmp_path: Path) -> None:
    url, _trust = platform
    ctx = services(url, tmp_path)
    try:
        passing = written(tmp_path / "pass.json", make_record(ctx))
        failing = written(tmp_path / "fail.json", make_record(ctx, passed=False, version="2.0"))
    finally:
        ctx.close()
    status, out, _ = run("conformance", "submit", str(passing), "--database-url", url, "--json")
    first = json.loads(out)
    assert status == 0 and first["created"] and first["decision"] == "pending"
    status, _, err = run("conformance", "submit", str(passing), "--database-url", url)
    assert status == 0 and "had been submitted already" in err
    failed_id = run("conformance", "submit", str(failing), "--database-url", url)[1].split("\t")[0]

    status, _, err = run("conformance", "approve", failed_id, "--reason", "x", "--database-url", url)
    assert status == 1 and err.startswith("error: decision: the assessment did not pass")
    assert run("conformance", "approve", failed_id, "--database-url", url)[0] == 2  # --reason is required
    status, out, _ = run(
        "conformance", "reject", failed_id, "--reason", "full data", "--database-url", url, "--json"
    )
    assert status == 0 and json.loads(out)["reasons"] == ["full data"]
    status, _, err = run("conformance", "withdraw", "asm_nope", "--reason", "x", "--database-url", url)
    assert status == 1 and "assessment_id" in err

    status, out, _ = run("conformance", "assessments", "--database-url", url, "--json")
    states = {a["assessment_id"]: a["decision"] for a in json.loads(out)["assessments"]}
    assert states == {first["assessment_id"]: "pending", failed_id: "rejected"}
    status, out, _ = run("conformance", "assessments", "--decision", "pending", "--database-url", url)
    assert status == 0 and out.splitlines() == [
        "\t".join([first["assessment_id"], "pending", "pass", "Công ty Thử nghiệm", "Sổ sức khoẻ", "2.1.0"])
    ]
    bad = written(tmp_path / "bad.json", {"kind": "something else"})
    status, _, err = run("conformance", "submit", str(bad), "--database-url", url)
    assert status == 1 and err.startswith("error: record:")
    (tmp_path / "notjson.json").write_text("{", encoding="utf-8")
    assert run("conformance", "submit", str(tmp_path / "notjson.json"), "--database-url", url)[0] == 1
    # every host decision is audited under the operator's name
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        actions = db.execute(
            "SELECT action, role, actor FROM audit_events WHERE action LIKE 'assessment.%' ORDER BY id"
        ).fetchall()
    assert [a[0] for a in actions] == ["assessment.submitted", "assessment.submitted", "assessment.rejected"]
    assert {(a[1], a[2].split(":")[0]) for a in actions} == {("operator", "operator")}


def test_an_assessor_account_is_made_on_the_host(platform: tuple[str, Path]) -> None:
    url, _ = platform
    args = ["admin", "create-user", "--role", "assessor", "--name", "Trung tâm", "--username", "assessor1"]
    result = CliRunner().invoke(
        main, [*args, "--password-stdin", "--database-url", url], input="correct horse\n"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "assessor"
