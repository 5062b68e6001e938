"""Probing an NFS export without mounting it: portmapper, MOUNT v3 and NFS v3 over ONC RPC (RFC 1813).

:func:`probe` returns the evidence as plain data — each step with its outcome and time — and never
raises for anything the server does: an unreachable server, a port that accepts TCP and stays silent, a
garbage reply or a refusal become an ``error`` with the step it happened in. The deep mode creates a
uniquely named hidden file (``.csdiag-probe-…``) at the top of the export, writes and reads it back and
removes it (also after an error); leftovers of earlier interrupted probes are removed first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from diagnostics.sources.errors import SourceError, Unreachable
from diagnostics.sources.oncrpc import Deadline, Packer, RpcClient, RpcRejected, RpcUnavailable, Unpacker

PORTMAP, MOUNT, NFS = 100000, 100005, 100003
PREFIX = ".csdiag-probe-"
MODIFY, EXTEND, DELETE, LOOKUP, READ = 0x04, 0x08, 0x10, 0x02, 0x01
STATUS = {
    0: "OK",
    1: "PERM",
    2: "NOENT",
    5: "IO",
    6: "NXIO",
    13: "ACCES",
    17: "EXIST",
    20: "NOTDIR",
    22: "INVAL",
    27: "FBIG",
    28: "NOSPC",
    30: "ROFS",
    63: "NAMETOOLONG",
    69: "DQUOT",
    70: "STALE",
    10001: "BADHANDLE",
    10004: "NOTSUPP",
    10006: "SERVERFAULT",
    10008: "JUKEBOX",
}
_WRITE_BYTES = 64 * 1024


def status_name(code: int) -> str:
    return STATUS.get(code, f"status {code}")


class NfsStatus(SourceError):
    """An NFS or MOUNT procedure answered with a status other than OK."""

    def __init__(self, step: str, code: int) -> None:
        super().__init__(f"{step}: {status_name(code)}")
        self.step, self.code = step, code


# --- XDR pieces of RFC 1813 -------------------------------------------------------------------------------


def _fattr3(u: Unpacker) -> dict[str, int]:
    ftype, mode, _nlink, uid, gid = (u.uint() for _ in range(5))
    size = u.hyper()
    u.skip(84 - 28)  # used, rdev, fsid, fileid, atime, mtime, ctime
    return {"type": ftype, "mode": mode & 0o7777, "uid": uid, "gid": gid, "size": size}


def _post_op_attr(u: Unpacker) -> dict[str, int] | None:
    return _fattr3(u) if u.bool() else None


def _wcc_data(u: Unpacker) -> None:
    if u.bool():
        u.skip(24)  # pre-op size, mtime, ctime
    _post_op_attr(u)


def _diropargs(fh: bytes, name: str) -> Packer:
    return Packer().opaque(fh).string(name)


# --- the calls --------------------------------------------------------------------------------------------


def getport(c: RpcClient, prog: int, vers: int) -> int:
    """Portmapper v2 GETPORT over TCP; 0 means not registered."""
    return c.call(PORTMAP, 2, 3, Packer().uint(prog).uint(vers).uint(6).uint(0).bytes()).uint()


def exports(c: RpcClient) -> list[dict[str, Any]]:
    """MOUNT v3 EXPORT: what ``showmount -e`` prints — each exported path and the clients allowed."""
    u, out = c.call(MOUNT, 3, 5), []
    while u.bool():
        path, groups = u.string(), []
        while u.bool():
            groups.append(u.string())
        out.append({"path": path, "groups": groups})
        if len(out) > 10000:
            break
    return out


def mnt(c: RpcClient, export: str) -> bytes:
    u = c.call(MOUNT, 3, 1, Packer().string(export).bytes())
    if (st := u.uint()) != 0:
        raise NfsStatus("MNT", st)
    return u.opaque(64)


def umnt(c: RpcClient, export: str) -> None:
    c.call(MOUNT, 3, 3, Packer().string(export).bytes())


def fsstat(c: RpcClient, fh: bytes) -> dict[str, int]:
    u = c.call(NFS, 3, 18, Packer().opaque(fh).bytes())
    st = u.uint()
    _post_op_attr(u)
    if st != 0:
        raise NfsStatus("FSSTAT", st)
    keys = ("total_bytes", "free_bytes", "available_bytes", "total_files", "free_files", "available_files")
    return {k: u.hyper() for k in keys}


def access(c: RpcClient, fh: bytes, mask: int, uid: int = 0) -> tuple[int, dict[str, int] | None]:
    """ACCESS3 as ``uid``: the granted mask and the object's attributes."""
    u = c.call(NFS, 3, 4, Packer().opaque(fh).uint(mask).bytes(), uid=uid)
    st = u.uint()
    attrs = _post_op_attr(u)
    if st != 0:
        raise NfsStatus("ACCESS", st)
    return u.uint(), attrs


