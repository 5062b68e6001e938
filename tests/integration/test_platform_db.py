"""The platform check against a real MariaDB: versions, failures, the read-only session, bundles."""

import json

import pymysql
import pytest

from diagnostics.config import parse_settings
from diagnostics.sources import database
from diagnostics.sources.errors import NotPermitted
from tests.conftest import db_config, run_cli, write_config
from tests.services import free_port
from tests.services.mariadb import READER_PASSWORD

pytestmark = pytest.mark.integration


def triage_json(cfg, env, *extra):
    r = run_cli("triage", "--config", str(cfg), "--only", "platform", "--format", "json", *extra, env=env)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return r, json.loads(r.stdout)


def test_version_4_17_is_unsupported(mariadb, cloud_db, tmp_path, db_env):
    mariadb.set_version(cloud_db, "4.16.1.0", "4.17.2.0")
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db))
    r, doc = triage_json(cfg, db_env)
    [f] = doc["findings"]
    assert (f["code"], f["severity"]) == ("VERSION_UNSUPPORTED", "CRIT")
    assert "4.17.2.0" in f["summary"]
    assert r.returncode == 2


def test_version_4_18_is_info(mariadb, cloud_db, tmp_path, db_env):
    mariadb.set_version(cloud_db, "4.17.2.0", "4.18.1.0")
    mariadb.execute("INSERT INTO version (version, updated, step) VALUES ('4.19.0.0', NOW(), 'Upgrade')", cloud_db)
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db))
    r, doc = triage_json(cfg, db_env)
    [f] = doc["findings"]
    assert (f["code"], f["severity"]) == ("CLOUDSTACK_VERSION", "INFO")
    assert "4.18.1.0" in f["summary"]  # the Complete row with the highest id, not the unfinished upgrade
    assert f["evidence"][0]["kind"] == "row" and "SELECT id, version" in f["evidence"][0]["source"]
    assert r.returncode == 0
    assert doc["run"]["config"]["database"]["password"] == "env:CSDIAG_TEST_DB_PASSWORD"
    assert READER_PASSWORD not in r.stdout + r.stderr


def test_session_cannot_write_even_with_write_grants(mariadb, cloud_db):
    """Connect as root (all privileges): the csdiag session still cannot write."""
    mariadb.set_version(cloud_db, "4.18.0.0")
    with mariadb.connect(cloud_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT version, step FROM version ORDER BY id")
        before = cur.fetchall()
    settings = parse_settings(
        {"cloudstack": {"database": {"port": mariadb.port, "user": "root", "database": cloud_db}}}
    )
    with database.connect(settings.cloudstack.database, timeout_s=10) as db:
        with pytest.raises(NotPermitted, match="only reads"):
            db.rows("DELETE FROM version")
        with pytest.raises(NotPermitted, match="read only"):  # the server refuses it too (error 1792)
            db._execute("INSERT INTO version (version, updated, step) VALUES ('9.9', NOW(), 'Complete')")
        with pytest.raises(NotPermitted):
            db._execute("UPDATE version SET step = 'Upgrade'")
    with mariadb.connect(cloud_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT version, step FROM version ORDER BY id")
        assert cur.fetchall() == before
    assert before[-1] == ("4.18.0.0", "Complete")


def test_wrong_password_and_unreachable(mariadb, cloud_db, tmp_path, db_env):
    env = {**db_env, "CSDIAG_TEST_DB_PASSWORD": "wrong-password-123"}
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db))
    r, doc = triage_json(cfg, env)
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("DB_AUTH_FAILED", "UNKNOWN")]
    assert "wrong-password-123" not in r.stdout + r.stderr
    assert r.returncode == 3

    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db, port=free_port()))
    r, doc = triage_json(cfg, db_env)
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("DB_UNREACHABLE", "UNKNOWN")]
    assert r.returncode == 3


def test_missing_secret_is_a_config_error(mariadb, cloud_db, tmp_path, db_env):
    env = {k: v for k, v in db_env.items() if k != "CSDIAG_TEST_DB_PASSWORD"}
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db))
    r = run_cli("triage", "--config", str(cfg), "--only", "platform", env=env)
    assert r.returncode == 64
    assert r.stderr.strip() == (
        f"csdiag: error: {cfg}: cloudstack.database.password_env: "
        "environment variable CSDIAG_TEST_DB_PASSWORD is not set"
    )
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("version", ["4.17.2.0", "4.18.1.0"])
def test_bundle_replay_gives_the_same_findings(mariadb, cloud_db, tmp_path, db_env, version):
    mariadb.set_version(cloud_db, version)
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db))
    _, live = triage_json(cfg, db_env)
    bundle = tmp_path / "b.tar.gz"
    r = run_cli("collect", "--config", str(cfg), "--only", "platform", "--output", str(bundle), env=db_env)
    assert r.returncode == 0, r.stderr
    # replay anywhere: no config, no database, no password
    env = {k: v for k, v in db_env.items() if k != "CSDIAG_TEST_DB_PASSWORD"}
    r = run_cli("triage", "--bundle", str(bundle), "--format", "json", env=env, cwd=tmp_path)
    replayed = json.loads(r.stdout)
    assert replayed["findings"] == live["findings"]
    assert replayed["run"]["source"] == f"bundle:{bundle}"
    import tarfile

    with tarfile.open(bundle) as tar:
        blob = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert READER_PASSWORD.encode() not in blob


def test_bundle_replays_a_collect_failure(mariadb, cloud_db, tmp_path, db_env):
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, cloud_db, port=free_port()))
    _, live = triage_json(cfg, db_env)
    r = run_cli("collect", "--config", str(cfg), "--only", "platform", "--output", str(tmp_path / "b"), env=db_env)
    assert r.returncode == 0, r.stderr
    r = run_cli("triage", "--bundle", str(tmp_path / "b"), "--format", "json", env=db_env, cwd=tmp_path)
    assert json.loads(r.stdout)["findings"] == live["findings"]


def test_reader_account_is_select_only(mariadb, cloud_db):
    """The test account mirrors the recommended SELECT-only grant."""
    with (
        pymysql.connect(
            host="127.0.0.1", port=mariadb.port, user="csdiag", password=READER_PASSWORD, database=cloud_db
        ) as conn,
        conn.cursor() as cur,
        pytest.raises(pymysql.err.OperationalError),
    ):
        cur.execute("INSERT INTO version (version, updated, step) VALUES ('1', NOW(), 'x')")
