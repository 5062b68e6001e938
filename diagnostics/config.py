"""Configuration: TOML → typed, validated settings.

Contract:
- unknown keys are rejected, naming them; every error names the file, the key path
  (``switches[2].snmp.version``) and what is wrong, as a :class:`ConfigError`;
- secrets are given as ``<name>_env`` (an environment variable's name) or ``<name>_file`` (a path);
  a literal ``<name>`` is accepted only from a file nobody but its owner can read;
- secrets are read lazily through :class:`Secret`, whose ``repr``/``str`` never show the value.

Per-check parameters live under ``[thresholds.<name>]`` and are validated against each check's own
parameters class by :func:`check_params` once the registry is known.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from diagnostics.config_base import ConfigError as ConfigError  # re-exported: the package's config API
from diagnostics.config_base import Secret as Secret
from diagnostics.config_base import StrictModel as _Strict
from diagnostics.config_base import one_source as _one_source
from diagnostics.config_base import private_literal as _private_literal
from diagnostics.config_base import secret_of as _secret_of
from diagnostics.config_switches import LinkSettings as LinkSettings
from diagnostics.config_switches import SwitchSettings as SwitchSettings

DEFAULT_PATHS = (Path("csdiag.toml"), Path("~/.config/csdiag/config.toml"))


class RunSettings(_Strict):
    check_timeout_s: float = Field(60.0, gt=0, le=3600, description="deadline of each check, seconds")
    concurrency: int = Field(8, ge=1, le=64, description="checks run at once")
    # the name this runner records its runs under in a shared history store (diagnostics.scope)
    runner: str | None = Field(None, min_length=1, max_length=120, description="runner name; default: host name")


class DatabaseSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(3306, ge=1, le=65535)
    user: str = "csdiag"
    password: str | None = Field(None, repr=False)
    password_env: str | None = None
    password_file: str | None = None
    database: str = "cloud"
    connect_timeout_s: float = Field(5.0, gt=0, le=300)
    query_timeout_s: float = Field(30.0, gt=0, le=3600)

    _literal_password = field_validator("password")(_private_literal)

    @model_validator(mode="after")
    def _one_secret(self) -> DatabaseSettings:
        _one_source(self, "password")
        return self

    def password_secret(self) -> Secret | None:
        return _secret_of(self, "password", "cloudstack.database.password")


class ApiSettings(_Strict):
    """``[cloudstack.api]``: CloudStack's HTTP API with a root-admin key (signature version 3)."""

    endpoint: str = Field(description="the API URL, e.g. https://cloud.example.org/client/api")
    api_key: str = Field(description="the key's public half (not a secret: it names the key)")
    secret_key: str | None = Field(None, repr=False)
    secret_key_env: str | None = None
    secret_key_file: str | None = None
    verify_tls: bool = True
    ca_file: str | None = Field(None, description="verify the server with this CA bundle")
    timeout_s: float = Field(10.0, gt=0, le=300, description="each HTTP request, within the check's deadline")
    page_size: int = Field(500, ge=1, le=10000, description="lowered to the cloud's default.page.size if it refuses")
    expires_s: int = Field(300, ge=30, le=3600, description="signature validity (signatureVersion=3)")

    _literal_secret = field_validator("secret_key")(_private_literal)

    @model_validator(mode="after")
    def _one_secret(self) -> ApiSettings:
        _one_source(self, "secret_key")
        if _secret_of(self, "secret_key", "cloudstack.api.secret_key") is None:
            raise ValueError("give secret_key_env or secret_key_file (the key's secret half)")
        if not self.endpoint.startswith(("http://", "https://")):
            raise ValueError("endpoint must be an http:// or https:// URL")
        return self

    def secret_key_secret(self) -> Secret:
        secret = _secret_of(self, "secret_key", "cloudstack.api.secret_key")
        assert secret is not None  # the validator requires one
        return secret


class CloudStackSettings(_Strict):
    """``[cloudstack]``: where the CloudStack-backed checks read their facts.

    ``source``: ``db`` reads ``[cloudstack.database]`` only, ``api`` reads ``[cloudstack.api]`` only,
    ``auto`` (default) the database when it is configured, else the API. ``--source`` overrides it.
    """

    source: Literal["db", "api", "auto"] = "auto"
    database: DatabaseSettings | None = None
    api: ApiSettings | None = None

    def chosen_source(self) -> Literal["db", "api"] | None:
        """The source the checks use; None when the chosen one is not configured (a finding says so)."""
        if self.source == "db" or (self.source == "auto" and self.database is not None):
            return "db" if self.database is not None else None
        return "api" if self.api is not None else None


