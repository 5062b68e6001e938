"""`csdiag report --email` against a real SMTP server (aiosmtpd on loopback, STARTTLS, AUTH): the MIME
tree that arrives, a refused login, a server that hangs up and a retry, and only_on_change."""

import json
import re
import uuid

import pytest

from tests.conftest import ROOT, run_cli, write_config
from tests.services import free_port
from tests.services.smtp import PASSWORD, USER, smtp_server

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo bundle's run document; each use gets its own id (the history store keys runs by id)."""
    r = run_cli("triage", "--bundle", str(ROOT / "examples/demo-bundle"), "--format", "json")
    doc = json.loads(r.stdout)
    folder = tmp_path_factory.mktemp("runs")

    def make(drop_codes=()):
        d = json.loads(json.dumps(doc))
        d["run"]["id"] = uuid.uuid4().hex
        d["findings"] = [f for f in d["findings"] if f["code"] not in drop_codes]
        path = folder / f"{d['run']['id']}.json"
        path.write_text(json.dumps(d))
        return path

    return make


def config(tmp_path, smtp_port, ca_file, **email):
    lines = {
        "smtp_host": '"127.0.0.1"',
        "smtp_port": str(smtp_port),
        "security": '"starttls"',
        "username": f'"{USER}"',
        "password_env": '"CSDIAG_TEST_SMTP_PASSWORD"',
        "ca_file": f'"{ca_file}"',
        "sender": '"csdiag@example.org"',
        "recipients": '["cloud-admins@example.org", "oncall@example.org"]',
        "attempts": "3",
        "backoff_s": "0.1",
        "timeout_s": "10",
    } | {k: json.dumps(v) for k, v in email.items()}
    body = "\n".join(f"{k} = {v}" for k, v in lines.items())
    return write_config(
        tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/history.sqlite"\n\n[email]\n{body}\n'
    )


def report(tmp_path, cfg, run_file, password=PASSWORD):
    import os

    env = {**os.environ, "CSDIAG_TEST_SMTP_PASSWORD": password}
    return run_cli(
        "report", "--config", str(cfg), "--from", str(run_file), "--output", str(tmp_path / "out"), "--email", env=env
    )


def test_the_report_arrives_with_text_html_inline_charts_and_attachments(smtp, demo_run, tmp_path):
    cfg = config(tmp_path, smtp.port, smtp.ca_file)
    r = report(tmp_path, cfg, demo_run())
    assert r.returncode == 2, r.stderr  # the demo's verdict: CRITICAL
    assert "email sent to cloud-admins@example.org, oncall@example.org (1 attempt(s))" in r.stderr
    assert smtp.logins == ["ok"]
    [msg] = smtp.received
    assert re.fullmatch(r"\[csdiag\] CRITICAL — \d+ critical, \d+ warnings", msg["Subject"])
    assert msg.get_content_type() == "multipart/mixed"
    alternative, csv_part, html_part = msg.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert "Incidents:" in text.get_content() and "SSVM agent down" in text.get_content()
    assert related.get_content_type() == "multipart/related"
    html, *images = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert images and all(i.get_content_type() == "image/png" for i in images)
    body = html.get_content()
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in body  # each inline chart is referenced by its Content-ID
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png" not in body  # the mail references its parts, no inline data URIs
    assert (csv_part.get_content_type(), csv_part.get_filename()) == ("text/csv", "findings.csv")
    assert csv_part.get_content().startswith("severity,check,code,target")
    assert (html_part.get_content_type(), html_part.get_filename()) == ("text/html", "report.html")
    assert "data:image/png;base64," in html_part.get_content()  # the attached report is self-contained
    assert PASSWORD not in msg.as_string() and PASSWORD not in r.stderr


def test_a_refused_login_is_a_clear_error_and_not_retried(smtp, demo_run, tmp_path):
    cfg = config(tmp_path, smtp.port, smtp.ca_file)
    r = report(tmp_path, cfg, demo_run(), password="wrong")
    assert r.returncode == 2  # CRIT outranks the delivery failure's UNKNOWN
    assert f"email not sent: SMTP 127.0.0.1:{smtp.port} (starttls): login as 'csdiag' refused (535)" in r.stderr
    assert "retrying" not in r.stderr and not smtp.received  # smtplib tried PLAIN and LOGIN, in one session
    assert set(smtp.logins) == {"refused"}
    assert (tmp_path / "out" / "report.html").exists()  # the files are written all the same


def test_a_server_that_hangs_up_is_retried(smtp, demo_run, tmp_path):
    smtp.drop_next = 1
    cfg = config(tmp_path, smtp.port, smtp.ca_file)
    r = report(tmp_path, cfg, demo_run())
    assert "attempt 1 failed" in r.stderr and "retrying in 0.1 s" in r.stderr
    assert "(2 attempt(s))" in r.stderr
    assert len(smtp.received) == 1


def test_nobody_listening_gives_up_after_the_attempts(demo_run, tmp_path):
    cfg = config(tmp_path, free_port(), tmp_path / "none.pem", attempts=2, security="none", username=None)
    cfg.write_text(
        cfg.read_text().replace("username = null\n", "").replace('password_env = "CSDIAG_TEST_SMTP_PASSWORD"\n', "")
    )
    r = report(tmp_path, cfg, demo_run())
    assert r.returncode == 2
    assert "attempt 1 failed" in r.stderr and "email not sent" in r.stderr and "Connection refused" in r.stderr


def test_only_on_change_skips_a_report_with_nothing_new(smtp, demo_run, tmp_path):
    cfg = config(tmp_path, smtp.port, smtp.ca_file, only_on_change=True)
    assert report(tmp_path, cfg, demo_run()).returncode == 2  # first run: everything is new
    r = report(tmp_path, cfg, demo_run())
    assert "email not sent: nothing new or resolved" in r.stderr
    r = report(tmp_path, cfg, demo_run(drop_codes=("SSVM_MISSING",)))  # one problem resolved
    assert "email sent" in r.stderr
    assert len(smtp.received) == 2
    assert "Resolved since the previous run:" in smtp.received[1].get_body(("plain",)).get_content()
