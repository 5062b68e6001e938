"""CloudStack's HTTP API as a source, on the ``cs`` client (PyPI ``cs`` 5.x).

Every request is signed with signature version 3 and an ``expires`` stamp, and is bounded by the
smaller of ``timeout_s`` and what is left of the caller's deadline. Answers are translated into the
source error tree:

* 401 (a wrong key or signature, an expired request) → :class:`AuthFailed`
* 432 (the key's role may not call this command) → :class:`NotPermitted`
* 430/431 (a parameter CloudStack refuses) → :class:`ProtocolError` naming the command
* 530 and any other error code → :class:`ProtocolError` with CloudStack's ``errortext``
* a reply that is not CloudStack JSON (a proxy's HTML page) → :class:`ProtocolError`
* refused / no route / DNS → :class:`Unreachable`; no answer in time → :class:`Timeout`

Lists are read page by page with an explicit ``pagesize``; a cloud whose ``default.page.size`` is
lower refuses it ("Page size can't exceed max allowed page size value: N", BaseListCmd at CloudStack
b0601e5478) and the client continues with N. Only list and query calls are retried, and only for
connection errors. Async jobs (``runDiagnostics``) are polled with ``queryAsyncJobResult`` until the
deadline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from cs import CloudStack, CloudStackApiException, CloudStackException

from diagnostics.config import ApiSettings
from diagnostics.sources.errors import (
    AuthFailed,
    NotPermitted,
    ProtocolError,
    SourceError,
    Timeout,
    Unreachable,
)

_PAGE_LIMIT_RE = re.compile(r"max allowed page size value: (-?\d+)")
_RETRIED = ("list", "query")
_POLL_S = 0.5
# CloudStack's job states (AsyncJob.Status / JobInfo): 0 pending, 1 succeeded, 2 failed.
_PENDING, _SUCCEEDED = 0, 1


@dataclass(frozen=True)
class Diagnostics:
    """What ``runDiagnostics`` ran on a system VM (``RunDiagnosticsResponse``)."""

    command: str
    exitcode: int | None
    stdout: str
    stderr: str
    elapsed_s: float


def target_of(settings: ApiSettings) -> str:
    """How the API is named in findings (the endpoint; never a key)."""
    return settings.endpoint


class CloudStackApi:
    """One signed session against one management server, bounded by ``deadline`` (monotonic)."""

    def __init__(self, settings: ApiSettings, deadline: float, *, retries: int = 2) -> None:
        self.settings = settings
        self.deadline = deadline
        self.retries = retries
        self.page_size = settings.page_size
        verify: bool | str = settings.ca_file or settings.verify_tls
        self._client = CloudStack(
            endpoint=settings.endpoint,
            key=settings.api_key,
            secret=settings.secret_key_secret().reveal(),
            timeout=int(settings.timeout_s),
            verify=verify,
            dangerous_no_tls_verify=not settings.verify_tls,
            expiration=timedelta(seconds=settings.expires_s),
            retry=0,
        )

    # -- plain calls ---------------------------------------------------------------------------
    def call(self, command: str, **params: Any) -> dict[str, Any]:
        """One request; the unwrapped ``<command>response`` object."""
        attempts = self.retries + 1 if command.startswith(_RETRIED) else 1
        for attempt in range(attempts):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout(f"{command}: the check's deadline passed before the call")
            # cs reads its timeout per request; a float is passed on to requests unchanged.
            self._client.timeout = min(self.settings.timeout_s, remaining)  # type: ignore[assignment]
            try:
                data = getattr(self._client, command)(**params)
            except requests.exceptions.ConnectionError as exc:
                if attempt + 1 < attempts and not isinstance(exc, requests.exceptions.ConnectTimeout):
                    time.sleep(min(0.2 * 2**attempt, max(0.0, self.deadline - time.monotonic())))
                    continue
                raise self._translate(command, exc) from exc
            except (CloudStackException, requests.exceptions.RequestException, ValueError) as exc:
                raise self._translate(command, exc) from exc
            if not isinstance(data, dict):
                raise ProtocolError(f"{command}: the answer is not a CloudStack JSON object")
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def list(self, command: str, item: str | None = None, **params: Any) -> list[dict[str, Any]]:
        """Every item of a ``list*`` command, page by page (``item``: the list's key, guessed if None)."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            try:
                data = self.call(command, page=page, pagesize=self.page_size, **params)
            except ProtocolError as exc:
                limit = _PAGE_LIMIT_RE.search(str(exc))
                if limit and int(limit[1]) > 0 and int(limit[1]) != self.page_size:
                    self.page_size, items, page = int(limit[1]), [], 1
                    continue
                raise
            key = item or next((k for k in data if k != "count"), None)
            chunk = data.get(key, []) if key else []
            if not isinstance(chunk, list):
                raise ProtocolError(f"{command}: '{key}' is not a list")
            items.extend(x for x in chunk if isinstance(x, dict))
            total = data.get("count")
            if not chunk or len(chunk) < self.page_size or (isinstance(total, int) and len(items) >= total):
                return items
            page += 1

    # -- async jobs ----------------------------------------------------------------------------
    def run_async(self, command: str, **params: Any) -> dict[str, Any]:
        """Start an async command and wait for its ``jobresult`` until the deadline."""
        started = self.call(command, **params)
        jobid = started.get("jobid")
        if not jobid:
            raise ProtocolError(f"{command}: no jobid in the answer")
        while True:
            job = self.call("queryAsyncJobResult", jobid=jobid)
            status = job.get("jobstatus")
            if status != _PENDING:
                result = job.get("jobresult") or {}
                if status == _SUCCEEDED and not job.get("jobresultcode"):
                    return dict(result)
                code = result.get("errorcode", job.get("jobresultcode"))
                text = result.get("errortext", "no error text")
                raise self._by_code(command, int(code) if isinstance(code, int) else 530, str(text))
            if time.monotonic() + _POLL_S >= self.deadline:
                raise Timeout(f"{command}: job {jobid} still pending at the check's deadline")
            time.sleep(_POLL_S)

    def run_diagnostics(self, target_id: str, kind: str, address: str, params: str = "") -> Diagnostics:
        """``runDiagnostics`` on a system VM: CloudStack runs ``<kind> <address> <params>`` there.

        CloudStack allows only ping, traceroute and arping, and ``params`` matching
        ``^[\\w\\-\\s.]+$`` (DiagnosticsServiceImpl at b0601e5478).
        """
        if kind not in ("ping", "traceroute", "arping"):
            raise ValueError(f"runDiagnostics type {kind!r}: CloudStack runs only ping, traceroute, arping")
        if params and not re.fullmatch(r"[\w\-\s.]+", params):
            raise ValueError(f"runDiagnostics params {params!r}: CloudStack refuses these characters")
        args: dict[str, Any] = {"targetid": target_id, "type": kind, "ipaddress": address}
        if params:
            args["params"] = params
        started = time.monotonic()
        result = self.run_async("runDiagnostics", **args)
        out = result.get("diagnostics", result)
        code = out.get("exitcode")
        return Diagnostics(
            command=" ".join(p for p in (kind, address, params) if p),
            exitcode=int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else None,
            stdout=str(out.get("stdout", "")),
            stderr=str(out.get("stderr", "")),
            elapsed_s=round(time.monotonic() - started, 3),
        )

    # -- errors --------------------------------------------------------------------------------
    def _by_code(self, command: str, code: int, text: str) -> SourceError:
        where = f"{target_of(self.settings)} {command}"
        if code == 401:
            return AuthFailed(f"{where}: {text} (401: wrong key or signature, or an expired request)")
        if code == 432:
            return NotPermitted(f"{where}: {text} (432: the key's role may not call {command})")
        if code in (430, 431):
            return ProtocolError(f"{where}: parameter refused: {text} ({code})")
        return ProtocolError(f"{where}: CloudStack error {code}: {text}")

    def _translate(self, command: str, exc: BaseException) -> SourceError:
        where = f"{target_of(self.settings)} {command}"
        if isinstance(exc, requests.exceptions.Timeout):
            return Timeout(f"{where}: no answer in time")
        if isinstance(exc, requests.exceptions.SSLError):
            return Unreachable(f"{where}: TLS verification failed ({type(exc.args[0] if exc.args else exc).__name__})")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return Unreachable(f"{where}: cannot connect")
        if isinstance(exc, CloudStackApiException):
            error = exc.error if isinstance(exc.error, dict) else {}
            code = error.get("errorcode")
            status = getattr(exc.response, "status_code", None)
            return self._by_code(
                command, int(code) if isinstance(code, int) else int(status or 530), str(error.get("errortext", exc))
            )
        if isinstance(exc, CloudStackException):
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 401:
                return self._by_code(command, 401, "unauthorized")
            return ProtocolError(
                f"{where}: not a CloudStack answer (HTTP {status}): {exc.args[0] if exc.args else exc}"
            )
        return ProtocolError(f"{where}: {type(exc).__name__}")


@dataclass(frozen=True)
class ApiPing:
    """What ``csdiag api ping`` shows: who answers, which version, which calls the key may make."""

    endpoint: str
    version: str | None
    latency_ms: float
    allowed: dict[str, bool]
    page_size: int


#: The calls csdiag makes through the API; ``api ping`` asks listApis whether the key may make them.
CALLS_USED = (
    "listCapabilities",
    "listZones",
    "listImageStores",
    "listSystemVms",
    "listHosts",
    "listTemplates",
    "listIsos",
    "listClusters",
    "listCapacity",
    "listConfigurations",
    "listManagementServers",
    "listTemplateDirectDownloadCertificates",
    "listSecondaryStorageSelectors",
    "listAlerts",
    "listEvents",
    "runDiagnostics",
    "queryAsyncJobResult",
)


def ping(settings: ApiSettings, deadline: float) -> ApiPing:
    """Check the credentials, read the version and the key's permissions (``listApis``)."""
    api = CloudStackApi(settings, deadline)
    started = time.monotonic()
    caps = api.call("listCapabilities").get("capability", {})
    latency = (time.monotonic() - started) * 1000
    # listApis is no BaseListCmd: one answer, no paging (ListApisCmd at b0601e5478).
    names = {a.get("name") for a in api.call("listApis").get("api", []) if isinstance(a, dict)}
    return ApiPing(
        endpoint=target_of(settings),
        version=caps.get("cloudstackversion"),
        latency_ms=round(latency, 1),
        allowed={c: c in names for c in CALLS_USED},
        page_size=api.page_size,
    )