def _state_dir() -> Path:
    """$XDG_STATE_HOME/csdiag, or ~/.local/state/csdiag."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local/state") / "csdiag"


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d``, ``2w`` → seconds."""
    if m := _DURATION_RE.match(value):
        return float(m[1]) * _UNITS[m[2]]
    raise ValueError(f"{value!r} is not a duration (90s, 30m, 24h, 7d)")


def parse_since(value: str, now: datetime) -> datetime:
    """``30m``, ``24h``, ``7d`` before ``now``, or an ISO date/time (UTC unless it says otherwise)."""
    if _DURATION_RE.match(value):
        return now - timedelta(seconds=parse_duration(value))
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration (30m, 24h, 7d) nor an ISO date") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class SshSettings(_Strict):
    """Defaults for every SSH source (SSVMs, KVM hosts, management servers)."""

    user: str = "root"
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = None
    key_passphrase_env: str | None = None
    key_passphrase_file: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    accept_unknown_host_keys: bool = False  # explicit opt-in; a *changed* key is refused regardless
    connect_timeout_s: float = Field(10.0, gt=0, le=300)
    ssvm_port: int = Field(3922, ge=1, le=65535)

    def passphrase_secret(self) -> Secret | None:
        if self.key_passphrase_env is None and self.key_passphrase_file is None:
            return None
        return Secret(
            key="ssh.key_passphrase",
            env=self.key_passphrase_env,
            file=Path(self.key_passphrase_file) if self.key_passphrase_file else None,
        )


class LogsSettings(_Strict):
    """Where the logs are. ``management`` paths are read here unless ``management_hosts`` names servers;
    ``ssvm`` and ``agent`` paths are read over SSH on ``ssvm_hosts`` / ``agent_hosts`` (``host`` or
    ``host:port``), and with ``ssvm_from_inventory`` on every SSVM the database lists."""

    management: list[str] = Field(default_factory=lambda: ["/var/log/cloudstack/management/management-server.log*"])
    ssvm: list[str] = Field(default_factory=lambda: ["/var/log/cloud.log*"])
    agent: list[str] = Field(default_factory=lambda: ["/var/log/cloudstack/agent/agent.log*"])
    management_hosts: list[str] = Field(default_factory=list)
    ssvm_hosts: list[str] = Field(default_factory=list)
    agent_hosts: list[str] = Field(default_factory=list)
    ssvm_from_inventory: bool = False
    since: str = "24h"
    timezone: str = "UTC"  # of management-server.log/agent.log timestamps; the SSVM logs in UTC
    max_lines: int = Field(20000, ge=100, le=1_000_000)  # candidate lines kept per file
    incremental: bool = False  # read only what was written since the last run (a cursor per file)
    cursor_file: str | None = None  # a SQLite file for the cursors; default: the history store ([history] url)

    @field_validator("since")
    @classmethod
    def _since(cls, v: str) -> str:
        parse_since(v, datetime.now(UTC))
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as UTC or Europe/Berlin)") from None
        return v


class ReachSettings(_Strict):
    """Where the ``reach`` check probes from and what. The CloudStack settings it judges by come from the
    database; the three overrides replace them (or stand in when there is no database)."""

    from_hosts: list[str] = Field(default_factory=list)  # SSVM IPs ("host" or "host:port"; port [ssh] ssvm_port)
    ssvm_from_inventory: bool = False  # every running SSVM the database lists
    local: bool = False  # also probe from this machine
    urls: list[str] = Field(default_factory=list)  # besides the failing/in-progress and sampled template URLs
    sample: int = Field(20, ge=0, le=1000)  # registered template URLs sampled from the database
    cmdline_path: str = "/var/cache/cloud/cmdline"
    ssvm_check_path: str = "/usr/local/cloud/systemvm/ssvm-check.sh"
    follow_redirects: bool | None = None  # store.download.follow.redirects
    max_template_size_gb: float | None = Field(None, gt=0)  # max.template.iso.size
    allowed_internal_sites: list[str] | None = None  # secstorage.allowed.internal.sites (CIDRs)


class MtuSettings(_Strict):
    """Jumbo-frame paths to probe (the ``mtu`` check and ``csdiag mtu probe``)."""

    required: int = Field(9000, ge=576, le=65535)  # packet size (bytes, IP header included) that must pass
    targets: list[str] = Field(default_factory=list)  # hosts or addresses to probe
    storage_from_inventory: bool = True  # also the NFS servers of the image stores (needs the database)
    from_hosts: list[str] = Field(default_factory=list)  # SSH vantage points that run ping ([ssh] defaults)
    local: bool = True  # probe from this machine too
    timeout_s: float = Field(1.0, gt=0, le=30)  # wait per probe
    probe: Literal["auto", "icmp", "udp"] = "auto"  # auto: ICMP echo with raw sockets when allowed, else UDP


