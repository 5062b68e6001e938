"""Reading switch CLI output over SSH with netmiko (raw text: checks/optics_cli.py parses it).

Host keys are verified against ``[ssh] known_hosts`` unless ``accept_unknown_host_keys`` is set, every
step has a timeout, and a refused login or an unreachable switch becomes an ``error`` in the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagnostics.config import SshSettings, SwitchSettings

DEVICE_TYPES = {"huawei_vrp": "huawei"}  # netmiko's names where they differ from ntc-templates'


def collect(sw: SwitchSettings, ssh_defaults: SshSettings, timeout_s: float) -> dict[str, Any]:
    from pathlib import Path

    from checks.optics_cli import COMMANDS, MAX_MEMBERS, MEMBER_COMMAND, refused
    from diagnostics.config import ConfigError

    cfg = sw.ssh
    assert cfg is not None
    commands = [command for command, _ in COMMANDS.get(sw.platform, {}).values()]
    if not commands:
        return {"error": {"kind": "NotFound", "message": f"no CLI commands known for {sw.platform}: use SNMP"}}
    try:
        secret = cfg.password_secret(f"switches.{sw.name}.ssh.password")
        password = secret.reveal() if secret else None
    except ConfigError as exc:
        return {"error": {"kind": "AuthFailed", "message": str(exc)}}
    known_hosts = Path(ssh_defaults.known_hosts).expanduser()
    params: dict[str, Any] = {
        "device_type": DEVICE_TYPES.get(sw.platform, sw.platform),
        "host": sw.host,
        "port": cfg.port,
        "username": cfg.username,
        "conn_timeout": min(timeout_s, cfg.timeout_s),
        "auth_timeout": min(timeout_s, cfg.timeout_s),
        "banner_timeout": min(timeout_s, cfg.timeout_s),
        "read_timeout_override": min(timeout_s, cfg.timeout_s),
        "ssh_strict": not ssh_defaults.accept_unknown_host_keys,
        "system_host_keys": False,
        "alt_host_keys": known_hosts.exists(),
        "alt_key_file": str(known_hosts),
        "fast_cli": False,
    }
    if password is not None:
        params["password"] = password
    if cfg.key_file:
        params.update(use_keys=True, key_file=str(Path(cfg.key_file).expanduser()), allow_agent=False)
    try:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        with ConnectHandler(**params) as conn:
            outputs = {c: str(conn.send_command(c, read_timeout=cfg.timeout_s)) for c in commands}
            plain = outputs.get(COMMANDS["cisco_ios"]["transceiver"][0], "") if sw.platform == "cisco_ios" else ""
            if "% Incomplete" in plain:
                # a VSS/stack wants a member number: ask member 1, 2 … until one refuses
                for n in range(1, MAX_MEMBERS + 1):
                    member = MEMBER_COMMAND.format(n=n)
                    outputs[member] = str(conn.send_command(member, read_timeout=cfg.timeout_s))
                    if refused(outputs[member]):
                        break
            return {"outputs": outputs}
    except NetmikoAuthenticationException as exc:
        return {"error": {"kind": "AuthFailed", "message": f"{sw.host}:{cfg.port}: login refused ({_first(exc)})"}}
    except NetmikoTimeoutException as exc:
        return {"error": {"kind": "Timeout", "message": f"{sw.host}:{cfg.port}: {_first(exc)}"}}
    except Exception as exc:  # paramiko/netmiko raise many kinds (host key, socket, prompt)
        return {
            "error": {
                "kind": "Unreachable",
                "message": f"{sw.host}:{cfg.port}: {exc.__class__.__name__}: {_first(exc)}",
            }
        }


def _first(exc: BaseException) -> str:
    """netmiko's messages run over several lines of advice: keep the lines that say what happened."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return " ".join(lines[:2])[:300] or exc.__class__.__name__
