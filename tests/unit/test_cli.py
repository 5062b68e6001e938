"""The command line as users and scripts see it: exit codes, one-line errors, outputs."""

import json

import pytest

from tests.conftest import ROOT, run_cli, write_config

pytestmark = pytest.mark.unit


def one_line_error(r, code=64):
    assert r.returncode == code, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr
    return lines


def test_help_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ("triage", "collect", "checks", "config"):
        assert cmd in r.stdout


def test_usage_errors_exit_64(tmp_path):
    one_line_error(run_cli("triage", "--format", "yaml", cwd=tmp_path))
    one_line_error(run_cli("frobnicate", cwd=tmp_path))
    [line] = one_line_error(run_cli("triage", "--only", "nosuch", cwd=tmp_path))
    assert line.startswith("csdiag: error: --only: unknown check nosuch")


def test_config_errors_exit_64_with_file_and_key(tmp_path):
    cfg = write_config(tmp_path / "c.toml", "[run]\ncheck_timeout_s = 'x'\n")
    [line] = one_line_error(run_cli("triage", "--config", str(cfg)))
    assert line.startswith(f"csdiag: error: {cfg}: run.check_timeout_s: ")
    [line] = one_line_error(run_cli("config", "validate", str(tmp_path / "missing.toml")))
    assert line == f"csdiag: error: {tmp_path / 'missing.toml'}: no such file"


def test_corrupt_bundle_is_a_one_line_error(tmp_path):
    (tmp_path / "b.tar.gz").write_bytes(b"\x1f\x8b garbage")
    [line] = one_line_error(run_cli("triage", "--bundle", str(tmp_path / "b.tar.gz"), cwd=tmp_path))
    assert "not a readable bundle archive" in line


def test_example_config_round_trip(tmp_path):
    r = run_cli("config", "example")
    assert r.returncode == 0 and "[cloudstack.database]" in r.stdout
    cfg = write_config(tmp_path / "c.toml", r.stdout)
    env_missing = run_cli("config", "validate", str(cfg), env={"PATH": "/usr/bin:/bin"})
    assert "CSDIAG_DB_PASSWORD is not set" in env_missing.stderr
    import os

    ok = run_cli("config", "validate", str(cfg), env={**os.environ, "CSDIAG_DB_PASSWORD": "x"})
    assert ok.returncode == 0 and ok.stdout.strip() == f"{cfg}: OK"


def test_output_folder_gets_three_reports(tmp_path):
    r = run_cli("triage", "--only", "platform", "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 3  # no database configured: UNKNOWN
    assert "DB_NOT_CONFIGURED" in r.stdout
    doc = json.loads((tmp_path / "out/findings.json").read_text())
    assert doc["findings"][0]["code"] == "DB_NOT_CONFIGURED"
    assert (tmp_path / "out/findings.csv").read_text().startswith("severity,check,code,target")
    assert "<!DOCTYPE html>" in (tmp_path / "out/report.html").read_text()


def test_checks_lists_codes():
    r = run_cli("checks")
    assert r.returncode == 0
    assert "VERSION_UNSUPPORTED" in r.stdout and "CHECK_TIMEOUT" in r.stdout


def test_report_marks_changes_between_runs(tmp_path):
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n')
    demo = str(ROOT / "examples/demo-bundle")
    for name, only in (("one", "ssvm,templates"), ("two", "ssvm")):
        r = run_cli("triage", "--bundle", demo, "--only", only, "--format", "json", cwd=tmp_path)
        (tmp_path / f"{name}.json").write_text(r.stdout)
        r = run_cli(
            "report",
            "--config",
            str(cfg),
            "--from",
            str(tmp_path / f"{name}.json"),
            "--output",
            str(tmp_path / name),
            cwd=tmp_path,
        )
        assert r.returncode == 2, r.stderr
    assert "0 new, 13 resolved since the previous run" in r.stderr
    page = (tmp_path / "two/report.html").read_text()
    assert 'id="group-resolved"' in page and "open since" in page
    r = run_cli("history", "--config", str(cfg), "--format", "json", cwd=tmp_path)
    assert len(json.loads(r.stdout)["runs"]) == 2


def test_the_contrib_schedules_call_options_that_exist():
    import configparser
    import shlex

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "contrib/csdiag-report.service")
    commands = [unit["Service"]["ExecStart"]]
    commands += [
        line.split("; set +a; ", 1)[1]
        for line in (ROOT / "contrib/csdiag.cron").read_text().splitlines()
        if line.startswith("30 ")
    ]
    help_text = run_cli("report", "--help").stdout
    for command in commands:
        argv = shlex.split(command.split(">", 1)[0])
        assert argv[0].endswith("/csdiag") and argv[1] == "report"
        for option in (a for a in argv[2:] if a.startswith("--")):
            assert option in help_text, option