class StorageTarget(_Strict):
    """``[[storage]]``: an image store to probe besides (or instead of) those the database lists."""

    url: str  # nfs://server/export
    mount_path: str | None = None  # a local mount of this export (else: every matching NFS mount here)
    modes: list[Literal["protocol", "mounted", "ssvm"]] | None = None  # default: every mode that applies
    largest_template_bytes: int | None = Field(None, ge=0)  # when the database is not available
    ssvm_hosts: list[str] = Field(default_factory=list)  # SSVMs to probe from (SSH, port [ssh] ssvm_port)
    ssvm_mount_path: str | None = None  # where the SSVM mounts it; default /mnt/SecStorage/<uuid of server:export>

    @field_validator("url")
    @classmethod
    def _nfs(cls, v: str) -> str:
        if not v.startswith("nfs://"):
            raise ValueError("only nfs:// image stores are probed (S3/Swift stores are skipped)")
        return v


class HistorySettings(_Strict):
    """Where past runs are kept: SQLite by default, any SQLAlchemy URL for a shared store."""

    url: str = Field(default_factory=lambda: f"sqlite:///{_state_dir() / 'history.sqlite'}")
    password_env: str | None = None  # the password of a shared store, kept out of the URL
    password_file: str | None = None
    retention_days: int = Field(180, ge=1, le=3650)
    record: bool = False  # also record `triage` runs (`report` always records)

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, v: str) -> str:
        if re.match(r"^[a-z0-9+]+://[^/@:]+:[^/@]+@", v):
            raise ValueError("put the password in password_env or password_file, not in the URL")
        return v

    def full_url(self) -> str:
        """The URL with the password from its secret source, for the store connection only."""
        if self.password_env is None and self.password_file is None:
            return self.url
        secret = Secret(
            key="history.password", env=self.password_env, file=Path(self.password_file) if self.password_file else None
        )
        scheme, rest = self.url.split("://", 1)
        user, _, host = rest.partition("@")
        from urllib.parse import quote

        return f"{scheme}://{user}:{quote(secret.reveal(), safe='')}@{host}"


class GateProfile(_Strict):
    """``[gate.profiles.<name>]``: which checks a readiness gate runs and what fails it."""

    checks: list[str] = Field(default_factory=list)  # empty: every check
    fail_on: Literal["warn", "crit"] = "crit"
    allow_unknown: bool = False
    waivers: str | None = None  # waiver file used when --waivers is not given


class GateSettings(_Strict):
    profiles: dict[str, GateProfile] = Field(default_factory=dict)


class ImagesSettings(_Strict):
    """``[images]``: which templates the images check verifies on secondary storage, and from where."""

    templates: list[int | str] = Field(default_factory=list)  # ids, uuids or names
    all: bool = False  # every downloaded template (reads every image: plan the time)
    ssvm_hosts: list[str] = Field(default_factory=list)  # default: the running SSVMs of the store's zone
    ssvm_mount_path: str | None = None  # default /mnt/SecStorage/<uuid of server:export>
    local_mounts: dict[str, str] = Field(default_factory=dict)  # store URL or id → a local mount: hash here
    lint: bool = True  # also lint images read through a local mount


class ReportSettings(_Strict):
    """``[report]``: how `csdiag report` judges change over time."""

    crit_after_runs: int = Field(1, ge=1, le=100)  # a CRIT must persist this many runs in a row, else WARN
    trend_days: int = Field(30, ge=1, le=3650)  # history used for trends and forecasts
    runner_stale_after: str = "6h"  # report --fleet: a runner whose last run is older is RUNNER_STALE (WARN)

    @field_validator("runner_stale_after")
    @classmethod
    def _stale(cls, v: str) -> str:
        parse_duration(v)
        return v


class EmailSettings(_Strict):
    """``[email]``: where `csdiag report --email` sends the report."""

    smtp_host: str
    smtp_port: int | None = Field(None, ge=1, le=65535)  # default: 587 starttls, 465 tls, 25 none
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = Field(None, repr=False)
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None  # a CA bundle to verify the server with (default: the system's)
    sender: str
    recipients: list[str] = Field(min_length=1)
    subject: str = "[csdiag] {verdict} — {crit} critical, {warn} warnings"
    only_on_change: bool = False  # send only when findings are new or resolved since the previous run
    timeout_s: float = Field(30.0, gt=0, le=600)
    attempts: int = Field(3, ge=1, le=10)  # with exponential backoff between them
    backoff_s: float = Field(2.0, ge=0, le=300)

    _literal_password = field_validator("password")(_private_literal)

    @model_validator(mode="after")
    def _checks(self) -> EmailSettings:
        _one_source(self, "password")
        if (self.password is not None or self.password_env or self.password_file) and not self.username:
            raise ValueError("a password needs a username")
        try:
            self.subject.format(verdict="", crit=0, warn=0, unknown=0, new=0, resolved=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"subject: unknown placeholder {exc} (use verdict, crit, warn, unknown, new, resolved)"
            ) from None
        return self

    @property
    def port(self) -> int:
        return self.smtp_port or {"starttls": 587, "tls": 465, "none": 25}[self.security]

    def password_secret(self) -> Secret | None:
        return _secret_of(self, "password", "email.password")