def create(c: RpcClient, dir_fh: bytes, name: str) -> bytes:
    """CREATE3 GUARDED with mode 0600; returns the new file's handle."""
    sattr = Packer().uint(1).uint(0o600).uint(0).uint(0).uint(0).uint(0).uint(0).bytes()  # mode only
    u = c.call(NFS, 3, 8, _diropargs(dir_fh, name).uint(1).bytes() + sattr)
    if (st := u.uint()) != 0:
        raise NfsStatus("CREATE", st)
    fh = u.opaque(64) if u.bool() else b""
    if not fh:
        return lookup(c, dir_fh, name)
    return fh


def lookup(c: RpcClient, dir_fh: bytes, name: str) -> bytes:
    u = c.call(NFS, 3, 3, _diropargs(dir_fh, name).bytes())
    if (st := u.uint()) != 0:
        raise NfsStatus("LOOKUP", st)
    return u.opaque(64)


def write(c: RpcClient, fh: bytes, data: bytes) -> int:
    """WRITE3 at offset 0, FILE_SYNC (the server must have it on stable storage before answering)."""
    u = c.call(NFS, 3, 7, Packer().opaque(fh).hyper(0).uint(len(data)).uint(2).opaque(data).bytes())
    st = u.uint()
    _wcc_data(u)
    if st != 0:
        raise NfsStatus("WRITE", st)
    return u.uint()


def read(c: RpcClient, fh: bytes, count: int) -> bytes:
    u = c.call(NFS, 3, 6, Packer().opaque(fh).hyper(0).uint(count).bytes())
    st = u.uint()
    _post_op_attr(u)
    if st != 0:
        raise NfsStatus("READ", st)
    u.uint()  # count
    u.bool()  # eof
    return u.opaque()


def remove(c: RpcClient, dir_fh: bytes, name: str) -> None:
    u = c.call(NFS, 3, 12, _diropargs(dir_fh, name).bytes())
    if (st := u.uint()) not in (0, 2):  # NOENT: already gone
        raise NfsStatus("REMOVE", st)


def readdir_names(c: RpcClient, dir_fh: bytes, limit: int = 20000) -> list[str]:
    """READDIR3 over the whole directory (names only), at most ``limit`` entries."""
    names: list[str] = []
    cookie, verf = 0, b"\0" * 8
    while len(names) < limit:
        u = c.call(NFS, 3, 16, Packer().opaque(dir_fh).hyper(cookie).fixed(verf).uint(32768).bytes())
        st = u.uint()
        _post_op_attr(u)
        if st != 0:
            raise NfsStatus("READDIR", st)
        verf = u.fixed(8)
        while u.bool():
            u.hyper()  # fileid
            names.append(u.string(1024))
            cookie = u.hyper()
        if u.bool():  # eof
            break
    return names


# --- the probe --------------------------------------------------------------------------------------------


def _step(record: dict[str, Any], name: str, fn: Callable[[], Any]) -> Any:
    """Run one step, timing it into ``record['steps']``; a failure is recorded and re-raised."""
    t0 = time.monotonic()
    entry: dict[str, Any] = {"step": name}
    record["steps"].append(entry)
    try:
        result = fn()
    except SourceError as exc:
        entry.update(ok=False, ms=round((time.monotonic() - t0) * 1000, 2), error=_error(exc))
        raise
    entry.update(ok=True, ms=round((time.monotonic() - t0) * 1000, 2))
    return result


def _error(exc: SourceError) -> dict[str, Any]:
    err: dict[str, Any] = {"kind": exc.kind, "message": str(exc)}
    if isinstance(exc, NfsStatus):
        err.update(status=status_name(exc.code), step=exc.step)
    elif isinstance(exc, RpcRejected):
        err["status"] = exc.reason
    elif isinstance(exc, RpcUnavailable):
        err["status"] = exc.status
    return err


def probe(
    server: str, export: str, timeout_s: float, deep: bool, *, portmap_port: int = 111, nfs_port: int = 2049
) -> dict[str, Any]:
    """Everything the protocol can tell about ``server:export`` from here, within ``timeout_s``."""
    record: dict[str, Any] = {"server": server, "export": export, "steps": [], "as_root": os.geteuid() == 0}
    deadline = Deadline.after(timeout_s)
    try:
        _probe(record, server, export, deadline, deep, portmap_port, nfs_port)
    except SourceError as exc:
        record["error"] = {**_error(exc), "step": record["steps"][-1]["step"]}
    return record


