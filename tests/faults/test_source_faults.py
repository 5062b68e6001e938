"""Every source against real or loopback servers that fail: refused, accepts and never answers, answers
then stalls, answers garbage, dies. Each wait ends within its bound (+ 5 s), as a SourceError naming the
reason, and leaves no process or descriptor behind."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from diagnostics.config import EmailSettings, SshSettings
from diagnostics.sources import deadline, mountprobe, smtp, ssh
from diagnostics.sources.errors import NotFound, SourceError, Timeout, Unreachable
from tests.faults.conftest import fault_server, refused_port

pytestmark = [pytest.mark.faults, pytest.mark.integration]
SLACK_S = 5.0
MODES = ["refused", "stall", "garbage", "greet_stall", "dies"]


class Bound:
    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s

    def __enter__(self) -> Bound:
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.t0
        assert self.elapsed < self.limit_s + SLACK_S, f"took {self.elapsed:.1f} s, bound {self.limit_s} s"


def _server(mode: str, greeting: bytes = b""):
    if mode == "refused":
        from contextlib import nullcontext
        from types import SimpleNamespace

        return nullcontext(SimpleNamespace(port=refused_port()))
    return fault_server(mode, greeting)


# --- SSH / SFTP -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ssh_connect_failures_are_bounded_source_errors(mode, tmp_path, leaks):
    settings = SshSettings(user="root", known_hosts=str(tmp_path / "kh"), connect_timeout_s=1.0)
    with (
        _server(mode, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n") as srv,
        Bound(1.0),
        pytest.raises(SourceError) as err,
        ssh.connect("127.0.0.1", srv.port, settings, timeout_s=1.0),
    ):
        pass
    assert f"127.0.0.1:{srv.port}" in str(err.value)
    if mode == "refused":
        assert isinstance(err.value, Unreachable)
    if mode in ("stall", "greet_stall"):
        assert isinstance(err.value, Timeout | SourceError)
    leaks.check()


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, timeout=10).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


@pytest.mark.parametrize("fault", ["stalls", "dies"])
def test_an_sftp_read_that_stalls_or_dies_mid_file(fault, tmp_path, leaks):
    """Before: paramiko swallowed the socket timeout and the SFTP channel had none: a read from a server
    that stopped answering mid-file waited forever. A server that dies mid-file is a source error too."""
    from tests.services.sshd import sshd_server

    big = tmp_path / "big.log"
    with big.open("wb") as f:
        for i in range(400_000):
            f.write(b"2026-12-02 10:00:00,000 INFO  [c.c.a.ApiServlet] (qtp-1:ctx-%08d) line\n" % i)
    with sshd_server() as server:
        settings = SshSettings(
            user="root", key_file=str(server.client_key), known_hosts=str(server.known_hosts), connect_timeout_s=2
        )
        with ssh.connect("127.0.0.1", server.port, settings, timeout_s=2.0) as session, session.open(str(big)) as f:
            assert f.read(4096).startswith(b"2026-12-02")
            sshd_pid = int((server.root / "sshd.pid").read_text())
            stopped = [p for p in _descendants(sshd_pid) if "sftp" in Path(f"/proc/{p}/cmdline").read_text()]
            assert stopped, "no sftp-server process found"
            for p in stopped:
                os.kill(p, signal.SIGSTOP if fault == "stalls" else signal.SIGKILL)
            try:
                with Bound(2.0), pytest.raises(Timeout if fault == "stalls" else SourceError):
                    while f.read(1 << 20):
                        pass
            finally:
                if fault == "stalls":
                    for p in stopped:
                        os.kill(p, signal.SIGCONT)
    leaks.check()


# --- SMTP ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_smtp_failures_are_bounded_source_errors(mode, leaks):
    with _server(mode, b"220 mail.example ESMTP\r\n") as srv:
        cfg = EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=srv.port,
            security="none",
            sender="csdiag@example.org",
            recipients=["ops@example.org"],
            timeout_s=1.0,
            attempts=2,
            backoff_s=0.1,
        )
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = "t", cfg.sender, cfg.recipients[0]
        msg.set_content("x")
        with Bound(2 * 1.0 + 0.1), pytest.raises(SourceError) as err:
            smtp.send(cfg, msg, None)
    assert f"127.0.0.1:{srv.port}" in str(err.value)
    leaks.check()


# --- subprocesses, DNS, mount probes ---------------------------------------------------------------------------


def test_a_subprocess_past_its_bound_is_killed_with_its_children_and_reaped(leaks):
    with Bound(0.5), pytest.raises(Timeout, match="killed"):
        deadline.run(["sh", "-c", "sleep 31.4159 & sleep 31.4159; wait"], 0.5)
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", "sleep 31.4159"], capture_output=True, text=True, timeout=10).stdout.split()
    assert not left, left  # the shell and the sleep it put in the background: killed as one group
    with pytest.raises(NotFound):
        deadline.run(["/nonexistent/csdiag-tool"], 1)
    leaks.check()


def test_a_name_that_does_not_resolve_is_not_found_quickly():
    with Bound(5.0), pytest.raises(NotFound):
        deadline.getaddrinfo("csdiag-no-such-host.invalid", None, 5.0)


def test_dns_that_never_answers_is_bounded(monkeypatch):
    """The resolver itself cannot be interrupted: the lookup runs in a worker abandoned at the bound."""
    import socket

    release = threading.Event()

    def silent(*args, **kw):  # a resolver whose server never answers: glibc would retry for 10+ s per try
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", silent)
    from diagnostics.sources import pmtu

    with Bound(1.0), pytest.raises(Timeout, match="DNS"):
        pmtu.resolve("ssvm.example.org", 1.0)
    record = pmtu.probe_path("ssvm.example.org", 9000, timeout_s=0.3)
    assert record["error"]["kind"] == "Timeout"
    release.set()


def test_a_hung_mount_probe_with_other_threads_running(tmp_path, leaks):
    """The probe runs in a spawned process (no fork of this multi-threaded process); abandoned at its
    deadline, reaped when it finally dies; a healthy path probed many times leaks nothing."""
    from tests.services.fusefs import fuse_mount

    busy = threading.Event()
    workers = [threading.Thread(target=busy.wait, args=(30,), daemon=True) for _ in range(6)]
    for w in workers:
        w.start()
    try:
        for _ in range(20):
            got = mountprobe.probe(str(tmp_path), 5.0, write=True)
            assert got["write"]["ok"] and "error" not in got
        with fuse_mount("hang", tmp_path / "dead") as dead:
            with Bound(1.0):
                got = mountprobe.probe(str(dead), 1.0, write=False)
            assert got["stuck"] and "within 1 s" in got["detail"]
            assert mountprobe.probe(str(dead), 1.0)["stuck"]  # remembered: not probed again
    finally:
        busy.set()
    leaks.check(settle_s=15)


@pytest.mark.parametrize("mode", ["stall", "greet_stall"])
def test_a_local_http_probe_past_its_bound_is_killed_with_curl(mode, leaks):
    """The reach check's local vantage: bash runs curl; at the bound both die (their process group), not
    only bash while curl keeps the pipe — and the run — open."""
    import shutil

    from diagnostics.sources import shell

    if not shutil.which("curl"):
        pytest.skip("curl not installed")
    with fault_server(mode, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial") as srv:
        url = f"http://127.0.0.1:{srv.port}/template.qcow2"
        with Bound(1.0), pytest.raises(Timeout):
            shell.run_local(f"curl -sS --max-time 60 -o /dev/null {url}\necho done\n", 1.0)
        left = subprocess.run(["pgrep", "-f", url], capture_output=True, text=True, timeout=10).stdout.split()
        assert not left, left
    leaks.check()


def test_the_mount_probe_never_forks_this_process(tmp_path, monkeypatch):
    """Before: os.fork() of the multi-threaded runner (a child could deadlock on a lock another thread
    held). Now the probe is a spawned process: os.fork is never called."""

    def no_fork() -> int:
        raise AssertionError("os.fork() called while other threads run")

    monkeypatch.setattr(os, "fork", no_fork)
    got = mountprobe.probe(str(tmp_path), 5.0, write=True)
    assert got["write"]["ok"] and got["available_bytes"] > 0


def test_a_mount_that_cannot_be_read_is_not_reported_absent(tmp_path):
    """Before: Path.is_dir() turned EIO/EACCES/ESTALE into "no such directory" (ENOENT): could not read was
    reported as absent. The same holds for a template folder read through a local mount."""
    from diagnostics.sources import templatefiles
    from tests.faults.eiofs import eio_mount

    with eio_mount(tmp_path / "eio") as mnt:
        got = mountprobe.probe(str(mnt / "export"), 5.0, write=False)
        assert got["error"]["errno"] == "EIO", got
        with pytest.raises(OSError) as err:
            templatefiles.read_folder(mnt / "export" / "template/tmpl/2/201", "sha256")
        assert err.value.errno == errno.EIO
    missing = mountprobe.probe(str(tmp_path / "absent"), 5.0, write=False)
    assert missing["error"]["errno"] == "ENOENT"
    assert templatefiles.read_folder(tmp_path / "absent", "sha256")["exists"] is False


def test_an_mtu_path_stops_at_the_checks_deadline_and_keeps_what_it_measured():
    from checks.mtu import judge_path
    from diagnostics.sources import pmtu

    whole = pmtu.probe_path("127.0.0.1", 9000, timeout_s=0.5, kind="udp")
    assert whole.get("largest_passing") == 9000 and "error" not in whole, whole
    with Bound(0.3):
        cut = pmtu.probe_path("127.0.0.1", 9000, timeout_s=0.5, kind="udp", deadline=time.monotonic() + 0.1)
    assert cut["error"]["kind"] == "Timeout" and "deadline" in cut["error"]["message"], cut
    finding = judge_path(cut)
    assert finding.code == "MTU_NOT_TESTED" and finding.severity.value == "UNKNOWN"
    assert "check_timeout_s" in finding.remediation


@pytest.mark.parametrize("fault", ["stalls", "dies"])
def test_a_real_smtp_server_that_stalls_or_dies(fault, leaks):
    """aiosmtpd (its own process) accepts a report, then is stopped (SIGSTOP: the kernel still accepts the
    connection, no banner comes) or killed: the send fails within timeout × attempts + backoff."""
    from tests.services import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        cfg = EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            security="none",
            sender="csdiag@example.org",
            recipients=["ops@example.org"],
            timeout_s=1.0,
            attempts=2,
            backoff_s=0.1,
        )
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = "t", cfg.sender, cfg.recipients[0]
        msg.set_content("report")
        end = time.monotonic() + 15
        while True:  # until aiosmtpd greets (it may listen before its loop answers: a cold start is slow)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                    if probe.recv(64).startswith(b"220"):
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise AssertionError("aiosmtpd did not greet within 15 s")
            time.sleep(0.2)
        assert smtp.send(cfg, msg, None) == 1  # a healthy server takes it at the first attempt
        os.kill(server.pid, signal.SIGSTOP if fault == "stalls" else signal.SIGKILL)
        try:
            with Bound(2 * 1.0 + 0.1), pytest.raises(SourceError):
                smtp.send(cfg, msg, None)
        finally:
            if fault == "stalls":
                os.kill(server.pid, signal.SIGCONT)
    finally:
        server.kill()
        server.wait(timeout=10)
    leaks.check()
