"""config validate: a secret whose value occurs in another value (a switch name, a link's end) is a problem —
csdiag masks secrets wherever they occur, so the name would no longer match (the optics tests met this)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import run_cli, write_config

pytestmark = pytest.mark.unit

BODY = """
[[switches]]
name = "public-core"
host = "127.0.0.1"
platform = "arista_eos"
snmp = { community_env = "CSDIAG_T_COMMUNITY" }

[[links]]
a = "public-core:Ethernet1"
b = "spine:Ethernet2"
"""


def test_a_secret_inside_a_switch_name_is_named_without_the_secret(tmp_path):
    cfg = write_config(tmp_path / "c.toml", BODY)
    r = run_cli("config", "validate", str(cfg), env={**os.environ, "CSDIAG_T_COMMUNITY": "public"})
    assert r.returncode == 64
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and all("switches[0].snmp.community" in ln for ln in lines), r.stderr
    assert "switches[0].name" in r.stderr and "links[0].a" in r.stderr
    assert "public" not in r.stderr.replace("public-core", "")  # the value itself is never printed…
    assert "public-core" not in r.stderr  # …nor the names that contain it


def test_a_secret_that_occurs_nowhere_else_is_fine(tmp_path):
    cfg = write_config(tmp_path / "c.toml", BODY)
    r = run_cli("config", "validate", str(cfg), env={**os.environ, "CSDIAG_T_COMMUNITY": "s3cr3t-ro-7f"})
    assert r.returncode == 0, r.stderr
