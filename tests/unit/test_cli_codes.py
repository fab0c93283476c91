"""The core CLI through click's runner, plus one real subprocess for stdout/stderr separation."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from unifiedqr.cli import main

SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help(runner: CliRunner) -> None:
    for command in [
        "parse",
        "issue",
        "verify",
        "classify",
        "keygen",
        "trust",
        "trust add",
        "trust revoke",
        "trust list",
    ]:
        code, out, _ = run(runner, *command.split(), "--help")
        assert code == 0 and "Usage:" in out


def test_parse_json_and_masked_human(runner: CliRunner) -> None:
    code, out, _ = run(runner, "parse", "--json", "-", stdin=SAMPLE + "\n")
    assert code == 0 and json.loads(out)["phone"] == "0944713700"
    code, out, _ = run(runner, "parse", SAMPLE)
    assert "******029317" in out and "001093029317" not in out and "1987-**-**" in out
    code, out, _ = run(runner, "parse", "--full", SAMPLE)
    assert "001093029317" in out and "1987-01-18" in out


def test_parse_error_is_one_line_on_stderr(runner: CliRunner) -> None:
    code, out, err = run(runner, "parse", SAMPLE.replace("1987-01-18", "1987-02-30"))
    assert code == 1 and out == ""
    assert err.strip() == "error: NgaySinh: 1987-02-30 is not a calendar date"


def test_keygen_trust_issue_verify_revoke(runner: CliRunner, tmp_path: Path) -> None:
    key, trust = tmp_path / "key.json", tmp_path / "trust.json"
    code, key_id, _ = run(runner, "keygen", "--out", str(key), "--issuer", "Test", "--valid-days", "30")
    assert code == 0 and len(key_id.strip()) == 11
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert run(runner, "keygen", "--out", str(key))[0] == 1  # never overwrite a key by accident
    assert run(runner, "trust", "add", "--trust", str(trust), str(key))[0] == 0
    assert "PRIVATE" not in trust.read_text()
    code, out, _ = run(runner, "trust", "list", "--trust", str(trust), "--json")
    assert json.loads(out)[0]["key_id"] == key_id.strip()

    code, payload, _ = run(
        runner,
        "issue",
        "--document",
        "001093029317",
        "--name",
        "Nguyễn Lê Kha Hân",
        "--birth-date",
        "18/01/1987",
        "--gender",
        "male",
        "--phone",
        "0944713700",
        "--qid",
        "162979388586171100",
        "--key",
        str(key),
    )
    assert code == 0 and payload.startswith(SAMPLE.replace("<HS4010120878821", "<") + "<")
    code, out, _ = run(runner, "verify", "--trust", str(trust), "--json", "-", stdin=payload)
    assert code == 0 and json.loads(out)["status"] == "valid"
    code, out, _ = run(
        runner, "verify", "--trust", str(trust), "--json", "--at", "2000-01-01T00:00:00Z", payload.strip()
    )
    assert code == 1 and json.loads(out)["status"] == "key_not_yet_valid"

    assert run(runner, "trust", "revoke", "--trust", str(trust), "--code", "-", stdin=payload)[0] == 0
    code, out, _ = run(runner, "verify", "--trust", str(trust), "--json", payload.strip())
    assert code == 1 and json.loads(out)["status"] == "code_revoked"
    assert run(runner, "trust", "revoke", "--trust", str(trust), key_id.strip())[0] == 0
    code, out, _ = run(runner, "verify", "--trust", str(trust), "--json", payload.strip())
    assert json.loads(out)["status"] == "key_revoked"


def test_verify_unsigned_and_malformed(runner: CliRunner, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text('{"version": 1, "keys": [], "revoked_codes": []}')
    code, out, _ = run(runner, "verify", "--trust", str(trust), "--json", SAMPLE)
    assert code == 1 and json.loads(out)["status"] == "unsigned"
    code, out, _ = run(runner, "verify", "--trust", str(trust), "--json", "garbage")
    assert code == 1 and json.loads(out)["status"] == "malformed"
    code, out, err = run(runner, "verify", "--trust", str(tmp_path / "missing.json"), SAMPLE)
    assert code == 1 and "does not exist" in err


def test_issue_masked_and_field_form(runner: CliRunner) -> None:
    base = [
        "issue",
        "--document",
        "001093029317",
        "--name",
        "A B",
        "--birth-date",
        "1987-01-18",
        "--qid",
        "162979388586171100",
        "--phone",
        "0944713700",
    ]
    assert (
        run(runner, *base, "--masked")[1].strip() == "******029317|A B|1987-**-**|0|162979388586171100|<0<<"
    )
    assert run(runner, *base, "--field-form")[1].strip().endswith("|<0<00<<0944713700")


def test_classify_cli(runner: CliRunner) -> None:
    assert run(runner, "classify", SAMPLE)[1].startswith("personal")
    code, out, _ = run(runner, "classify", "--json", "-", stdin=b"\xff\xfe")
    assert code == 0 and json.loads(out)["kind"] == "unknown"


def test_console_script_keeps_stdout_parseable(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    exe = [sys.executable, "-m", "unifiedqr.cli"]
    done = subprocess.run(
        [*exe, "keygen", "--out", str(tmp_path / "k.json")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert len(done.stdout.strip()) == 11 and "wrote" in done.stderr
    done = subprocess.run(
        [*exe, "parse", "--json", "-"], input="bad", capture_output=True, text=True, env=env
    )
    assert done.returncode == 1 and done.stdout == "" and done.stderr.startswith("error: payload:")


def test_ids_may_start_with_a_dash(runner: CliRunner, tmp_path: Path) -> None:
    # base64url key ids begin with '-' one time in 64: they must still work as positional values.
    trust = tmp_path / "trust.json"
    trust.write_text('{"version": 1, "keys": [], "revoked_codes": []}')
    code, _, err = run(runner, "trust", "revoke", "--trust", str(trust), "-AbCdEfGhIj")
    assert code == 1 and "'-AbCdEfGhIj' is not on the trust list" in err
    code, _, err = run(runner, "trust", "revoke", "-AbCdEfGhIj", "--trust", str(trust))
    assert code == 1 and "'-AbCdEfGhIj' is not on the trust list" in err
    code, _, err = run(runner, "trust", "revoke", "--trust", str(trust), "--", "-AbCdEfGhIj")
    assert code == 1 and "is not on the trust list" in err
    assert run(runner, "trust", "revoke", "--trust", str(trust), "-x")[0] == 2  # a mistyped option
    code, out, _ = run(runner, "trust", "list", "--trust", str(trust), "--json")
    assert code == 0 and json.loads(out) == []
