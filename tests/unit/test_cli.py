"""The command line as users and scripts see it: exit codes, one-line errors, outputs."""

import json
import re

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
    r = run_cli("triage", "--bundle", demo, "--only", "ssvm,templates", "--format", "json", cwd=tmp_path)
    (tmp_path / "one.json").write_text(r.stdout)
    # the second run covered the same checks (same runner, same configuration) and the templates'
    # problems are gone: they are resolved (a run that did not cover templates resolves nothing: test_scope)
    doc = json.loads(r.stdout)
    doc["run"]["id"] += "-2"
    doc["findings"] = [
        f for f in doc["findings"] if f["check"] != "templates" or f["severity"] not in ("WARN", "CRIT", "UNKNOWN")
    ]
    (tmp_path / "two.json").write_text(json.dumps(doc))
    for name in ("one", "two"):
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
    assert "0 new, 15 resolved since the previous run" in r.stderr
    page = (tmp_path / "two/report.html").read_text()
    assert 'id="group-resolved"' in page and "open since" in page
    assert "0 new · 15 resolved since the previous run" in page  # the header says what changed
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
    textfile = [
        line.split("; set +a; ", 1)[1]
        for line in (ROOT / "contrib/csdiag.cron").read_text().splitlines()
        if line.startswith("*/15 ")
    ]
    assert len(textfile) == 1
    from typer.testing import CliRunner

    from diagnostics.cli import app

    argv = shlex.split(textfile[0].split(" 2>", 1)[0])[1:]
    assert argv[:2] == ["--quiet", "triage"]
    help_text = CliRunner().invoke(app, ["triage", "--help"]).output
    assert all(a in help_text for a in argv[2:] if a.startswith("--"))
    help_text = run_cli("report", "--help").stdout
    for command in commands:
        argv = shlex.split(command.split(">", 1)[0])
        assert argv[0].endswith("/csdiag") and argv[1] == "report"
        for option in (a for a in argv[2:] if a.startswith("--")):
            assert option in help_text, option


DEMO = str(ROOT / "examples/demo-bundle")


def test_default_triage_leads_with_the_incidents_at_80_columns(tmp_path):
    r = run_cli("triage", "--bundle", DEMO, cwd=tmp_path, env={**_env(), "COLUMNS": "80"})
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert len(lines) < 80 and all(len(line) <= 80 for line in lines)
    head = "\n".join(lines[:25])
    assert lines[0].startswith("CRITICAL — ")
    assert (
        head.count("\n     do    ") == 3 and head.count("\n     cause ") == 3
    )  # 3 incidents: root cause, first action
    assert "SSVM agent down" in head and "SSVM_AGENT_NOT_UP" in head
    assert "{'" not in r.stdout and "e+0" not in r.stdout  # no dict dumps, no raw exponents
    assert "csdiag config example > csdiag.toml" in r.stderr  # first run without a config


def test_explain_shows_all_evidence(tmp_path):
    short = run_cli("triage", "--bundle", DEMO, "--format", "json", cwd=tmp_path)
    doc = json.loads(short.stdout)
    assert [f["rank"] for f in doc["findings"]] == list(range(1, len(doc["findings"]) + 1))
    assert doc["findings"][0]["code"] == "SSVM_AGENT_NOT_UP"  # the first incident's root cause ranks first
    r = run_cli("triage", "--bundle", DEMO, "--explain", cwd=tmp_path)
    assert r.returncode == 2
    evidence = sum(len(f["evidence"]) for f in doc["findings"])
    assert r.stdout.count("\n  ") > evidence
    for f in doc["findings"]:
        assert f"{f['code']}" in r.stdout
    assert not re.search(r"\de\+\d\d|\{'|\[\{", r.stdout)  # values for people: no exponents, no dict dumps
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
    one = run_cli("triage", "--bundle", DEMO, "--finding", "1", cwd=tmp_path)
    assert "#1 CRIT SSVM_AGENT_NOT_UP" in one.stdout and "#2 " not in one.stdout


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "COLUMNS"}


def test_bad_inputs_give_one_line_and_exit_64(tmp_path):
    [line] = one_line_error(run_cli("image", "lint", str(tmp_path / "nope.qcow2"), cwd=tmp_path))
    assert line == f"csdiag: error: {tmp_path / 'nope.qcow2'}: no such file"
    [line] = one_line_error(
        run_cli("triage", "--bundle", DEMO, "--output", str(tmp_path / "no/such/dir"), cwd=tmp_path)
    )
    assert line == f"csdiag: error: --output: {tmp_path / 'no/such'} does not exist (create it first)"
    assert not (tmp_path / "no").exists()
    one_line_error(run_cli("triage", "--bundle", DEMO, "-f", "json", "-o", str(tmp_path / "x/y.json"), cwd=tmp_path))
    one_line_error(run_cli("report", "--from", str(tmp_path / "r.json"), "-o", str(tmp_path / "a/b"), cwd=tmp_path))


def test_config_validate_lists_every_problem(tmp_path):
    cfg = write_config(
        tmp_path / "c.toml", '[run]\ncheck_timeout_s = "x"\nconcurrency = 0\n[thresholds.nosuch]\na = 1\n'
    )
    lines = one_line_error(run_cli("config", "validate", str(cfg)))
    assert lines == [
        f"csdiag: error: {cfg}: run.check_timeout_s: Input should be a valid number, unable to parse string as a number",
        f"csdiag: error: {cfg}: run.concurrency: Input should be greater than or equal to 1",
    ]
    cfg.write_text("[thresholds.nosuch]\na = 1\n[thresholds.templates]\nzzz = 1\n")
    lines = one_line_error(run_cli("config", "validate", str(cfg)))
    assert len(lines) == 2 and "thresholds.nosuch" in lines[0] and "thresholds.templates.zzz: unknown key" in lines[1]


