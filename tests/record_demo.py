"""Record the demo bundle with `csdiag collect` against the integration-test services.

    python -m tests.record_demo examples/demo-bundle

Each check's integration environment contributes its part: the demo site is seeded here with the
same fixtures the integration tests use, then one `csdiag collect` gathers the evidence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import db_config
from tests.services.mariadb import READER_PASSWORD, MariaDB, mariadb_server


def seed_platform(server: MariaDB, database: str) -> None:
    """An installation upgraded 4.17 → 4.18, with a 4.19 upgrade that never finished."""
    server.set_version(database, "4.17.2.0", "4.18.1.0")
    server.execute("INSERT INTO version (version, updated, step) VALUES ('4.19.0.0', NOW(), 'Upgrade')", database)


def main(out: Path) -> None:
    with mariadb_server() as server, tempfile.TemporaryDirectory() as tmp:
        database = server.create_cloud_db("cloud")
        seed_platform(server, database)
        cfg = Path(tmp) / "csdiag.toml"
        cfg.write_text(db_config(server, database))
        if out.exists():
            shutil.rmtree(out)
        env = {**os.environ, "CSDIAG_TEST_DB_PASSWORD": READER_PASSWORD}
        subprocess.run(
            [sys.executable, "-m", "diagnostics.cli", "collect", "--config", str(cfg), "--output", str(out)],
            check=True,
            env=env,
            timeout=300,
        )
    print(f"demo bundle recorded in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/demo-bundle"))
