"""A check shipped in a separate distribution registers through the entry point and runs; broken
ones are reported with their name and distribution and do not stop the others."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(ROOT / "tests/data/plugin_dist"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{ROOT}"}


def test_plugin_is_listed_and_problems_named(plugin_env):
    r = run_cli("checks", "--format", "json", env=plugin_env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    by = {c["name"]: c for c in doc["checks"]}
    assert {"platform", "hello"} <= set(by)
    assert by["hello"]["origin"] == "csdiag-hello-plugin 1.2.3"
    assert by["hello"]["codes"] == [{"code": "HELLO", "severity": "INFO", "meaning": "the plugin ran"}]
    problems = {p["name"]: p for p in doc["problems"]}
    assert problems["broken"]["distribution"] == "csdiag-hello-plugin 1.2.3"
    assert "needs libfoo" in problems["broken"]["reason"]
    assert "not a csdiag Check" in problems["notacheck"]["reason"]


def test_plugin_runs_and_broken_ones_become_findings(plugin_env, tmp_path):
    r = run_cli("triage", "--only", "hello", "--format", "json", env=plugin_env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [f["code"] for f in json.loads(r.stdout)["findings"]] == ["HELLO"]

    r = run_cli("triage", "--format", "json", env=plugin_env, cwd=tmp_path)
    doc = json.loads(r.stdout)
    codes = sorted((f["check"], f["code"], f["target"]) for f in doc["findings"])
    assert ("engine", "PLUGIN_BROKEN", "plugin:broken") in codes
    assert ("engine", "PLUGIN_BROKEN", "plugin:notacheck") in codes
    assert ("hello", "HELLO") in {(c, k) for c, k, _ in codes}
    assert ("platform", "DB_NOT_CONFIGURED") in {(c, k) for c, k, _ in codes}
    assert r.returncode == 3  # UNKNOWN is the worst
