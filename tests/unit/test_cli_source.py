"""``--source db|api|auto`` on triage, gate and collect: it replaces ``[cloudstack] source``; a source the
configuration does not describe is a usage error that names the file and the missing section."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from tests.conftest import ROOT, run_cli

API_ONLY = """
[cloudstack.api]
endpoint = "http://127.0.0.1:{port}/client/api"
api_key = "k"
secret_key_env = "CSDIAG_TEST_API_SECRET"
timeout_s = 2
"""


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "CSDIAG_TEST_API_SECRET": "not-a-real-secret"}


def test_a_source_the_config_lacks_is_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(API_ONLY.format(port=_closed_port()), encoding="utf-8")
    for command, code in (("triage", 64), ("gate", 2)):
        r = run_cli(command, "--config", str(cfg), "--source", "db", "--only", "platform", env=_env(), cwd=tmp_path)
        assert r.returncode == code, (command, r.stdout, r.stderr)
        assert f"--source db: {cfg} has no [cloudstack.database] section" in r.stderr
    r = run_cli("collect", "-o", str(tmp_path / "b"), "--config", str(cfg), "--source", "db", env=_env(), cwd=tmp_path)
    assert r.returncode == 64 and "[cloudstack.database]" in r.stderr
    r = run_cli("triage", "--source", "bogus", cwd=tmp_path)
    assert r.returncode == 64 and "'bogus' is not one of 'db', 'api', 'auto'" in r.stderr


def test_source_and_bundle_exclude_each_other(tmp_path: Path) -> None:
    bundle = str(ROOT / "examples/demo-bundle")
    r = run_cli("triage", "--bundle", bundle, "--source", "api", cwd=tmp_path)
    assert r.returncode == 64 and "a bundle replays what it recorded" in r.stderr
    r = run_cli("gate", "--bundle", bundle, "--source", "db", cwd=tmp_path)
    assert r.returncode == 2 and "a bundle replays what it recorded" in r.stderr


def test_source_api_reaches_the_checks_and_the_run_says_so(tmp_path: Path) -> None:
    """With only the API configured, --source api makes the platform check ask the API (here a closed
    port: an UNKNOWN finding naming the endpoint, never a database finding), and the run's configuration
    summary records the source used."""
    port = _closed_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(API_ONLY.format(port=port), encoding="utf-8")
    r = run_cli("triage", "--config", str(cfg), "--source", "api", "--only", "platform", "-f", "json", env=_env())
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    codes = {f["code"] for f in doc["findings"]}
    assert codes and not any(c.startswith("DB_") for c in codes), codes
    assert any(f"127.0.0.1:{port}" in f["target"] for f in doc["findings"]), doc["findings"]
    assert "not-a-real-secret" not in r.stdout + r.stderr
