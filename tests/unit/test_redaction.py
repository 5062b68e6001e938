"""Structural redaction (diagnostics.redaction) and the Secret type that cannot be serialised."""

import copy
import json
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics import bundle
from diagnostics.check import Check, Code, NoParams, RawEvidence
from diagnostics.config import Secret, parse_settings
from diagnostics.model import CheckStatus, Severity
from diagnostics.redaction import Redactor, secret_values
from diagnostics.runner import Outcome

pytestmark = pytest.mark.unit

# words and evidence keys a weak secret may be part of: keys must never change, whatever the secret
KEYS = ["public_ip", "private_keys", "private_ip", "path", "root_password", "community", "error", "message"]
secrets = st.one_of(
    st.text(min_size=4, max_size=24).filter(lambda s: s.strip() == s and s.strip()),
    st.sampled_from(["public", "private", 's3cr"et', "pässwörd", "back\\slash", "'quote'", "ip_a", "keys", "***x"]),
    st.sampled_from(KEYS).flatmap(lambda k: st.integers(0, len(k) - 4).map(lambda i: k[i : i + 4])),
)


def evidence(secret: str) -> dict:
    return {
        "public_ip": "10.0.0.5",
        "private_keys": [{"path": "/root/deploy.pem", "type": "RSA PRIVATE KEY"}],
        "leak": f"community={secret} and again {secret}",
        "nested": [{"url": f"http://admin:{secret}@proxy:3128/", "n": 3}, (f"x{secret}y",)],
        "proxy": "http://user:pw@10.1.1.1:3128",
    }


@settings(max_examples=200, deadline=None)
@given(secret=secrets)
def test_values_are_redacted_keys_never_and_twice_is_once(secret):
    r = Redactor([secret])
    data = evidence(secret)
    out = r(data)
    assert list(out) == list(data)  # keys, in order, untouched
    assert out["private_keys"][0].keys() == data["private_keys"][0].keys()
    for text in (json.dumps(out), json.dumps(out, ensure_ascii=False)):
        values = json.loads(text)
        flat = json.dumps(list(_values(values)), ensure_ascii=False)
        assert secret not in flat
        assert json.dumps(secret)[1:-1] not in json.dumps(list(_values(values)))
    assert r(out) == out  # idempotent: the bundle of redacted evidence is the evidence
    assert "pw@" not in json.dumps(out) and "@proxy:3128" in out["nested"][0]["url"]


def _values(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    else:
        yield value


def test_url_userinfo_is_always_redacted_and_a_secret_object_becomes_the_marker():
    r = Redactor()
    assert r("secstorage.proxy = http://user:p%40ss@proxy.example:3128") == (
        "secstorage.proxy = http://***@proxy.example:3128"
    )
    assert r({"s": Secret(key="k", _literal="x")}) == {"s": "***"}
    assert r(b"get ftp://u:p@h/x") == b"get ftp://***@h/x"
    assert Redactor(["a*b*"]).marker == "###"  # a marker no secret shares a character with


def test_numbers_that_are_the_secret_do_not_survive_as_numbers():
    assert Redactor(["123456"])({"community": 123456, "port": 161}) == {"community": "***", "port": 161}


def test_a_secret_cannot_be_serialised():
    s = Secret(key="email.password", _literal="hunter22")
    for dump in (pickle.dumps, json.dumps):
        with pytest.raises(TypeError):
            dump(s)
    assert "hunter22" not in repr(s) + str(s)
    assert copy.deepcopy(s) is s
    with pytest.raises(AttributeError):
        s.env = "X"  # type: ignore[misc]


def test_the_email_password_is_a_known_secret(monkeypatch):
    monkeypatch.setenv("CSDIAG_TEST_MAIL_PW", "m@il-pw")
    cfg = parse_settings(
        {
            "email": {
                "smtp_host": "127.0.0.1",
                "sender": "a@b",
                "recipients": ["c@d"],
                "username": "u",
                "password_env": "CSDIAG_TEST_MAIL_PW",
            }
        }
    )
    assert "m@il-pw" in secret_values(cfg)
    assert [s.key for s in cfg.secrets()] == ["email.password"]


CHECK = Check(
    name="demo",
    title="d",
    description="d",
    codes=(Code(code="X", severity=Severity.INFO, meaning="x"),),
    params=NoParams,
    collect=lambda ctx: RawEvidence(data={}),
    evaluate=lambda raw, p: iter(()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.sampled_from(['s3cr"et', "pässwörd", "back\\slash", "public", "private"]))
def test_the_bundle_redacts_before_serialising(tmp_path, secret):
    """Before: bytes replaced after json.dumps — `s3cr"et` survived as `s3cr\\"et`, `public` renamed `public_ip`."""
    raw = RawEvidence(data=evidence(secret), files={"a.log": f"x {secret} y\n".encode()})
    out = Outcome(check=CHECK, params=NoParams(), status=CheckStatus.COMPLETED, duration_s=0.1, raw=raw)
    path = bundle.write(tmp_path / f"b{abs(hash(secret))}", [out], config_summary={}, secrets=[secret])
    blob = b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())
    got = bundle.read(path).checks["demo"].raw
    assert set(got.data) == set(evidence(secret))
    assert secret not in json.dumps(list(_values(got.data)), ensure_ascii=False)
    assert json.dumps(secret)[1:-1].encode() not in blob.replace(b'"public_ip"', b"").replace(b'"private_keys"', b"")
    assert got.files["a.log"] == b"x *** y\n"


def test_credential_settings_keep_their_name_never_their_value():
    r = Redactor()
    rows = [
        {"name": "ldap.bind.password", "value": "Sup3r", "default_value": None, "category": "Secure"},
        {"name": "security.encryption.key", "value": "abc", "default_value": "def"},
        {"name": "secstorage.proxy", "value": "http://u:p@proxy:3128"},
        {"name": "secondary.storage.capacity.threshold", "value": "0.90", "default_value": "0.90"},
    ]
    assert r(rows) == [
        {"name": "ldap.bind.password", "value": "***", "default_value": None, "category": "Secure"},
        {"name": "security.encryption.key", "value": "***", "default_value": "***"},
        {"name": "secstorage.proxy", "value": "http://***@proxy:3128"},
        {"name": "secondary.storage.capacity.threshold", "value": "0.90", "default_value": "0.90"},
    ]
    assert r({"path": "/root/.ssh/id_rsa", "type": "RSA PRIVATE KEY"}) == {
        "path": "/root/.ssh/id_rsa",
        "type": "RSA PRIVATE KEY",
    }


def test_log_records_and_tracebacks_are_redacted(monkeypatch):
    import io
    import logging

    from diagnostics.redaction import install_log_filter

    monkeypatch.setenv("CSDIAG_TEST_MAIL_PW", "hunter2-secret")
    cfg = parse_settings(
        {
            "email": {
                "smtp_host": "127.0.0.1",
                "sender": "a@b",
                "recipients": ["c@d"],
                "username": "u",
                "password_env": "CSDIAG_TEST_MAIL_PW",
            }
        }
    )
    out = io.StringIO()
    logger = logging.getLogger("csdiag-test-redaction")
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_filter(cfg, logger)
        logger.warning("login with %s failed", "hunter2-secret")
        try:
            raise RuntimeError("server said: bad password hunter2-secret")
        except RuntimeError:
            logger.exception("send failed via smtp://u:hunter2-secret@mail:587")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "hunter2-secret" not in text
    assert "login with *** failed" in text and "RuntimeError: server said: bad password ***" in text
