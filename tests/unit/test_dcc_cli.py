"""``unifiedqr dcc verify`` and ``unifiedqr scan --dcc-trust`` as a user types them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.dcc_factory import T0, Code, lab_test, make_signer, vaccination
from unifiedqr.cli import main
from unifiedqr.codes.dcc import STAGES

ES = make_signer()
PS = make_signer(alg="PS256")
AT = "2022-05-01T12:00:00+07:00"
TEXT = Code(ES, vaccination(dose=2, series=2)).build()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def trust_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "dsc"
    folder.mkdir()
    (folder / "es.pem").write_bytes(ES.pem())
    (folder / "ps.der").write_bytes(PS.der)
    (folder / "notes.txt").write_text("ignored: not a certificate suffix")
    return folder


def test_valid_json(runner: CliRunner, trust_dir: Path) -> None:
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--at", AT, "--json", TEXT])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "valid"
    assert document["stages"] == dict.fromkeys(STAGES, True) and document["reasons"] == {}
    assert document["display"] == {
        "name": "Nguyễn, Văn An",
        "name_standardised": "NGUYEN<<VAN<AN",
        "birth_date": "1990-01-31",
        "certificate_type": "vaccination",
        "dose": "2/2",
        "date": None,
        "issuer_country": "VN",
    }
    assert base64.b64decode(document["kid"]) == ES.kid and document["algorithm"] == "ES256"
    assert document["expires_at"] == "2023-04-02T00:00:00Z" and document["at"] == "2022-05-01T05:00:00Z"


def test_human_output(runner: CliRunner, trust_dir: Path) -> None:
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--at", AT, "--details", TEXT])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "valid"
    assert [line.split()[0] for line in lines[1:9]] == list(STAGES)
    assert re.search(r"^Dose +2/2$", result.stdout, re.M)
    assert re.search(r"^Vaccine product +Comirnaty$", result.stdout, re.M)  # --details
    assert re.search(r"^Name +Nguyễn, Văn An$", result.stdout, re.M)
    plain = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--at", AT, TEXT])
    assert "Comirnaty" not in plain.stdout  # the minimal display shows no product by default


def test_invalid_exits_1_with_reasons(runner: CliRunner, trust_dir: Path) -> None:
    late = "2024-01-01T00:00:00Z"
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--at", late, "--json", TEXT])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "expiration" and "expired at" in document["reasons"]["expiration"]
    assert document["display"]["dose"] == "2/2"  # shown even when invalid; the status says what it means
    human = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--at", late, TEXT])
    assert human.exit_code == 1 and human.stdout.startswith("invalid: expiration\n")
    assert "expiration  FAILED: expired at 2023-04-02T00:00:00+00:00" in human.stdout


def test_bad_prefix(runner: CliRunner, trust_dir: Path) -> None:
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(trust_dir), "--json", "HC2:" + TEXT[4:]])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["stages"] == dict.fromkeys(STAGES, None) | {"unprefix": False}


def test_stdin_and_json_trust_list(runner: CliRunner, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps([base64.b64encode(PS.der).decode()]))
    text = Code(PS, lab_test()).build()
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(trust), "--at", AT, "-"], input=text + "\n")
    assert result.exit_code == 0, result.output
    assert re.search(r"^Certificate +test$", result.stdout, re.M)
    assert re.search(r"^Date +2022-04-20T08:00:00Z$", result.stdout, re.M)


def test_single_certificate_file(runner: CliRunner, tmp_path: Path) -> None:
    pem = tmp_path / "es.pem"
    pem.write_bytes(ES.pem())
    assert runner.invoke(main, ["dcc", "verify", "--trust", str(pem), "--at", AT, TEXT]).exit_code == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"[1, 2]", "t.json", "JSON list of base64"),
        (b'["%%%"]', "t.json", "item 0 is not base64"),
        (b"{", "t.json", "is not JSON"),
        (b"not a certificate", "t.pem", "no readable X.509"),
    ],
)
def test_unreadable_trust_is_one_line_error(
    runner: CliRunner, tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(main, ["dcc", "verify", "--trust", str(path), TEXT])
    assert result.exit_code == 1 and message in result.stderr and result.stderr.startswith("error: --trust")


def test_missing_or_empty_trust(runner: CliRunner, tmp_path: Path) -> None:
    assert (
        "does not exist"
        in runner.invoke(main, ["dcc", "verify", "--trust", str(tmp_path / "x"), TEXT]).stderr
    )
    assert "holds no" in runner.invoke(main, ["dcc", "verify", "--trust", str(tmp_path), TEXT]).stderr


def test_scan_reports_the_dcc_outcome(runner: CliRunner, tmp_path: Path, trust_dir: Path) -> None:
    from unifiedqr import imaging

    image = tmp_path / "passport.png"
    image.write_bytes(imaging.render_png(TEXT, scale=4))
    plain = runner.invoke(main, ["scan", "--json", str(image)])
    assert json.loads(plain.stdout) == [{"file": str(image), "text": TEXT, "kind": "eu_dcc"}]
    checked = runner.invoke(
        main, ["scan", "--json", "--dcc-trust", str(trust_dir), "--dcc-at", AT, str(image)]
    )
    assert checked.exit_code == 0, checked.output
    [row] = json.loads(checked.stdout)
    assert (row["file"], row["text"], row["kind"]) == (str(image), TEXT, "eu_dcc")
    assert row["dcc"]["status"] == "valid" and row["dcc"]["display"]["dose"] == "2/2"
    human = runner.invoke(main, ["scan", "--dcc-trust", str(trust_dir), "--dcc-at", "2030-01-01", str(image)])
    assert human.stdout == f"{image}\teu_dcc\t{TEXT}\tdcc:expiration\n"


def test_naive_at_is_utc(runner: CliRunner, trust_dir: Path) -> None:
    result = runner.invoke(
        main, ["dcc", "verify", "--trust", str(trust_dir), "--at", "2022-05-01T00:00:00", "--json", TEXT]
    )
    assert json.loads(result.stdout)["at"] == "2022-05-01T00:00:00Z"
    assert dt.datetime(2022, 5, 1, tzinfo=dt.UTC) > T0
