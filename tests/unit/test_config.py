from pathlib import Path

import pytest

from diagnostics.config import ConfigError, key_path, load_settings, parse_settings
from diagnostics.engine import validate_settings
from diagnostics.registry import Registry
from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.unit


def test_defaults_when_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    s = load_settings(None)
    assert s.path is None and s.run.check_timeout_s == 60 and s.cloudstack.database is None


def test_explicit_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "body, key, problem",
    [
        ("[run]\ncheck_timeout = 5\n", "run.check_timeout", "unknown key"),
        ("[run]\ncheck_timeout_s = 'soon'\n", "run.check_timeout_s", "valid number"),
        ("[run]\ncheck_timeout_s = -1\n", "run.check_timeout_s", "greater than 0"),
        ("[cloudstack.database]\nport = 70000\n", "cloudstack.database.port", "less than or equal"),
        (
            "[cloudstack.database]\npassword_env = 'A'\npassword_file = '/x'\n",
            "cloudstack.database",
            "only one of password_env, password_file",
        ),
        ("[bogus]\nx = 1\n", "bogus", "unknown key"),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path, body, key, problem):
    f = write_config(tmp_path / "c.toml", body)
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert e.value.file == str(f)
    assert e.value.key == key
    assert problem in e.value.message
    assert str(e.value).startswith(f"{f}: {key}: ")


def test_invalid_toml(tmp_path):
    f = write_config(tmp_path / "c.toml", "[run\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(f)


def test_key_path_formatting():
    assert key_path(("switches", 2, "snmp", "version")) == "switches[2].snmp.version"


def test_literal_secret_refused_in_readable_file(tmp_path):
    f = write_config(tmp_path / "c.toml", "[cloudstack.database]\npassword = 'hunter22'\n")
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert e.value.key == "cloudstack.database.password"
    assert "can be read by others" in str(e.value)
    assert "hunter22" not in str(e.value)


def test_literal_secret_accepted_in_private_file(tmp_path):
    f = write_config(tmp_path / "c.toml", "[cloudstack.database]\npassword = 'hunter22'\n", private=True)
    s = load_settings(f)
    secret = s.cloudstack.database.password_secret()
    assert secret.reveal() == "hunter22"
    assert "hunter22" not in repr(s) + str(secret) + repr(secret) + str(s.summary())


def test_secret_from_env_and_file(tmp_path, monkeypatch):
    pw = tmp_path / "db.pass"
    pw.write_text("from-file\n")
    s = parse_settings({"cloudstack": {"database": {"password_file": str(pw)}}})
    assert s.cloudstack.database.password_secret().reveal() == "from-file"
    s = parse_settings({"cloudstack": {"database": {"password_env": "CSDIAG_T_PW"}}})
    monkeypatch.delenv("CSDIAG_T_PW", raising=False)
    with pytest.raises(ConfigError, match="CSDIAG_T_PW is not set"):
        s.verify_secrets()
    monkeypatch.setenv("CSDIAG_T_PW", "from-env")
    assert s.cloudstack.database.password_secret().reveal() == "from-env"
    assert s.summary()["database"]["password"] == "env:CSDIAG_T_PW"


def test_unreadable_secret_file(tmp_path):
    s = parse_settings({"cloudstack": {"database": {"password_file": str(tmp_path / "missing")}}}, file=Path("x.toml"))
    with pytest.raises(ConfigError) as e:
        s.verify_secrets()
    assert str(e.value).startswith("x.toml: cloudstack.database.password_file: cannot read secret file")


def test_check_params_validated_against_the_check(tmp_path):
    registry = Registry.from_entry_points()
    f = write_config(tmp_path / "c.toml", "[thresholds.platform]\nmin_versoin = '4.18'\n")
    with pytest.raises(ConfigError) as e:
        validate_settings(load_settings(f), registry)
    assert e.value.key == "thresholds.platform.min_versoin"
    f = write_config(tmp_path / "c.toml", "[thresholds.nosuch]\nx = 1\n")
    with pytest.raises(ConfigError, match="no check named 'nosuch'"):
        validate_settings(load_settings(f), registry)
    f = write_config(tmp_path / "c.toml", "[thresholds.platform]\nmin_version = 'four'\n")
    with pytest.raises(ConfigError, match="not a version number"):
        validate_settings(load_settings(f), registry)


def test_example_config_is_valid(monkeypatch):
    monkeypatch.setenv("CSDIAG_DB_PASSWORD", "x")
    s = load_settings(ROOT / "config.example.toml")
    validate_settings(s, Registry.from_entry_points())
    s.verify_secrets()


def test_config_validate_checks_the_email_password(tmp_path, monkeypatch):
    """Before: `config validate` did not read the e-mail password, so a missing one surfaced only at send."""
    from tests.conftest import run_cli, write_config

    monkeypatch.delenv("CSDIAG_NO_SUCH_MAIL_PW", raising=False)
    cfg = write_config(
        tmp_path / "c.toml",
        '[email]\nsmtp_host = "127.0.0.1"\nsender = "a@example.org"\nrecipients = ["b@example.org"]\n'
        'username = "u"\npassword_env = "CSDIAG_NO_SUCH_MAIL_PW"\n',
    )
    r = run_cli("config", "validate", str(cfg))
    assert r.returncode == 64, r.stderr
    assert "email.password_env" in r.stderr and "CSDIAG_NO_SUCH_MAIL_PW" in r.stderr
