"""How fast is the ``templates`` check on a big installation?

Starts a throwaway MariaDB (tests/services) with CloudStack 4.22's real schema (its own indexes:
tests/services/cloudstack_schema/4.22.sql), loads 1 000 000 ``template_store_ref`` rows
(20 000 templates × 50 image stores in 5 zones) with a few hundred bad ones, then times the check's
collect + evaluate, in-process and as ``csdiag triage --only templates`` (with its peak RSS). The
baselines, measured in the same run on the same data: ``SELECT COUNT(*)`` (InnoDB counts through its
smallest index) and one filtered pass over the full rows, the least any exact answer must read.

    .venv/bin/python bench/templates.py [rows]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics import engine  # noqa: E402
from diagnostics.config import parse_settings  # noqa: E402
from diagnostics.registry import Registry  # noqa: E402
from tests.services.mariadb import READER_PASSWORD, READER_USER, mariadb_server  # noqa: E402

TEMPLATES = 20_000
ZONES = 5


def load(server, db: str, rows: int) -> int:
    stores = max(1, rows // TEMPLATES)
    statements = [
        f"INSERT INTO data_center (id, name, uuid, dns1, internal_dns1, networktype, allocation_state) "
        f"SELECT seq, CONCAT('zone-', seq), UUID(), '192.0.2.53', '192.0.2.53', 'Advanced', 'Enabled' "
        f"FROM seq_1_to_{ZONES}",
        f"INSERT INTO cluster (name, uuid, pod_id, data_center_id, hypervisor_type) "
        f"SELECT CONCAT('kvm-', seq), UUID(), 1, seq, 'KVM' FROM seq_1_to_{ZONES}",
        f"INSERT INTO image_store (id, name, uuid, image_provider_name, protocol, url, data_center_id, scope, role, "
        f"created) SELECT seq, CONCAT('nfs-', seq), UUID(), 'NFS', 'nfs', CONCAT('nfs://10.0.0.', seq, "
        f"'/export/secondary'), 1 + (seq - 1) MOD {ZONES}, 'ZONE', 'Image', '2024-01-01' FROM seq_1_to_{stores}",
        # the default templates of setup/db/templates.sql (ids 1–12) are already there: ours start at 101
        f"INSERT INTO vm_template (id, unique_name, name, uuid, public, featured, type, hvm, bits, format, created, "
        f"account_id, checksum, guest_os_id, cross_zones, hypervisor_type, size, state) SELECT 100 + seq, "
        f"CONCAT(100 + seq, '-2-x'), CONCAT('tmpl-', seq), UUID(), 1, 0, 'USER', 1, 64, 'QCOW2', '2024-01-01', 2, "
        f"CONCAT('{{SHA-256}}', SHA2(seq, 256)), 1, 1, 'KVM', 10737418240, 'Active' FROM seq_1_to_{TEMPLATES}",
        # the default KVM system and builtin templates on every store, as template sync leaves them
        "INSERT INTO template_store_ref (template_id, store_id, created, last_updated, download_pct, size, "
        "physical_size, store_role, download_state, error_str, install_path, state, destroyed) "
        "SELECT t.id, s.id, '2024-01-01', UTC_TIMESTAMP(), 100, 10737418240, 2147483648, 'Image', 'DOWNLOADED', "
        "'Install completed successfully', CONCAT('template/tmpl/1/', t.id), 'Ready', 0 FROM vm_template t "
        "JOIN image_store s WHERE t.removed IS NULL AND t.hypervisor_type = 'KVM' AND t.type IN ('SYSTEM', 'BUILTIN')",
        f"INSERT INTO template_store_ref (template_id, store_id, created, last_updated, download_pct, size, "
        f"physical_size, store_role, download_state, error_str, install_path, state, destroyed) "
        f"SELECT 101 + (seq - 1) MOD {TEMPLATES}, 1 + (seq - 1) DIV {TEMPLATES}, '2024-01-01', UTC_TIMESTAMP(), 100, "
        f"10737418240, 2147483648, 'Image', 'DOWNLOADED', 'Install completed successfully', "
        f"CONCAT('template/tmpl/2/', seq), 'Ready', 0 FROM seq_1_to_{rows}",
        # a few hundred bad rows: stalled, stuck, failed, size 0
        "UPDATE template_store_ref SET download_state = 'DOWNLOAD_IN_PROGRESS', download_pct = 40, state = 'Creating', "
        "last_updated = UTC_TIMESTAMP() - INTERVAL 3 HOUR WHERE id MOD 9973 = 1",
        "UPDATE template_store_ref SET download_state = 'DOWNLOAD_ERROR', state = 'Allocated', "
        "error_str = 'Timeout waiting for response from storage host' WHERE id MOD 9973 = 2",
        "UPDATE template_store_ref SET size = 0 WHERE id MOD 9973 = 3",
        "UPDATE template_store_ref SET destroyed = 1 WHERE id MOD 9973 = 4",  # → missing on that store
        "ANALYZE TABLE template_store_ref",
    ]
    server.execute(statements, database=db)
    return stores


def _timed_child(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one child process, measured with wait4 for that child alone."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped by wait4 above
    return time.perf_counter() - t, usage.ru_maxrss / 1024


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with mariadb_server(buffer_pool="1G") as server:
        db = server.create_cloud_db("cloud", version="4.22")
        t0 = time.perf_counter()
        stores = load(server, db, rows)
        print(
            f"loaded {rows:,} template_store_ref rows ({TEMPLATES:,} templates × {stores} stores) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        settings = parse_settings(
            {
                "cloudstack": {
                    "database": {"port": server.port, "user": READER_USER, "password_env": "BENCH_PW", "database": db}
                },
                "run": {"check_timeout_s": 600},
            }
        )
        os.environ["BENCH_PW"] = READER_PASSWORD
        registry = Registry.from_entry_points()

        with server.connect(db) as conn, conn.cursor() as cur:
            base, scan = [], []
            for _ in range(3):
                t = time.perf_counter()
                cur.execute("SELECT COUNT(*) FROM template_store_ref")
                cur.fetchall()
                base.append(time.perf_counter() - t)
                t = time.perf_counter()
                cur.execute("SELECT COUNT(*) FROM template_store_ref WHERE destroyed = 0 AND download_state <> 'X'")
                cur.fetchall()
                scan.append(time.perf_counter() - t)
        times, findings = [], 0
        for _ in range(3):
            t = time.perf_counter()
            run, outcomes = engine.collect_and_evaluate(settings, registry, ["templates"])
            times.append(time.perf_counter() - t)
            findings = len(run.findings)
            assert outcomes[0].status.value == "completed", outcomes[0].error
        by_code: dict[str, int] = {}
        for f in run.findings:
            by_code[f.code] = by_code.get(f.code, 0) + 1

        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "c.toml"
            cfg.write_text(
                f"[run]\ncheck_timeout_s = 600\n[cloudstack.database]\nport = {server.port}\n"
                f'user = "{READER_USER}"\npassword_env = "BENCH_PW"\ndatabase = "{db}"\n'
            )
            out = Path(tmp) / "out.json"
            csdiag = str(Path(sys.executable).with_name("csdiag"))
            cli_time, peak_mb = _timed_child(
                [
                    csdiag,
                    "triage",
                    "--config",
                    str(cfg),
                    "--only",
                    "templates",
                    "--format",
                    "json",
                    "--output",
                    str(out),
                ]
            )
            assert len(json.loads(out.read_text())["findings"]) == findings
            _, idle_mb = _timed_child([csdiag, "checks"])

    print(
        f"baseline  SELECT COUNT(*) (smallest index):  best {min(base):.3f} s  "
        f"(runs: {', '.join(f'{x:.3f}' for x in base)})"
    )
    print(
        f"baseline  one filtered full-row scan:        best {min(scan):.3f} s  "
        f"(runs: {', '.join(f'{x:.3f}' for x in scan)})"
    )
    print(
        f"templates check, collect+evaluate:   best {min(times):.3f} s  (runs: {', '.join(f'{x:.3f}' for x in times)})"
        f"  → {min(times) / min(scan):.1f}× one full-row scan"
    )
    print(
        f"csdiag triage --only templates (CLI, one run): {cli_time:.3f} s, peak RSS {peak_mb:.0f} MB "
        f"(csdiag checks, no data: {idle_mb:.0f} MB)"
    )
    print(f"findings: {findings} ({', '.join(f'{k} {v}' for k, v in sorted(by_code.items()))})")


if __name__ == "__main__":
    main()
