"""node_exporter (textfile collector only) and Prometheus (Debian ``prometheus-node-exporter``,
``prometheus``) on loopback, Prometheus scraping node_exporter every second and evaluating the rule files
it is given; a query helper for its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.services import free_port, stop, unavailable

NODE_EXPORTER = "prometheus-node-exporter"
PROMETHEUS = "prometheus"


@dataclass
class Stack:
    textfile_dir: Path
    node_port: int
    prom_port: int

    def api(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.prom_port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310  (http on loopback, built here)
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def wait(self, expr: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """The result of ``expr`` once it is not empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.5)
        raise AssertionError(f"{expr} stayed empty for {timeout_s} s")

    def node_metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.node_port}/metrics", timeout=5) as r:
            return str(r.read().decode())


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            unavailable(f"{what} exited {proc.returncode}: {err[-800:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310  (http on loopback, built here)
                return
        except OSError:
            time.sleep(0.1)
    unavailable(f"{what} did not answer {url} within {timeout_s} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    stop(proc)
    if proc.stderr:
        proc.stderr.close()


@contextmanager
def prometheus_stack(rule_files: Sequence[Path] = ()) -> Iterator[Stack]:
    for binary in (NODE_EXPORTER, PROMETHEUS):
        if shutil.which(binary) is None:
            unavailable(f"{binary} not installed (apt prometheus prometheus-node-exporter)")
    with tempfile.TemporaryDirectory(prefix="csdiag-prom-") as tmp:
        d = Path(tmp)
        textfiles = d / "textfile"
        textfiles.mkdir()
        node_port, prom_port = free_port(), free_port()
        node = subprocess.Popen(
            [
                NODE_EXPORTER,
                "--collector.disable-defaults",
                "--collector.textfile",
                f"--collector.textfile.directory={textfiles}",
                f"--web.listen-address=127.0.0.1:{node_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_http(f"http://127.0.0.1:{node_port}/metrics", node, "node_exporter")
            rules = []
            for r in rule_files:
                shutil.copy(r, d / r.name)
                rules.append(r.name)
            (d / "prometheus.yml").write_text(
                json.dumps(  # JSON is YAML
                    {
                        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                        "rule_files": rules,
                        "scrape_configs": [
                            {"job_name": "node", "static_configs": [{"targets": [f"127.0.0.1:{node_port}"]}]}
                        ],
                    }
                )
            )
            prom = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={d / 'prometheus.yml'}",
                    f"--storage.tsdb.path={d / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd=d,
            )
            try:
                _wait_http(f"http://127.0.0.1:{prom_port}/-/ready", prom, "prometheus", timeout_s=30)
                yield Stack(textfiles, node_port, prom_port)
            finally:
                _stop(prom)
        finally:
            _stop(node)
