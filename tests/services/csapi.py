"""A stand-in for CloudStack's API server, strict where CloudStack is strict (loopback only).

Facts, from CloudStack at b0601e5478 (prashanthr2/cloudstack, main):

* signature check — ``ApiServer.verifyRequest``: parameter names sorted (``Collections.sort``, case
  sensitive), each ``name=URLEncoder.encode(value).replaceAll("\\+", "%20")`` joined with ``&``, the
  whole string lower-cased, HMAC-SHA1 with the secret key, Base64; ``signatureVersion=3`` needs
  ``expires`` (``yyyy-MM-dd'T'HH:mm:ssZ``), refused once past; a failure answers 401 "unable to
  verify user credentials and/or request signature" (``ApiServlet``).
* a command the key's role may not call — 432 "The API [cmd] does not exist or is not available for the
  account <name>." (``DynamicRoleBasedAPIAccessChecker``, ``ApiServer.commandAvailable``);
* errors — ``ExceptionResponse``: ``{"<command>response": {"uuidList": [], "errorcode": N,
  "cserrorcode": M, "errortext": "…"}}`` with HTTP status N; codes from ``ApiErrorCode`` (401, 430,
  431, 432 unsupported action, 530 internal).
* paging — ``BaseListCmd``: ``pagesize`` above ``default.page.size`` is refused with "Page size can't
  exceed max allowed page size value: N"; ``pagesize=-1`` with ``page`` with "Can't specify page
  parameter when pagesize is -1 (Unlimited)"; a list answers ``{"count": total, "<item>": [...]}``.
* async jobs — ``runDiagnostics`` (``RunDiagnosticsCmd``, a ``BaseAsyncCmd``) answers ``{"jobid"}``;
  ``queryAsyncJobResult`` answers ``jobstatus`` 0/1/2, ``jobresultcode``, ``jobresult`` holding
  ``{"diagnostics": {"exitcode", "stdout", "stderr"}}`` (``RunDiagnosticsResponse``); a type other than
  ping/traceroute/arping, or params outside ``^[\\w\\-\\s.]+$`` fail the *job* with 530 when it runs
  (RunDiagnosticsCmd.getType, DiagnosticsServiceImpl.prepareShellCmd, ApiAsyncJobDispatcher).

The scenario (what lists answer) is data the test gives; ``runDiagnostics`` runs a callable the test
gives (e.g. the real ``ping`` inside a test namespace).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

# The list commands the stand-in knows, and the key of their items (setObjectName in the Cmd classes).
LIST_ITEMS = {
    "listZones": "zone",
    "listImageStores": "imagestore",
    "listSystemVms": "systemvm",
    "listHosts": "host",
    "listTemplates": "template",
    "listIsos": "iso",  # ListIsosCmd: IsoResponse is a TemplateResponse rendered by TemplateJoinDaoImpl.newIsoResponse
    "listCapacity": "capacity",
    "listClusters": "cluster",  # ClusterResponse
    "listConfigurations": "configuration",
    "listManagementServers": "managementserver",
    "listAlerts": "alert",
    "listEvents": "event",
    "listTemplateDirectDownloadCertificates": "directdownloadcertificate",  # ApiResponseHelper
    "listSecondaryStorageSelectors": "heuristics",  # SecondaryStorageHeuristicsResponse
}
DIAGNOSTICS_TYPES = ("ping", "traceroute", "arping")
# Commands every role may call (the default user role of CloudStack allows these).
_EVERY_USER = {"listApis", "listCapabilities", "queryAsyncJobResult"}

Runner = Callable[[str, str, str, str], tuple[int, str, str]]  # (targetid, type, ip, params) → code, out, err


def java_urlencode(value: str) -> str:
    """``java.net.URLEncoder.encode(value, UTF-8)`` then ``+`` → ``%20``: like Python's quote_plus, but
    Java also encodes ``~`` and leaves ``*`` alone."""
    return quote_plus(value, safe="*").replace("~", "%7E").replace("+", "%20")


def sign(params: dict[str, str], secret: str) -> str:
    unsigned = "&".join(f"{k}={java_urlencode(params[k])}" for k in sorted(params) if k.lower() != "signature")
    digest = hmac.new(secret.encode(), unsigned.lower().encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Key:
    secret: str
    allowed: set[str] | None = None  # None: root admin, every command


@dataclass
class StandIn:
    """The scenario and the behaviour switches; tests change them between calls."""

    keys: dict[str, Key]
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    capabilities: dict[str, Any] = field(default_factory=lambda: {"cloudstackversion": "4.22.0.0"})
    default_page_size: int = 500
    job_delay_s: float = 0.3
    job_never_ends: bool = False
    html_proxy: bool = False  # answer every request with a proxy's HTML page
    runner: Runner | None = None
    absent: set[str] = field(default_factory=set)  # commands this version does not have (432, as CloudStack)
    requests: list[dict[str, str]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Refused(Exception):
    def __init__(self, code: int, text: str, cserror: int = 9999) -> None:
        super().__init__(text)
        self.code, self.text, self.cserror = code, text, cserror


def _parse_expires(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(urlsplit(self.path).query)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length).decode())

    def _serve(self, query: str) -> None:
        st = self.server.standin
        if st.html_proxy:
            self._send(200, b"<html><body>Proxy login required</body></html>", "text/html")
            return
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        with st.lock:
            st.requests.append(params)
        command = params.get("command", "")
        try:
            key = self._verify(params)
            if command in st.absent or (key.allowed is not None and command not in key.allowed | _EVERY_USER):
                raise _Refused(
                    432,
                    f"The API [{command}] does not exist or is not available for the account admin.",
                )
            body = self._dispatch(command, params, key)
        except _Refused as exc:
            error = {"uuidList": [], "errorcode": exc.code, "cserrorcode": exc.cserror, "errortext": exc.text}
            self._json(exc.code, {f"{command.lower() or 'error'}response": error})
            return
        self._json(200, {f"{command.lower()}response": body})

    def _verify(self, params: dict[str, str]) -> Key:
        st = self.server.standin
        refused = _Refused(401, "unable to verify user credentials and/or request signature")
        key = st.keys.get(params.get("apiKey", ""))
        if key is None or "signature" not in params:
            raise refused
        if params.get("signatureVersion") == "3":
            try:
                expires = _parse_expires(params["expires"])
            except (KeyError, ValueError):
                raise refused from None
            if expires < datetime.now(UTC):
                raise refused
        if not hmac.compare_digest(sign(params, key.secret), params["signature"]):
            raise refused
        return key

    def _dispatch(self, command: str, params: dict[str, str], key: Key) -> dict[str, Any]:
        st = self.server.standin
        if command == "listCapabilities":
            return {"capability": st.capabilities}
        if command == "listApis":
            names = sorted(
                key.allowed | _EVERY_USER
                if key.allowed is not None
                else set(LIST_ITEMS) | _EVERY_USER | {"runDiagnostics"}
            )
            return {"count": len(names), "api": [{"name": n} for n in names]}
        if command in LIST_ITEMS:
            return self._page(LIST_ITEMS[command], self._filtered(command, st.lists.get(command, []), params), params)
        if command == "runDiagnostics":
            return self._start_diagnostics(params)
        if command == "queryAsyncJobResult":
            with st.lock:
                job = st.jobs.get(params.get("jobid", ""))
            if job is None:
                raise _Refused(431, f"Unable to find a job by id {params.get('jobid')}")
            return dict(job)
        raise _Refused(432, f"The API [{command}] does not exist or is not available for the account admin.")

    @staticmethod
    def _filtered(command: str, rows: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
        # The few filters csdiag uses: exact matches on an item field (systemvmtype, type, name, zoneid,
        # templatetype — ListTemplatesCmd since 4.19); listConfigurations matches name with LIKE %name%
        # (ManagementServerImpl.searchForConfigurations) and never lists the Hidden category.
        if command == "listConfigurations":
            name = params.get("name", "").lower()
            return [r for r in rows if name in str(r.get("name", "")).lower() and r.get("category") != "Hidden"]
        keep = {
            k: v
            for k, v in params.items()
            if k in ("systemvmtype", "type", "name", "zoneid", "id", "templatetype", "hypervisor")
        }
        return [r for r in rows if all(str(r.get(k, "")).lower() == v.lower() for k, v in keep.items())]

    def _page(self, item: str, rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        limit = self.server.standin.default_page_size
        size = int(params["pagesize"]) if "pagesize" in params else limit
        if size == -1 and "page" in params:
            raise _Refused(431, "Can't specify page parameter when pagesize is -1 (Unlimited)", 4350)
        if size != -1 and limit != -1 and size > limit:
            raise _Refused(431, f"Page size can't exceed max allowed page size value: {limit}", 4350)
        if size == -1:
            chunk = rows
        else:
            start = (max(int(params.get("page", "1")), 1) - 1) * size
            chunk = rows[start : start + size]
        return {"count": len(rows), item: chunk} if chunk else {}

    def _start_diagnostics(self, params: dict[str, str]) -> dict[str, Any]:
        st = self.server.standin
        kind, ip, extra = params.get("type", ""), params.get("ipaddress", ""), params.get("params", "")
        # Both are checked when the job runs (RunDiagnosticsCmd.getType, DiagnosticsServiceImpl.prepareShellCmd
        # throw IllegalArgumentException): ApiAsyncJobDispatcher fails the job with 530 and the message.
        failure = None
        if kind.lower() not in DIAGNOSTICS_TYPES:
            failure = f"{kind} Is not a valid diagnostics command type. "
        elif extra and not re.fullmatch(r"[\w\-\s.]+", extra):
            failure = f"Optional parameters contain unwanted characters: {extra}"
        jobid = str(uuid.uuid4())
        with st.lock:
            st.jobs[jobid] = {
                "jobid": jobid,
                "cmd": "org.apache.cloudstack.api.command.admin.diagnostics.RunDiagnosticsCmd",
                "jobstatus": 0,
                "jobprocstatus": 0,
                "jobresultcode": 0,
            }

        def work() -> None:
            time.sleep(st.job_delay_s)
            if st.job_never_ends:
                return
            if failure is not None:
                with st.lock:
                    st.jobs[jobid].update(
                        jobstatus=2, jobresultcode=530, jobresulttype="object",
                        jobresult={"errorcode": 530, "errortext": failure},
                    )  # fmt: skip
                return
            code, out, err = st.runner(params.get("targetid", ""), kind, ip, extra) if st.runner else (0, "", "")
            with st.lock:
                st.jobs[jobid].update(
                    jobstatus=1,
                    jobresulttype="object",
                    jobresult={"diagnostics": {"exitcode": str(code), "stdout": out, "stderr": err}},
                )

        threading.Thread(target=work, daemon=True).start()
        return {"jobid": jobid}

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=UTF-8")

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn


@contextmanager
def api_server(standin: StandIn) -> Iterator[str]:
    """Serve ``standin`` on 127.0.0.1; yields the endpoint URL (``…/client/api``)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
