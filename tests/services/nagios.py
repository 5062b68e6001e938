"""Nagios Core 4 (Debian ``nagios4-core``) in a throwaway folder, with one host and services whose
check commands the test gives, and a reader of what the daemon recorded (``status.dat``).

The daemon runs in the foreground as a child of the test (no ``-d``), with ``interval_length=1`` so
intervals are seconds; a check is forced at once through the external command file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import stop, unavailable

NAGIOS = "/usr/sbin/nagios4"
HOST = "cloudstack-site"

_SERVICE = """\
define command {{
  command_name check_{n}
  command_line {command}
}}
define service {{
  host_name {host}
  service_description {service}
  check_command check_{n}
  max_check_attempts 1
  check_interval 3600
  retry_interval 3600
  check_period always
  notification_period always
  contacts nobody
}}
"""

_MAIN = """\
log_file={d}/nagios.log
cfg_file={d}/objects.cfg
object_cache_file={d}/objects.cache
precached_object_file={d}/objects.precache
resource_file={d}/resource.cfg
status_file={d}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={group}
check_external_commands=1
command_file={d}/nagios.cmd
lock_file={d}/nagios.lock
temp_file={d}/nagios.tmp
temp_path={d}
check_result_path={d}/checkresults
retain_state_information=0
state_retention_file={d}/retention.dat
interval_length=1
execute_service_checks=1
execute_host_checks=0
enable_notifications=0
enable_flap_detection=0
max_service_check_spread=1
max_host_check_spread=1
check_result_reaper_frequency=1
service_check_timeout=60
use_syslog=0
log_initial_states=0
enable_environment_macros=0
process_performance_data=0
"""

_OBJECTS = """\
define timeperiod {{
  timeperiod_name always
  alias always
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}}
define command {{
  command_name do_nothing
  command_line /bin/true
}}
define contact {{
  contact_name nobody
  service_notification_period always
  host_notification_period always
  service_notification_options n
  host_notification_options n
  service_notification_commands do_nothing
  host_notification_commands do_nothing
}}
define host {{
  host_name {host}
  address 127.0.0.1
  check_command do_nothing
  max_check_attempts 1
  check_period always
  notification_period always
  contacts nobody
}}
{services}"""


@dataclass
class ServiceStatus:
    """What Nagios recorded for the service after running its plugin."""

    state: int  # 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
    output: str  # the first line (plugin_output)
    long_output: str  # the other lines
    perfdata: str
    raw: dict[str, str]


@dataclass
class Nagios:
    folder: Path
    process: subprocess.Popen[bytes]

    def command(self, text: str) -> None:
        """Write one external command (``SCHEDULE_FORCED_SVC_CHECK;…``) to the daemon's command pipe."""
        with (self.folder / "nagios.cmd").open("w", encoding="utf-8") as pipe:
            pipe.write(f"[{int(time.time())}] {text}\n")

    def force_check(self, service: str) -> None:
        self.command(f"SCHEDULE_FORCED_SVC_CHECK;{HOST};{service};{int(time.time())}")

    def status(self, service: str) -> ServiceStatus | None:
        """The service's block of ``status.dat`` once it has been checked, else None."""
        path = self.folder / "status.dat"
        if not path.exists():
            return None
        block = _service_block(path.read_text(encoding="utf-8", errors="replace"), service)
        if not block or block.get("has_been_checked") != "1":
            return None
        return ServiceStatus(
            state=int(block["current_state"]),
            output=block.get("plugin_output", ""),
            long_output=block.get("long_plugin_output", "").replace("\\n", "\n"),
            perfdata=block.get("performance_data", ""),
            raw=block,
        )

    def wait_for_check(self, service: str, timeout_s: float = 60.0) -> ServiceStatus:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nagios exited {self.process.returncode}: {self.log()}")
            st = self.status(service)
            if st is not None:
                return st
            time.sleep(0.3)
        raise AssertionError(f"nagios ran no check within {timeout_s} s: {self.log()}")

    def log(self) -> str:
        p = self.folder / "nagios.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else "(no log)"


def _service_block(text: str, service: str) -> dict[str, str] | None:
    for chunk in text.split("servicestatus {")[1:]:
        body = chunk.split("\n\t}", 1)[0]
        fields = {}
        for line in body.splitlines():
            key, eq, value = line.strip().partition("=")
            if eq:
                fields[key] = value
        if fields.get("host_name") == HOST and fields.get("service_description") == service:
            return fields
    return None


@contextmanager
def nagios_daemon(services: dict[str, str]) -> Iterator[Nagios]:
    """Nagios 4 with one host and a service per ``services`` item: description → check command line."""
    if not Path(NAGIOS).exists():
        unavailable(f"{NAGIOS} not installed (apt nagios4-core)")
    import grp
    import pwd

    with tempfile.TemporaryDirectory(prefix="csdiag-nagios-") as tmp:
        d = Path(tmp)
        (d / "checkresults").mkdir()
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        (d / "nagios.cfg").write_text(_MAIN.format(d=d, user=user, group=group))
        (d / "resource.cfg").write_text("$USER1$=/usr/lib/nagios/plugins\n")
        defined = "".join(
            _SERVICE.format(n=n, command=command, host=HOST, service=service)
            for n, (service, command) in enumerate(services.items())
        )
        (d / "objects.cfg").write_text(_OBJECTS.format(host=HOST, services=defined))
        verify = subprocess.run([NAGIOS, "-v", str(d / "nagios.cfg")], capture_output=True, text=True, timeout=30)
        if verify.returncode != 0:
            unavailable(f"nagios -v rejected the configuration: {verify.stdout[-1500:]}")
        proc = subprocess.Popen(
            [NAGIOS, str(d / "nagios.cfg")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=d
        )
        try:
            deadline = time.monotonic() + 20
            while not (d / "nagios.cmd").exists():
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    unavailable(f"nagios exited {proc.returncode} at start: {err[-1000:]}")
                if time.monotonic() > deadline:
                    unavailable("nagios did not open its command pipe within 20 s")
                time.sleep(0.1)
            yield Nagios(d, proc)
        finally:
            stop(proc)
            if proc.stderr:
                proc.stderr.close()
            shutil.rmtree(d / "checkresults", ignore_errors=True)
