"""``[[switches]]`` and ``[[links]]``: the switches whose optics the optics check reads (SNMP and/or SSH
CLI, with their credentials' sources) and the fibres between their ports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from diagnostics.config_base import Secret
from diagnostics.config_base import StrictModel as _Strict
from diagnostics.config_base import one_source as _one_source
from diagnostics.config_base import private_literal as _private_literal
from diagnostics.config_base import secret_of as _secret_of


class SnmpSettings(_Strict):
    """``[[switches]] snmp = {…}``: v1/v2c with a community, or v3 USM (authPriv: SHA/AES)."""

    version: Literal["1", "2c", "3"] = "2c"
    port: int = Field(161, ge=1, le=65535)
    context: str = ""  # SNMPv3 context name (most devices: empty)
    timeout_s: float = Field(2.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=5)
    community: str | None = Field(None, repr=False)
    community_env: str | None = None
    community_file: str | None = None
    user: str | None = None
    auth_protocol: Literal["md5", "sha", "sha256", "sha512"] | None = None
    auth_key: str | None = Field(None, repr=False)
    auth_key_env: str | None = None
    auth_key_file: str | None = None
    priv_protocol: Literal["des", "aes", "aes256"] | None = None
    priv_key: str | None = Field(None, repr=False)
    priv_key_env: str | None = None
    priv_key_file: str | None = None

    _literal_community = field_validator("community", "auth_key", "priv_key")(_private_literal)

    @model_validator(mode="after")
    def _complete(self) -> SnmpSettings:
        for name in ("community", "auth_key", "priv_key"):
            _one_source(self, name)
        if self.version == "3":
            if not self.user:
                raise ValueError("SNMPv3 needs user")
            if self.priv_protocol and not self.auth_protocol:
                raise ValueError("SNMPv3 privacy (priv_protocol) needs authentication (auth_protocol)")
        elif _secret_of(self, "community", "community") is None:
            raise ValueError(f"SNMPv{self.version} needs community_env, community_file or community")
        return self

    def secret(self, name: str, key: str) -> Secret | None:
        return _secret_of(self, name, key)


class SwitchSshSettings(_Strict):
    username: str
    password: str | None = Field(None, repr=False)
    password_env: str | None = None
    password_file: str | None = None
    key_file: str | None = None
    port: int = Field(22, ge=1, le=65535)
    timeout_s: float = Field(20.0, gt=0, le=300)

    _literal_password = field_validator("password")(_private_literal)

    @model_validator(mode="after")
    def _one_secret(self) -> SwitchSshSettings:
        _one_source(self, "password")
        return self

    def password_secret(self, key: str) -> Secret | None:
        return _secret_of(self, "password", key)


Transport = Literal["snmp", "ssh"]


def _snmp_only() -> list[Transport]:
    return ["snmp"]


class SwitchSettings(_Strict):
    """``[[switches]]``: a switch whose optics the optics check reads."""

    name: str
    host: str
    platform: Literal[
        "cisco_ios",
        "cisco_xe",
        "cisco_xr",
        "cisco_nxos",
        "arista_eos",
        "juniper_junos",
        "huawei_vrp",
        "sonic",
        "generic",
    ]
    transport: list[Transport] = Field(default_factory=_snmp_only, min_length=1)
    snmp: SnmpSettings | None = None
    ssh: SwitchSshSettings | None = None
    ports: list[str] = Field(default_factory=list)  # "Ethernet1-48" ranges or fnmatch globs; default: all

    @model_validator(mode="after")
    def _transports(self) -> SwitchSettings:
        if "snmp" in self.transport and self.snmp is None:
            raise ValueError("transport snmp needs an snmp = {…} table")
        if "ssh" in self.transport and self.ssh is None:
            raise ValueError("transport ssh needs an ssh = {…} table")
        return self


class LinkSettings(_Strict):
    """``[[links]]``: a fibre between two switch ports, where LLDP cannot tell (or to give its length)."""

    a: str  # "switch:port"
    b: str
    length_km: float | None = Field(None, ge=0, le=200)
    type: str | None = None  # e.g. 10GBASE-LR: its standard channel insertion loss when no length is given
    connectors: int = Field(2, ge=0, le=50)
    splices: int = Field(0, ge=0, le=100)
    fiber_db_per_km: float = Field(0.4, gt=0, le=5)  # 0.4 at 1310 nm, 0.25 at 1550 nm

    @field_validator("a", "b")
    @classmethod
    def _port(cls, v: str) -> str:
        if ":" not in v or not all(v.split(":", 1)):
            raise ValueError("give switch:port, e.g. leaf1:Ethernet49")
        return v
