"""Sending mail over SMTP: STARTTLS, implicit TLS or plain, with authentication, a timeout on every
network step, and retries with exponential backoff for failures that may pass (connection refused or
dropped, 4xx answers). A refused login or a 5xx answer is final: retrying would not change it."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING

from diagnostics.sources import deadline
from diagnostics.sources.errors import AuthFailed, ProtocolError, SourceError, Timeout, Unreachable

if TYPE_CHECKING:
    from diagnostics.config import EmailSettings


def _context(settings: EmailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


class _Smtp(smtplib.SMTP):
    """smtplib with the DNS lookup and connect bounded (diagnostics.sources.deadline); every later read
    and write has the socket timeout smtplib sets."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return deadline.connect_tcp(host, port, timeout)


class _SmtpSsl(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = deadline.connect_tcp(host, port, timeout)
        try:
            return self.context.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise


def _once(settings: EmailSettings, msg: EmailMessage, password: str | None) -> None:
    host, port, timeout = settings.smtp_host, settings.port, settings.timeout_s
    client: smtplib.SMTP
    if settings.security == "tls":
        client = _SmtpSsl(host, port, timeout=timeout, context=_context(settings))
    else:
        client = _Smtp(host, port, timeout=timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=_context(settings))
            client.ehlo()
        if settings.username:
            client.login(settings.username, password or "")
        client.send_message(msg)


def send(
    settings: EmailSettings,
    msg: EmailMessage,
    password: str | None,
    *,
    log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Deliver ``msg``; returns the attempts it took. Raises a SourceError saying why it could not."""
    where = f"SMTP {settings.smtp_host}:{settings.port} ({settings.security})"
    for attempt in range(1, settings.attempts + 1):
        try:
            _once(settings, msg, password)
            return attempt
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(f"{where}: login as {settings.username!r} refused ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ProtocolError(f"{where}: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            error: SourceError = ProtocolError(f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}")
            if exc.smtp_code < 400 or exc.smtp_code >= 500:
                raise error from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ProtocolError(f"{where}: recipients refused: {', '.join(exc.recipients)}") from None
        except ssl.SSLError as exc:
            raise ProtocolError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except (Timeout, TimeoutError) as exc:  # silent DNS, connect or answer: may pass, so retried
            error = Timeout(f"{where}: no answer within {settings.timeout_s:g} s ({exc})")
        except SourceError as exc:  # from the bounded connect: does not resolve, refused
            error = exc
        except (smtplib.SMTPException, OSError) as exc:
            error = Unreachable(f"{where}: {exc.__class__.__name__}: {exc}")
        if attempt < settings.attempts:
            delay = settings.backoff_s * 2 ** (attempt - 1)
            log(f"attempt {attempt} failed ({error}); retrying in {delay:g} s")
            sleep(delay)
    raise error


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