def test_unexpected_error_is_one_line_and_unknown(tmp_path):
    import subprocess
    import sys

    boom = (
        "import diagnostics.ranking as r\n"
        "def rank(run): raise RuntimeError('boom in ranking')\n"
        "r.rank = rank\n"
        "import sys; from diagnostics.cli import main; sys.argv[0] = 'csdiag'; main()\n"
    )
    for verbose in ([], ["--verbose"]):
        r = subprocess.run(
            [sys.executable, "-c", boom, *verbose, "triage", "--bundle", DEMO, "-f", "json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert r.returncode == 3, r.stderr
        if verbose:
            assert "Traceback" in r.stderr
        else:
            [line] = r.stderr.strip().splitlines()
            assert line.startswith("csdiag: internal error in triage: RuntimeError") and "boom in ranking" in line


def test_an_internal_error_never_shows_a_configured_secret(tmp_path):
    import os
    import subprocess
    import sys

    cfg = write_config(tmp_path / "c.toml", '[cloudstack.database]\npassword_env = "CSDIAG_T_PW"\n', private=True)
    boom = (
        "import os, diagnostics.ranking as r\n"
        "def rank(run): raise RuntimeError('login failed for ' + os.environ['CSDIAG_T_PW'])\n"
        "r.rank = rank\n"
        "import sys; from diagnostics.cli import main; sys.argv[0] = 'csdiag'; main()\n"
    )
    env = {**os.environ, "CSDIAG_T_PW": "pw-9f8e7d-secret"}
    for verbose in ([], ["--verbose"]):
        r = subprocess.run(
            [sys.executable, "-c", boom, *verbose, "triage", "-c", str(cfg), "--bundle", DEMO, "-f", "json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert r.returncode == 3, r.stderr
        assert "login failed for" in r.stderr and "pw-9f8e7d-secret" not in r.stderr + r.stdout


def test_single_check_commands_take_a_timeout(tmp_path):
    for cmd in (["image", "lint"], ["logs", "scan"]):
        assert "--timeout" in run_cli(*cmd, "--help").stdout
    log = tmp_path / "management-server.log"
    log.write_text("")
    r = run_cli("logs", "scan", str(log), "--timeout", "5", cwd=tmp_path)
    assert r.returncode in (0, 3), r.stderr
    bad = run_cli("logs", "scan", str(log), "--timeout", "0", cwd=tmp_path)
    assert bad.returncode == 64 and "--timeout" in bad.stderr and "Traceback" not in bad.stderr


def test_progress_counts_the_checks_really_run(tmp_path):
    """On a terminal, the bar's totals are the bundle's checks (it once said 9/1)."""
    import os
    import pty
    import re
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnostics.cli", "triage", "--bundle", DEMO, "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=tmp_path,
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 2
    plain = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", shown).decode(errors="replace")
    n = len(json.loads((ROOT / "examples/demo-bundle/manifest.json").read_text())["checks"])
    totals = set(re.findall(r"\b(\d+)/(\d+)\b", plain))
    assert totals and {t for _, t in totals} == {str(n)} and (str(n), str(n)) in totals


def test_help_shows_words_not_types():
    import typer.main

    from diagnostics.cli import app

    def paths(cmd, prefix):
        subs = getattr(cmd, "commands", None)
        if not subs:
            yield prefix
            return
        for name, sub in subs.items():
            yield from paths(sub, [*prefix, name])

    commands = list(paths(typer.main.get_command(app), []))
    assert ["ssvm", "check"] in commands and ["image", "lint"] in commands
    from typer.testing import CliRunner

    runner = CliRunner()
    for argv in commands:
        out = runner.invoke(app, [*argv, "--help"]).output
        assert "Usage:" in out, (argv, out)
        assert not re.search(r"<(list\[|file>|path>|str>|int>|float>)|\b(TEXT|FLOAT|INTEGER)\b", out), (argv, out)


def test_verbose_logs_our_debug_not_the_libraries(tmp_path):
    run = run_cli("triage", "--bundle", DEMO, "--format", "json", cwd=tmp_path)
    (tmp_path / "run.json").write_text(run.stdout)
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n')
    r = run_cli(
        "--verbose", "report", "-c", str(cfg), "--from", str(tmp_path / "run.json"), "-o", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "DEBUG diagnostics.cli" in r.stderr
    assert "matplotlib" not in r.stderr and "findfont" not in r.stderr and "PIL" not in r.stderr


def test_report_without_its_history_store_still_writes_and_exits_unknown(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{blocker}/h.sqlite"\n')
    run = run_cli("triage", "--bundle", DEMO, "--only", "platform", "--format", "json", cwd=tmp_path)
    (tmp_path / "run.json").write_text(run.stdout)
    r = run_cli("report", "-c", str(cfg), "--from", str(tmp_path / "run.json"), "-o", str(tmp_path / "r"), cwd=tmp_path)
    assert r.returncode == 3 and "run not recorded" in r.stderr  # WARN at worst, but the history is missing
    assert (tmp_path / "r" / "report.html").exists()
