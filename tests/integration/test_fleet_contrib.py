"""The fleet examples in contrib/: the Prometheus fleet rules (promtool), the textfile's runner labels,
the Kubernetes manifests (Kubernetes' own schemas, kubernetes-validate) and the per-runner systemd units
(the commands they run exist; the timer's calendar is valid for systemd)."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import tomllib

import pytest
import yaml
from typer.testing import CliRunner

from diagnostics.cli import app
from diagnostics.config import parse_settings
from tests.conftest import ROOT, run_cli
from tests.services import unavailable

pytestmark = pytest.mark.integration
PROM = ROOT / "contrib/prometheus"
FLEET = ROOT / "contrib/fleet"


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        unavailable("promtool not installed (apt prometheus)")
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=PROM)


def test_fleet_rules_check_and_unit_tests_pass() -> None:
    check = promtool("check", "rules", "csdiag-fleet.yml")
    assert check.returncode == 0, check.stdout + check.stderr
    test = promtool("test", "rules", "csdiag-fleet.test.yml")
    assert test.returncode == 0, test.stdout + test.stderr


def test_textfile_carries_the_runner_and_the_scope(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\nrunner = "zone-west"\n')
    r = run_cli("triage", "--config", str(cfg), "--bundle", str(ROOT / "examples/demo-bundle"), "--format", "prom")
    assert r.returncode in (1, 2, 3), r.stderr
    assert 'csdiag_runner_last_run_timestamp_seconds{runner="zone-west"}' in r.stdout
    assert 'csdiag_run_info{host="' in r.stdout and 'runner="zone-west"} 1.0' in r.stdout
    assert 'csdiag_check_covered{check="storage",runner="zone-west"}' in r.stdout
    check = promtool("check", "metrics", stdin=r.stdout)
    assert check.returncode == 0, check.stdout + check.stderr


def _options_exist(argv: list[str]) -> None:
    help_text = CliRunner().invoke(app, [argv[0], "--help"], terminal_width=200).output
    for option in (a for a in argv[1:] if a.startswith("--")):
        assert option in help_text, f"{argv[0]} has no {option}"


def test_kubernetes_manifests_are_valid_and_point_at_one_history() -> None:
    import kubernetes_validate

    docs = list(yaml.safe_load_all((FLEET / "k8s/csdiag-runner-cronjob.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["ConfigMap", "CronJob", "CronJob"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30", strict=True)  # raises on any schema error
    broken = {**docs[1], "spec": {**docs[1]["spec"], "schedule": 15}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30", strict=True)
    settings = parse_settings(tomllib.loads(docs[0]["data"]["csdiag.toml"]))
    assert settings.run.runner == "zone-west" and settings.history.url.startswith("postgresql+psycopg://")
    assert settings.history.password_env == "CSDIAG_HISTORY_PASSWORD" and settings.history.record
    for job in docs[1:]:
        (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        env = {e["name"] for e in container["env"]}
        assert settings.history.password_env in env
        _options_exist(container["args"])
    assert "--fleet" in docs[2]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]


def test_systemd_runner_units() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(FLEET / "csdiag-runner@.service")
    argv = shlex.split(unit["Service"]["ExecStart"].replace("%i", "zone-west"))
    assert argv[0].endswith("/csdiag") and argv[1] == "triage"
    _options_exist(argv[1:])
    assert "/etc/csdiag/zone-west.toml" in argv
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(FLEET / "csdiag-runner@.timer")
    calendar = timer["Timer"]["OnCalendar"]
    if shutil.which("systemd-analyze") is None:
        unavailable("systemd-analyze not installed (apt systemd)")
    r = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Next elapse" in r.stdout, r.stderr
