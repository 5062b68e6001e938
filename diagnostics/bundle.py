"""Evidence bundles: what ``collect`` gathered, stored so ``evaluate`` can run anywhere later.

Layout (a folder, or the same folder as a ``.tar.gz``)::

    manifest.json                 {"schema": "csdiag.bundle/1", "tool_version", "created", "host",
                                   "config": <redacted summary>,
                                   "checks": [{"name", "status", "duration_s", "error", "params"}]}
    checks/<name>/evidence.json   RawEvidence.data
    checks/<name>/files/<path>    RawEvidence.files, verbatim

No secrets: checks never put them in evidence, the manifest holds only the redacted config summary,
and everything written is redacted *structurally* first (:mod:`diagnostics.redaction`: values walked and
replaced, keys never touched, before JSON serialisation), so a secret JSON would escape cannot slip
through and a secret that happens to be part of a key (``public`` in ``public_ip``) does not rename it.
The runner already redacted the evidence before evaluating it, so a bundle replays the live findings.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from diagnostics import __version__
from diagnostics.check import RawEvidence
from diagnostics.config import Secret
from diagnostics.model import CheckStatus, utcnow
from diagnostics.redaction import Redactor
from diagnostics.runner import Outcome

SCHEMA = "csdiag.bundle/1"


class BundleError(Exception):
    """A bundle cannot be written or read; ``str()`` is one line naming the bundle."""


@dataclass(frozen=True, kw_only=True)
class BundledCheck:
    name: str
    status: CheckStatus
    duration_s: float
    error: str | None
    params: Mapping[str, Any]
    raw: RawEvidence | None


@dataclass(frozen=True, kw_only=True)
class Bundle:
    path: Path
    manifest: Mapping[str, Any]
    checks: Mapping[str, BundledCheck]


def _is_tarball(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def _safe_relpath(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise BundleError(f"refusing evidence file name {name!r}")
    return p


def _json_default(value: Any) -> Any:
    if isinstance(value, Secret):
        raise TypeError("a Secret cannot be written into a bundle")
    return str(value)


def write(
    path: Path, outcomes: Iterable[Outcome], *, config_summary: Mapping[str, Any], secrets: Iterable[str] = ()
) -> Path:
    """Write a bundle to ``path`` (a folder, or a ``.tar.gz`` file) and return the path.

    ``secrets`` are the secret values to keep out (``redaction.secret_values(settings)``)."""
    redact = Redactor(secrets)
    files: dict[str, bytes] = {}
    checks = []
    for o in outcomes:
        checks.append(
            redact(
                {
                    "name": o.check.name,
                    "status": o.status.value,
                    "duration_s": round(o.duration_s, 3),
                    "error": o.error,
                    "params": o.params.model_dump(mode="json"),
                }
            )
        )
        if o.raw is not None:
            base = f"checks/{o.check.name}"
            data = redact(o.raw.data)
            # key order kept: the replay must see the evidence exactly as evaluate saw it live
            files[f"{base}/evidence.json"] = json.dumps(data, indent=2, default=_json_default).encode()
            for rel, blob in o.raw.files.items():
                files[f"{base}/files/{_safe_relpath(rel)}"] = redact.blob(blob)
    manifest = {
        "schema": SCHEMA,
        "tool_version": __version__,
        "created": utcnow().isoformat(),
        "host": socket.gethostname(),
        "config": redact(dict(config_summary)),
        "checks": checks,
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True, default=_json_default).encode()
    try:
        if _is_tarball(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".partial")
            with tarfile.open(tmp, "w:gz") as tar:
                for name in sorted(files):
                    info = tarfile.TarInfo(name)
                    info.size = len(files[name])
                    info.mtime = int(utcnow().timestamp())
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(files[name]))
            tmp.replace(path)
        else:
            for name, blob in files.items():
                target = path / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blob)
    except OSError as exc:
        raise BundleError(f"{path}: cannot write bundle: {exc.strerror or exc}") from None
    return path


def read(path: Path) -> Bundle:
    """Read a bundle folder or ``.tar.gz``. A missing, corrupt or foreign bundle raises BundleError."""
    if not path.exists():
        raise BundleError(f"{path}: no such bundle")
    if path.is_dir():
        return _read_dir(path, path)
    with tempfile.TemporaryDirectory(prefix="csdiag-bundle-") as tmp:
        try:
            with tarfile.open(path, "r:*") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
            raise BundleError(f"{path}: not a readable bundle archive ({reason})") from None
        return _read_dir(Path(tmp), path)


def _load_json(file: Path, shown: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{shown}: {file.name} is missing — not a csdiag bundle") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{shown}: {file.name} is unreadable ({exc})") from None


def _read_dir(root: Path, shown: Path) -> Bundle:
    manifest = _load_json(root / "manifest.json", shown)
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        found = manifest.get("schema") if isinstance(manifest, dict) else type(manifest).__name__
        raise BundleError(f"{shown}: not a csdiag bundle (schema {found!r}, expected {SCHEMA!r})")
    checks: dict[str, BundledCheck] = {}
    try:
        for entry in manifest["checks"]:
            name = entry["name"]
            status = CheckStatus(entry["status"])
            raw = None
            folder = root / "checks" / str(_safe_relpath(name))
            if (folder / "evidence.json").exists():
                data = _load_json(folder / "evidence.json", shown)
                files = {
                    str(p.relative_to(folder / "files")): p.read_bytes()
                    for p in sorted((folder / "files").rglob("*"))
                    if p.is_file()
                }
                raw = RawEvidence(data=data, files=files)
            elif status is CheckStatus.COMPLETED:
                raise BundleError(f"{shown}: evidence of check {name} is missing")
            checks[name] = BundledCheck(
                name=name,
                status=status,
                duration_s=float(entry.get("duration_s", 0)),
                error=entry.get("error"),
                params=entry.get("params") or {},
                raw=raw,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{shown}: manifest.json is malformed ({type(exc).__name__}: {exc})") from None
    return Bundle(path=shown, manifest=manifest, checks=checks)