class Settings(_Strict):
    """The whole configuration. Sections are optional; checks say what they need."""

    run: RunSettings = RunSettings()
    cloudstack: CloudStackSettings = CloudStackSettings()
    logs: LogsSettings = LogsSettings()
    ssh: SshSettings = SshSettings()
    gate: GateSettings = GateSettings()
    reach: ReachSettings = ReachSettings()
    mtu: MtuSettings = MtuSettings()
    storage: list[StorageTarget] = Field(default_factory=list)
    history: HistorySettings = HistorySettings()
    images: ImagesSettings = ImagesSettings()
    switches: list[SwitchSettings] = Field(default_factory=list)
    links: list[LinkSettings] = Field(default_factory=list)
    report: ReportSettings = ReportSettings()
    email: EmailSettings | None = None
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The file these settings were read from (None for built-in defaults)."""
        return self._path

    def secrets(self) -> list[Secret]:
        found: list[Secret] = []
        if self.cloudstack.database and (s := self.cloudstack.database.password_secret()):
            found.append(s)
        if self.cloudstack.api:
            found.append(self.cloudstack.api.secret_key_secret())
        if s := self.ssh.passphrase_secret():
            found.append(s)
        if self.history.password_env or self.history.password_file:
            found.append(
                Secret(
                    key="history.password",
                    env=self.history.password_env,
                    file=Path(self.history.password_file) if self.history.password_file else None,
                )
            )
        for i, sw in enumerate(self.switches):
            if sw.snmp is not None:
                found += [
                    sec
                    for name in ("community", "auth_key", "priv_key")
                    if (sec := sw.snmp.secret(name, f"switches[{i}].snmp.{name}"))
                ]
            if sw.ssh is not None and (sec := sw.ssh.password_secret(f"switches[{i}].ssh.password")):
                found.append(sec)
        if self.email is not None and (sec := self.email.password_secret()):
            found.append(sec)
        return found

    def verify_secrets(self) -> None:
        """Read every configured secret once, so a missing one fails before any check runs."""
        for secret in self.secrets():
            try:
                secret.reveal()
            except ConfigError as exc:
                raise ConfigError(exc.message, file=self._path, key=exc.key) from None

    def summary(self) -> dict[str, Any]:
        """A redacted description for run documents and bundles: where things are, never secrets."""
        db = self.cloudstack.database
        return {
            "file": str(self._path) if self._path else None,
            "run": self.run.model_dump(),
            "database": None
            if db is None
            else {
                "host": db.host,
                "port": db.port,
                "user": db.user,
                "database": db.database,
                "password": (s.origin if (s := db.password_secret()) else None),
            },
            "thresholds": sorted(self.thresholds),
        }


def key_path(loc: Sequence[int | str]) -> str:
    """``('switches', 2, 'snmp', 'version')`` → ``switches[2].snmp.version``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _first_error(exc: ValidationError, file: Path | None, prefix: Sequence[str | int] = ()) -> ConfigError:
    err = exc.errors()[0]
    loc = [p for p in (*prefix, *err["loc"]) if not (isinstance(p, str) and p.startswith("function-"))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(msg, file=file, key=key_path(loc) or None)


def _is_private(path: Path) -> bool:
    mode = path.stat().st_mode
    return not mode & (stat.S_IRGRP | stat.S_IROTH)


def parse_settings(data: Mapping[str, Any], *, file: Path | None = None, file_private: bool = False) -> Settings:
    try:
        settings = Settings.model_validate(data, context={"file_private": file_private})
    except ValidationError as exc:
        raise _first_error(exc, file) from None
    settings._path = file
    return settings


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path``, or the first default location that exists, or return defaults.

    An explicitly named file that does not exist is an error; missing default files are not.
    """
    if path is None:
        for candidate in DEFAULT_PATHS:
            candidate = candidate.expanduser()
            if candidate.is_file():
                path = candidate
                break
        else:
            return Settings()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("no such file", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=path) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=path) from None
    return parse_settings(data, file=path, file_private=_is_private(path))


def check_params(settings: Settings, name: str, params_cls: type[BaseModel]) -> BaseModel:
    """Validate ``[thresholds.<name>]`` against the check's parameters class (defaults when absent)."""
    try:
        return params_cls.model_validate(settings.thresholds.get(name, {}))
    except ValidationError as exc:
        raise _first_error(exc, settings.path, ("thresholds", name)) from None


def example_text() -> str:
    """The documented example configuration shipped with the package."""
    return (Path(__file__).parent / "config.example.toml").read_text(encoding="utf-8")
