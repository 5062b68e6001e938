"""The signature catalogue: how each CloudStack template failure reads, what it means, what to do.

One table, used two ways: the ``templates`` check classifies ``template_store_ref.error_str`` with it,
and the ``logs`` check matches log messages against the same entries. Each entry has a literal that
must occur in the text (a cheap pre-filter, tried before any regex) and optionally a regex whose named
groups are the facts to extract (algorithm and digests, HTTP status, path, ...). Order matters: the
first matching entry wins, so specific I/O causes come before the generic wrappers that carry them
("Failed post download script: … No space left on device" is a full store, not a script failure).

Message texts are those of cloudstack.md §2 and §4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from diagnostics.model import Severity


@dataclass(frozen=True)
class Signature:
    code: str
    severity: Severity
    literal: str
    title: str
    remediation: str
    pattern: re.Pattern[str] | None = None
    ignore_case: bool = False
    applies_to: frozenset[str] = field(default_factory=lambda: frozenset({"error_str", "log"}))
    # The logs ("management", "ssvm", "agent") that write this text below WARN: the log scanner must look for
    # the literal itself there, because its cheap pre-filter otherwise keeps only WARN/ERROR/FATAL lines.
    quiet_in: frozenset[str] = frozenset()

    def match(self, text: str) -> dict[str, Any] | None:
        """The extracted facts when ``text`` carries this signature, else None."""
        hay, needle = (text.lower(), self.literal.lower()) if self.ignore_case else (text, self.literal)
        if needle not in hay:
            return None
        if self.pattern is None:
            return {}
        m = self.pattern.search(text)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


_RESTART_SSVM = (
    "Restart the SSVM (Infrastructure › System VMs › Reboot, or the rebootSystemVm API): it clears stale "
    "jobs and the management server retries through template sync."
)
_FIX_STORE = (
    "Fix the export (rw, no_root_squash), free space to at least 3× the largest template, then "
    "re-register the template or restart the SSVM."
)

_LOG = frozenset({"log"})
_MS = frozenset({"management"})
_SSVM = frozenset({"ssvm"})

CATALOGUE: tuple[Signature, ...] = (
    Signature(
        code="STORAGE_FULL",
        severity=Severity.CRIT,
        literal="No space left on device",
        title="secondary storage is full",
        remediation=_FIX_STORE + " Or add an image store / migrate data (migrateSecondaryStorageData).",
    ),
    Signature(
        code="STORAGE_READ_ONLY",
        severity=Severity.CRIT,
        literal="Read-only file system",
        title="secondary storage is mounted read-only",
        remediation=_FIX_STORE,
    ),
    Signature(
        code="CHECKSUM_MISMATCH",
        severity=Severity.CRIT,
        literal="didn't match the given value",
        title="the downloaded image does not match the registered checksum",
        pattern=re.compile(
            r'checksum "(?:\{(?P<algorithm>[A-Za-z0-9-]+)\})?(?P<computed>[0-9A-Fa-f]+)" didn\'t match the given '
            r'value, "(?:\{(?P<given_algorithm>[A-Za-z0-9-]+)\})?(?P<expected>[0-9A-Fa-f]*)"'
        ),
        remediation=(
            "Recompute the digest at the source (sha256sum FILE) and re-register the template with the verified "
            "value written as {SHA-256}<lower-case hex>; if the source matches, the payload was corrupted in "
            "transfer: download it again."
        ),
    ),
    Signature(
        code="CHECKSUM_MISMATCH",
        severity=Severity.CRIT,
        literal="checksum algorithm not recognised",
        title="the registered checksum names an algorithm CloudStack does not know",
        pattern=re.compile(r"checksum algorithm not recognised: ?(?P<algorithm>\S*)"),
        remediation="Re-register the template with a checksum written as {MD5}, {SHA-1}, {SHA-256} or {SHA-512} "
        "followed by the lower-case hex digest.",
    ),
    Signature(
        code="INVALID_TEMPLATE_FORMAT",
        severity=Severity.CRIT,
        literal="is not a valid",
        title="the downloaded file is not a valid image of the registered format",
        pattern=re.compile(r"is not a valid (?P<format>\w+)"),
        remediation="Check the file at the URL is really the format registered (qemu-img info FILE); convert it "
        "or re-register with the right format.",
    ),
    Signature(
        code="INVALID_TEMPLATE_FORMAT",
        severity=Severity.CRIT,
        literal="invalid file format",
        title="the downloaded file has an invalid format",
        remediation="Check the file at the URL is really the format registered (qemu-img info FILE); convert it "
        "or re-register with the right format.",
    ),
    Signature(
        code="INVALID_TEMPLATE_FORMAT",
        severity=Severity.CRIT,
        literal="failed to uncompress",
        title="the downloaded archive could not be uncompressed",
        remediation="Check the compression of the file at the URL (gzip/bzip2/zip) matches its name; re-register "
        "an uncompressed image if in doubt.",
    ),
    Signature(
        code="INVALID_TEMPLATE_FORMAT",
        severity=Severity.CRIT,
        literal="vhd check of",
        title="the VHD consistency check failed",
        remediation="Repair or re-export the VHD (vhd-util check) and register it again.",
    ),
    Signature(
        code="TEMPLATE_CORRUPTED",
        severity=Severity.CRIT,
        literal="is corrupted on secondary storage",
        quiet_in=_MS,
        title="template sync found the template corrupted on secondary storage",
        remediation="Check template.properties beside the image (filename, size, virtualsize > 0); delete the "
        "copy on that store and let template sync copy it again, or re-register.",
    ),
    Signature(
        code="DOWNLOAD_TIMEOUT",
        severity=Severity.CRIT,
        literal="imeout waiting for response from storage host",
        title="the management server stopped hearing from the SSVM about this download",
        remediation="Check the SSVM's agent is Up and can reach the management servers on port 8250; " + _RESTART_SSVM,
    ),
    Signature(
        code="STORAGE_DISCONNECTED",
        severity=Severity.CRIT,
        literal="disconnected",
        title="the SSVM (storage agent) disconnected during the download",
        pattern=re.compile(r"(?:Storage agent or storage VM disconnected|storage host disconnected)"),
        remediation="Find why the SSVM agent disconnected (csdiag ssvm check, ssvm-check.sh on the SSVM); "
        + _RESTART_SSVM,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="HTTP Server returned",
        title="the template URL answered with an HTTP error",
        pattern=re.compile(r"HTTP Server returned (?P<http_status>\d{3})"),
        remediation="Open the URL from the SSVM (curl -I URL): fix the URL, its access rights, or the proxy "
        "(secstorage.proxy); CloudStack does not follow redirects unless store.download.follow.redirects is on.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Stream closed",
        quiet_in=_SSVM,
        title="the download stream closed early (interrupted transfer, or a file that is not the format registered)",
        remediation="Check the URL serves the whole file (Content-Length, Accept-Ranges) and that it is the "
        "format registered; check SSVM egress and proxy stability.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="size is too large",
        title="the file is larger than max.template.iso.size allows",
        remediation="Raise max.template.iso.size (GB) above the file's size, or use a smaller (QCOW2, thin) image.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Remote size is too large",
        quiet_in=_SSVM,
        title="the file is larger than max.template.iso.size allows",
        pattern=re.compile(r"Remote size is too large: (?P<remote_size>\d+) , max=(?P<max_size>\d+)"),
        remediation="Raise max.template.iso.size (GB) above the file's size, or use a smaller (QCOW2, thin) image.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Unable to start download",
        title="the SSVM could not start the download (bad URL, DNS or egress)",
        remediation="Check the URL from the SSVM (getent hosts, curl -I), the egress firewall, "
        "secstorage.allowed.internal.sites for internal repositories and secstorage.proxy.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="UNRECOVERABLE_ERROR",
        quiet_in=_SSVM,
        title="the SSVM gave up the download (unrecoverable error)",
        remediation="Read the SSVM's /var/log/cloud.log around this job for the cause; fix it and re-register.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="Cannot find job",
        title="the SSVM lost the download job (it restarted during the download)",
        remediation="Let template sync retry, or re-register the template; " + _RESTART_SSVM,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="Download canceled",
        title="the download was canceled",
        remediation="Re-register the template, or restart the SSVM so template sync retries it.",
    ),
    Signature(
        code="NFS_MOUNT_FAILED",
        severity=Severity.CRIT,
        literal="Unable to mount",
        title="the SSVM could not mount the secondary storage export",
        pattern=re.compile(r"Unable to mount (?P<export>\S+) at (?P<mount_point>\S+)"),
        remediation="Check the export from the SSVM (showmount -e, rpcinfo), its ACL for the SSVM's storage IP, "
        "and secstorage.nfs.version.",
    ),
    Signature(
        code="NO_SSVM",
        severity=Severity.CRIT,
        literal="no secondary storage VM",
        ignore_case=True,
        title="no running secondary storage VM could take the job",
        remediation="Check the zone's SSVM (csdiag ssvm check): start it, or fix why it cannot start.",
    ),
    Signature(
        code="NO_SSVM",
        severity=Severity.CRIT,
        literal="No remote endpoint to send command",
        title="no SSVM endpoint was available for the command",
        remediation="Check the zone's SSVM (csdiag ssvm check): start it, or fix why its agent is not Up.",
    ),
    Signature(
        code="NO_SSVM",
        severity=Severity.CRIT,
        literal="no secondary storage vm in running state",
        ignore_case=True,
        title="no running SSVM in the source zone to copy the template",
        remediation="Start the zone's SSVM or fix why its agent is not Up (csdiag ssvm check).",
        applies_to=_LOG,
    ),
    Signature(
        code="STORAGE_FULL",
        severity=Severity.CRIT,
        literal="has not enough capacity",
        title="an image store is above secondary.storage.capacity.threshold",
        pattern=re.compile(r"Image storage \[(?P<store>[^\]]*)\] has not enough capacity"),
        remediation=_FIX_STORE + " Or add an image store / migrate data (migrateSecondaryStorageData).",
        applies_to=_LOG,
    ),
    Signature(
        code="STORAGE_FULL",
        severity=Severity.CRIT,
        literal="image storage in zone with less than",
        title="no image store in the zone is below the capacity threshold",
        remediation="Free space on the zone's image stores or add one; stores above "
        "secondary.storage.capacity.threshold get no downloads and no SSVM.",
        applies_to=_LOG,
    ),
    Signature(
        code="STORAGE_FULL",
        severity=Severity.WARN,
        literal="doesn't have enough capacity",
        quiet_in=_MS,
        title="an image store was skipped for a download because it is too full",
        pattern=re.compile(r"Skip downloading template to this image store (?P<store>\S+)"),
        remediation="Free space on the store or add another; until then templates are not copied to it.",
        applies_to=_LOG,
    ),
    Signature(
        code="NFS_MOUNT_FAILED",
        severity=Severity.CRIT,
        literal="Failed to get root directory from secondary storage URL",
        title="the SSVM could not mount the secondary storage export",
        pattern=re.compile(r"secondary storage URL \[(?P<export>[^\]]*)\]"),
        remediation="Check the export from the SSVM (showmount -e, rpcinfo), its ACL for the SSVM's storage IP, "
        "and secstorage.nfs.version.",
        applies_to=_LOG,
    ),
    Signature(
        code="SSVM_START_FAILED",
        severity=Severity.CRIT,
        literal="Unable to start secondary storage VM",
        title="the management server could not start the SSVM",
        pattern=re.compile(r"Unable to start secondary storage VM \[(?P<ssvm>[^\]]*)\] due to \[(?P<reason>.*)\]"),
        remediation="Read the reason; usual causes: no free public/management IP, the system VM template not "
        "Ready in the zone, no host with capacity.",
        applies_to=_LOG,
    ),
    Signature(
        code="SSVM_START_FAILED",
        severity=Severity.CRIT,
        literal="No secondary storage available in zone",
        title="the zone has no usable image store, so no SSVM can be created",
        remediation="Add an image store to the zone, or fix the existing one (capacity, read-only flag).",
        applies_to=_LOG,
    ),
    Signature(
        code="SSVM_START_FAILED",
        severity=Severity.CRIT,
        literal="Secondary Storage Vm",
        quiet_in=_MS,
        title="CloudStack raised an SSVM alert",
        pattern=re.compile(r"Secondary Storage Vm (?P<alert>is down|creation failure|startup failure|storage issue)"),
        remediation="Check the SSVM (csdiag ssvm check) and management-server.log around the alert.",
        applies_to=_LOG,
    ),
    Signature(
        code="AGENT_DISCONNECTED",
        severity=Severity.WARN,
        literal="Disconnect agent for CPVM/SSVM",
        title="a system VM's agent connection to the management server closed",
        pattern=re.compile(r"host: (?P<host>\S+)"),
        remediation="Check the SSVM reaches the management servers on port 8250 (ssvm-check.sh); restart the "
        "cloud service on the SSVM if it does not reconnect.",
        applies_to=_LOG,
    ),
    Signature(
        code="AGENT_DISCONNECTED",
        severity=Severity.WARN,
        literal="Agent is disconnected but the host is still up",
        title="an agent disconnected while its host still runs",
        remediation="Check the agent's connectivity to port 8250 and restart the agent (cloudstack-agent / cloud "
        "service on the SSVM).",
        applies_to=_LOG,
    ),
    Signature(
        code="AGENT_DISCONNECTED",
        severity=Severity.WARN,
        literal="is there a server running on port 8250",
        title="the agent cannot connect to the management server on port 8250",
        remediation="Check the management server listens on 8250 and the firewall between them; check the 'host' "
        "global setting and the agent's /var/cache/cloud/cmdline host=.",
        applies_to=_LOG,
    ),
    Signature(
        code="AGENT_DISCONNECTED",
        severity=Severity.WARN,
        literal="Lost connection to host",
        title="the agent lost its connection to the management server",
        remediation="Check connectivity to the management servers on port 8250.",
        applies_to=_LOG,
    ),
    Signature(
        code="AGENT_DISCONNECTED",
        severity=Severity.WARN,
        literal="Found the following agents behind on ping",
        title="agents are behind on ping",
        remediation="Check the listed agents' connectivity and the management server's load.",
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_TIMEOUT",
        severity=Severity.WARN,
        literal="Unable to monitor download progress",
        title="the management server could not monitor a download",
        remediation="Check the SSVM's agent is Up; " + _RESTART_SSVM,
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="no job found",
        title="the SSVM no longer knows the download job (it restarted during the download)",
        remediation="Let template sync retry, or re-register the template.",
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Failed to register template",
        title="registering the template failed",
        remediation="Read the error after 'with error:'; fix the URL, checksum or store and register again.",
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="Unable to start /resume download of template",
        title="the management server could not start or resume a download",
        remediation="Check the zone's SSVM is Up and the store has room.",
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="Caught exception during download",
        title="the SSVM hit an exception while downloading",
        remediation="Read the exception; check the URL from the SSVM and the store it writes to.",
        applies_to=_LOG,
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.WARN,
        literal="Caught exception while doing template/volume sync",
        title="template sync failed",
        remediation="Read the stack trace; template sync retries at the next SSVM connection.",
        applies_to=_LOG,
    ),
    Signature(
        code="SCRIPT_TIMEOUT",
        severity=Severity.WARN,
        literal="imed out",
        pattern=re.compile(
            r"(?:Timed out: (?P<command>.+)|Process \[.*?\] for command \[(?P<command2>.*?)\] timed out)"
        ),
        title="a script on the SSVM timed out",
        remediation="Check the SSVM's load and the secondary storage's responsiveness (a hung NFS mount makes "
        "every script time out).",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Failed post download script",
        title="the post-download step (checksum, format checks) failed",
        remediation="Read the reason after 'Failed post download script:'; fix the image or its registration "
        "and register it again.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Failed to install",
        title="installing the downloaded template failed",
        remediation="Read the reason after 'Failed to install:'; check the store is writable with room to spare.",
    ),
    Signature(
        code="DOWNLOAD_FAILED",
        severity=Severity.CRIT,
        literal="Unable to download",
        title="the SSVM could not download the template",
        remediation="Check the URL from the SSVM and the secondary storage it writes to.",
    ),
)


@dataclass(frozen=True)
class Classification:
    signature: Signature | None
    facts: dict[str, Any]

    @property
    def code(self) -> str:
        return self.signature.code if self.signature else "UNCLASSIFIED"

    @property
    def title(self) -> str:
        return self.signature.title if self.signature else "an error CloudStack reported without a known cause"


def classify(text: str | None, where: str = "error_str") -> Classification:
    """The first catalogue entry that matches ``text`` (for ``where``: ``error_str`` or ``log``)."""
    if text:
        for sig in CATALOGUE:
            if where in sig.applies_to and (facts := sig.match(text)) is not None:
                if "command2" in facts:
                    facts["command"] = facts.pop("command2")
                return Classification(sig, facts)
    return Classification(None, {})
