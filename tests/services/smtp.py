"""An SMTP server on loopback (aiosmtpd) that keeps what it receives: STARTTLS with a self-signed
certificate made here, AUTH LOGIN/PLAIN against one user, and a switch that makes the next N MAIL
commands answer ``421`` and close the connection (a server going away mid-session)."""

from __future__ import annotations

import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from tests.services import free_port, unavailable

USER, PASSWORD = "csdiag", "s3cret-smtp"


@dataclass
class Smtp:
    port: int
    ca_file: Path
    received: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    drop_next: int = 0  # answer 421 (and hang up) to this many MAIL commands

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.drop_next > 0:
            self.drop_next -= 1
            return "421 4.3.2 service shutting down, try later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(BytesParser(policy=policy.default).parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 Message accepted"


def _authenticator(smtp: Smtp) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        smtp.logins.append("ok" if ok else "refused")
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server() -> Iterator[Smtp]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        unavailable("aiosmtpd not installed (pip install -e '.[test]')")
    root = Path(tempfile.mkdtemp(prefix="csdiag-smtp-"))
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Smtp(port=free_port(), ca_file=cert)
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator(server),
        auth_required=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
