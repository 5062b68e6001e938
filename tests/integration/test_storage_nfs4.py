"""An NFSv4-only server (ganesha with Protocols = 4): it answers NULL on 2049 and nothing else the
protocol probe needs; the check says so and points at the other modes. Its own module: one ganesha with
rpcbind at a time (rpcbind's socket lives in /run, shared by every namespace)."""

import json

import pytest

from tests.conftest import run_cli, write_config
from tests.services.ganesha import Export, ganesha
from tests.services.netns import topology

pytestmark = pytest.mark.integration


def test_nfs4_only_server(tmp_path):
    export = tmp_path / "v4"
    export.mkdir()
    with topology() as t, ganesha(t, [Export(export)], protocols="4") as server:
        cfg = write_config(
            tmp_path / "c.toml",
            f'[[storage]]\nurl = "nfs://127.0.0.1{export}"\nmodes = ["protocol"]\nlargest_template_bytes = 1\n'
            "[thresholds.storage]\nprobe_timeout_s = 3\n",
        )
        r = run_cli("triage", "--config", str(cfg), "--only", "storage", "--format", "json", netns=server.netns)
    [finding] = json.loads(r.stdout)["findings"]
    assert (finding["code"], finding["severity"]) == ("NFS_V4_ONLY", "INFO")
    assert "mounted or ssvm mode" in finding["summary"]
    steps = [s["step"] for s in finding["evidence"][0]["data"]["steps"]]
    assert steps[-1] == "NFSv4 NULL"