def _probe(
    rec: dict[str, Any], server: str, export: str, dl: Deadline, deep: bool, pm_port: int, nfs_port: int
) -> None:
    try:
        pm = _step(rec, f"connect portmapper :{pm_port}", lambda: RpcClient(server, pm_port, dl))
    except Unreachable:
        _nfs4_only(rec, server, nfs_port, dl)  # NFSv4-only servers need no portmapper
        return
    with pm:
        rec["reserved_port"] = pm.reserved_port
        mount_port = _step(rec, "portmap GETPORT mountd v3", lambda: getport(pm, MOUNT, 3))
        nfs3_port = _step(rec, "portmap GETPORT nfs v3", lambda: getport(pm, NFS, 3))
    rec["ports"] = {"mountd": mount_port or None, "nfs": nfs3_port or None}
    if not nfs3_port or not mount_port:
        _nfs4_only(rec, server, nfs_port, dl)
        return
    nfs = _step(rec, f"connect nfs :{nfs3_port}", lambda: RpcClient(server, nfs3_port, dl))
    with nfs:
        t0 = time.monotonic()
        _step(rec, "NFS NULL", lambda: nfs.call(NFS, 3, 0))
        rec["null_ms"] = round((time.monotonic() - t0) * 1000, 2)
        mc = _step(rec, f"connect mountd :{mount_port}", lambda: RpcClient(server, mount_port, dl))
        with mc:
            rec["reserved_port"] = mc.reserved_port
            rec["exports"] = _step(rec, "MOUNT EXPORT", lambda: exports(mc))
            try:
                fh = _step(rec, "MOUNT MNT", lambda: mnt(mc, export))
            except NfsStatus as exc:
                rec["mnt"] = status_name(exc.code)
                raise
            rec["mnt"] = "OK"
            try:
                _inspect(rec, nfs, fh, deep)
            finally:
                with contextlib.suppress(SourceError):
                    umnt(mc, export)


def _nfs4_only(rec: dict[str, Any], server: str, port: int, dl: Deadline) -> None:
    c = _step(rec, f"connect nfs :{port}", lambda: RpcClient(server, port, dl))
    with c:
        _step(rec, "NFSv4 NULL", lambda: c.call(NFS, 4, 0))
    rec["nfs4_only"] = True


def _inspect(rec: dict[str, Any], nfs: RpcClient, fh: bytes, deep: bool) -> None:
    rec["fsstat"] = _step(rec, "FSSTAT", lambda: fsstat(nfs, fh))
    mask = READ | LOOKUP | MODIFY | EXTEND | DELETE
    granted, attrs = _step(rec, "ACCESS as uid 0", lambda: access(nfs, fh, mask))
    rec["access"] = {"uid": 0, "granted": granted, "modify": bool(granted & MODIFY), "root_attrs": attrs}
    if attrs and attrs["uid"] != 0 and not granted & MODIFY:
        # root may not modify a directory its owner may: the server squashes root.
        owner_granted, _ = _step(rec, f"ACCESS as uid {attrs['uid']}", lambda: access(nfs, fh, mask, attrs["uid"]))
        rec["access"]["owner_modify"] = bool(owner_granted & MODIFY)
    if deep:
        rec["write"] = _write_probe(rec, nfs, fh)


def _abandoned(name: str, now: float | None = None) -> bool:
    """A probe file of ours (``.csdiag-probe-<epoch>-…``) older than 10 minutes: no probe runs that long,
    so it was left by an interrupted run, not by one running at the same time."""
    stamp = name[len(PREFIX) :].split("-", 1)[0] if name.startswith(PREFIX) else ""
    return stamp.isdigit() and int(stamp) < (now or time.time()) - 600


def _write_probe(rec: dict[str, Any], nfs: RpcClient, root: bytes) -> dict[str, Any]:
    with contextlib.suppress(SourceError):
        names = _step(rec, "READDIR (leftovers)", lambda: readdir_names(nfs, root))
        stale = [n for n in names if _abandoned(n)]
        for old in stale:
            _step(rec, f"REMOVE leftover {old}", functools.partial(remove, nfs, root, old))
        rec["leftovers_removed"] = stale
    name = f"{PREFIX}{int(time.time())}-{uuid.uuid4().hex[:12]}"
    data = os.urandom(_WRITE_BYTES)
    created = False
    try:
        fh = _step(rec, "CREATE", lambda: create(nfs, root, name))
        created = True
        _step(rec, "WRITE (FILE_SYNC)", lambda: write(nfs, fh, data))
        back = _step(rec, "READ back", lambda: read(nfs, fh, len(data)))
        if back != data:
            return {"ok": False, "name": name, "status": "MISMATCH", "message": "read back differs from written"}
        return {"ok": True, "name": name, "bytes": len(data)}
    except NfsStatus as exc:
        return {"ok": False, "name": name, "status": status_name(exc.code), "message": str(exc)}
    finally:
        if created:
            with contextlib.suppress(SourceError):
                _step(rec, "REMOVE", lambda: remove(nfs, root, name))
