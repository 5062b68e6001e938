"""Harvest the messages CloudStack writes on its template / SSVM / secondary-storage paths, from its source.

Reads a local clone of apache/cloudstack (a fork with the full history) with ``git`` only and writes
``messages.tsv`` beside this file: one row per logger call, exception text, ``setErrorString`` /
failed-``Answer`` detail, message built into a variable or returned as an answer text, and install-script
error output, with the source file and line at the first release (of ``COMMITS``, oldest first) where
that text appears, the level (or the kind of text), and the message template (``{}`` for each variable
part). Columns: release, commit, source, log (management / ssvm / agent), level, finding, code, message;
``finding`` is "-" for exceptions the management server throws back to an API caller (input validation:
neither a log line of their own nor error_str). The ``finding`` and ``code``
columns (does an operator want a finding, and which code) are decided by ``LABELS`` below — one place
to review — and the tests check the catalogue against them (tests/unit/test_messages.py).

    .venv/bin/python tests/data/cloudstack_messages/harvest.py /work/.mirror/prashanthr2+cloudstack/repo

Nothing of CloudStack's code is copied: only message texts, as facts with their source position.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# 4.18.0.0 ("Updating pom.xml version numbers for release 4.18.0.0") and the main branch (4.22 snapshot).
COMMITS = {
    "4.18.0.0": "0574087284",
    "4.19.0.0": "2746225b99",
    "4.20.0.0": "2fe3fcef7c",
    "4.21.0.0": "f9513b47bf",
    "main": "b0601e5478",
}
# The classes the issue names (file basenames), and folders whose every class is on the path.
CLASSES = [
    "DownloadListener",
    "DownloadMonitorImpl",
    "TemplateServiceImpl",
    "TemplateManagerImpl",
    "HypervisorTemplateAdapter",
    "ImageStoreUploadMonitorImpl",
    "BaseImageStoreDriverImpl",
    "DownloadManagerImpl",
    "HttpTemplateDownloader",
    "MetalinkTemplateDownloader",
    "NfsSecondaryStorageResource",
    "SecondaryStorageManagerImpl",
    "SystemVmLoadScanner",
    "AgentManagerImpl",
    "Agent",
    "NioClient",
    "NioConnection",
    "AlertManagerImpl",
    "StorageOrchestrator",
    "DirectDownloadManagerImpl",
    "KVMStorageProcessor",
    "LibvirtStorageAdaptor",
    "DirectTemplateDownloaderImpl",
    "HttpDirectTemplateDownloader",
    "HttpsDirectTemplateDownloader",
    "MetalinkDirectTemplateDownloader",
    "NfsDirectTemplateDownloader",
    "QCOW2Processor",
    "StatsCollector",
    "ImageStoreProviderManagerImpl",
    "SecondaryStorageVmAlertAdapter",
]
FOLDERS = ("server/src/main/java/com/cloud/storage/download/",)
SCRIPTS = (
    "scripts/storage/secondary/createtmplt.sh",
    "scripts/storage/secondary/installIso.sh",
    "scripts/storage/secondary/createvolume.sh",
)
# Which log a class writes to (management-server.log, the SSVM's cloud.log, the KVM agent.log).
SSVM_CLASSES = {
    "DownloadManagerImpl@secondary",
    "HttpTemplateDownloader",
    "MetalinkTemplateDownloader",
    "NfsSecondaryStorageResource",
    "QCOW2Processor",
    "Agent",
    "NioClient",
    "NioConnection",
}
AGENT_CLASSES = {
    "KVMStorageProcessor",
    "LibvirtStorageAdaptor",
    "DirectTemplateDownloaderImpl",
    "HttpDirectTemplateDownloader",
    "HttpsDirectTemplateDownloader",
    "MetalinkDirectTemplateDownloader",
    "NfsDirectTemplateDownloader",
}

CALL = re.compile(
    r"\b(?:s_logger|logger|LOGGER|LOG|s_log)\s*\.\s*(?P<level>trace|debug|info|warn|error|fatal)\s*\("
    r"|\.log\s*\(\s*\"(?=[^\"]*\"\s*,\s*Level\.)"  # DownloadListener.log("…", Level.WARN) in 4.18
    r"|\.log\s*\(\s*Level\.(?P<level2>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s*,"
    r"|\bthrow\s+new\s+(?P<exc>\w+(?:Exception|Error))\s*\("
    r"|\.(?P<seterr>setErrorString|setErrorMessage)\s*\("
    r"|\bnew\s+(?P<answer>\w*Answer)\s*\(\s*\w+\s*,\s*false\s*,"
    r"|\bnew\s+(?P<dlanswer>DownloadAnswer|UploadAnswer)\s*\((?=\s*(?:\"|String\.format))"
    r"|\b(?:String\s+)?(?P<var>msg|errMsg|errorMsg|errorMessage|message|details|msgSubject|errorString|err)\s*=\s*"
    r"(?=\"|String\.format)"
    r"|\b(?P<ret>return)\s+(?=\"|String\.format)"
)


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def _string_end(src: str, i: int) -> int:
    """Index after the Java string literal starting at ``src[i] == '"'``."""
    i += 1
    while i < len(src) and src[i] != '"':
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _args(src: str, start: int) -> str:
    """The text from ``start`` to the parenthesis that closes the call (depth 1 at ``start``)."""
    depth, i = 1, start
    while i < len(src) and depth:
        c = src[i]
        if c == '"':
            i = _string_end(src, i)
            continue
        if c == "'":
            i = src.find("'", i + 2 if src[i + 1] == "\\" else i + 1) + 1 or len(src)
            continue
        depth += c == "("
        depth -= c == ")"
        i += 1
    return src[start : i - 1]


def _split_top(expr: str, sep: str) -> list[str]:
    parts, depth, i, last = [], 0, 0, 0
    while i < len(expr):
        c = expr[i]
        if c == '"':
            i = _string_end(expr, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(expr[last:i])
            last = i + 1
        i += 1
    parts.append(expr[last:])
    return [p.strip() for p in parts]


_FMT = re.compile(r"%[-#+ 0,(]*\d*(?:\.\d+)?[sdfxXbcn]")


def _unescape(lit: str) -> str:
    return lit.encode("latin-1", "backslashreplace").decode("unicode_escape")


def template(expr: str) -> str:
    """The message an argument expression renders, with ``{}`` for what is not a literal."""
    out: list[str] = []
    for part in _split_top(expr, "+"):
        part = part.strip()
        while part.startswith("(") and part.endswith(")") and _args(part, 1) == part[1:-1]:
            part = part[1:-1].strip()
        if re.fullmatch(r'"(?:[^"\\]|\\.)*"', part):
            out.append(_unescape(part[1:-1]))
        elif m := re.match(r"String\.format\s*\(", part):
            inner = _split_top(_args(part, m.end()), ",")
            out.append(_FMT.sub("{}", template(inner[0])).replace("%%", "%") if inner else "{}")
        elif '"' in part and len(_split_top(part, "+")) > 1:
            out.append(template(part))
        else:
            out.append("{}")
    text = "".join(out)
    text = re.sub(r"(?:\{\}\s*){2,}", "{} ", text)
    return text.replace("\n", " ").replace("\t", " ")


def harvest_java(repo: str, commit: str, path: str) -> list[tuple[int, str, str]]:
    src = git(repo, "show", f"{commit}:{path}")
    rows = []
    for m in CALL.finditer(src):
        line = src.count("\n", 0, m.start()) + 1
        if m["exc"]:
            kind = "exception"
        elif m["seterr"]:
            kind = "error_str"
        elif m["answer"] or m["dlanswer"]:
            kind = "answer"
        elif m["var"] or m["ret"]:
            kind = "text"
        else:
            kind = (m["level"] or m["level2"] or "").upper()
        start = m.end() if not m.group(0).rstrip().endswith('"') else m.end() - 1
        if m.group(0).startswith(".log") and not m["level2"]:  # .log("…", Level.X)
            start = m.start() + m.group(0).index("(") + 1
        if kind == "text":
            end = src.find(";", start)
            args = [src[start:end]]
        else:
            args = _split_top(_args(src, start), ",")
        expr = (args[2] if len(args) > 2 else "") if kind == "answer" and m["answer"] else args[0] if args else ""
        if m.group(0).startswith(".log") and not m["level2"]:
            lvl = re.search(r"Level\.(\w+)", args[1] if len(args) > 1 else "")
            kind = lvl[1] if lvl else "WARN"
        text = template(expr).strip()
        if len(re.sub(r"\{\}|[^A-Za-z]", "", text)) < 6:  # no words of its own: nothing to recognise it by
            continue
        rows.append((line, kind, text))
    return rows


_SCRIPT_MSG = re.compile(
    r"(?:printf|echo)\s+(?P<q>[\"'])(?P<msg>.*?)(?P=q)[^\n]*>&2"
    r"|rollback_if_needed\s+\S+\s+\S+\s+\"(?P<msg2>[^\"]*)\""
    r"|printf\s+\"(?P<msg3>[^\"]*(?:fail|doesn't exist|not supported)[^\"]*)\""
)


def harvest_script(repo: str, commit: str, path: str) -> list[tuple[int, str, str]]:
    rows = []
    for n, line in enumerate(git(repo, "show", f"{commit}:{path}").splitlines(), 1):
        if m := _SCRIPT_MSG.search(line):
            raw = m["msg"] or m["msg2"] or m["msg3"] or ""
            msg = re.sub(r"\$\{?\w+\}?|\$\([^)]*\)", "{}", raw).replace("\\n", "").strip()
            if len(re.sub(r"\{\}|[^A-Za-z]", "", msg)) >= 6:
                rows.append((n, "script", msg))
    return rows


def log_of(path: str) -> str:
    base = Path(path).stem
    if base in AGENT_CLASSES:
        return "agent"
    if base == "DownloadManagerImpl" and "secondary-storage/server" in path:
        return "ssvm"
    if base in SSVM_CLASSES or path.startswith("scripts/"):
        return "ssvm"
    return "management"


# (regex over the message template, code) — first match wins; code None = routine, no finding wanted.
# Rows that match none: WARN/ERROR/FATAL from a class on the template path get that class's code
# (FALLBACK); everything else is routine. Reviewed by hand against the table.
LABELS: tuple[tuple[str, str | None], ...] = (
    # routine, although worded like trouble
    (r"^Usage: |could take a (long )?time|does not appear to be compressed|^Moving to|^Copying to", None),
    (r"\[ignored\]|Reusing existing file|assuming that we are not inside a system vm", None),
    (r"Only realhostip\.com ssl cert|Empty secondary storage url domain|Huh\? image store is null", None),
    (r"cannot be skipped, as it is|Succeeded in unmounting|No checksum (provided|available)", None),
    (r"^Template url is null|^Snapshot url is null|already in progress or already downloaded", None),
    (r"Unable to retrieve install filename for snapshot download|Deletion of file '\{\}' failed", None),
    (r"Unable to acquire synchronization lock|Unable to acquire secondary storage VM|wait for next scan", None),
    (r"Invalid Name$|^Internal Error$|Please specify a template that is not currently being downloaded", None),
    (r"Storage pool \{\} (doesn't exist in libvirt|is not in running state|was not found running)", None),
    (r"Migration completed|Template: \{\} is currently being downloaded|can't delete it", None),
    (r"does not exist in vm_template table|^Host: \{\} does not exist|unable to update permissions", None),
    (r"Unable to find a service offering by the UUID for secondary storage VM", None),
    (r"Unable to stop secondary storage VM \[\{\}\] due to it no longer exists", None),
    (r"Unable to find image store still having template", None),
    (
        r"may request download based on available hypervisor|No secondary storage VM found in zone \[\{\}\], starting",
        None,
    ),
    (
        r"due to it was not found on database|Failed to copy PSK|hosts, \{\} failed|copyVolume|Failed to copy volume",
        None,
    ),
    (r"Failed to copy snapshot|post snapshot download|into swift", None),
    (r"as either the pool zone|Failed to load user data for the ssvm|extraOpts now|accountDirSizeInGb", None),
    (r"returning file size instead", None),
    (r"Template process exception", "DOWNLOAD_FAILED"),
    # the specific causes
    (r"No space left on device", "STORAGE_FULL"),
    (
        r"Storage Limit Reached|does not have enough secondary storage space|Maximum number of resources of type secondary_storage",
        "STORAGE_FULL",
    ),
    (r"has not enough capacity|image storage in zone with less than|doesn't have enough capacity", "STORAGE_FULL"),
    (r"Destination store doesn't have enough capacity", "STORAGE_FULL"),
    (r"Low Available Secondary Storage", "STORAGE_CAPACITY_ALERT"),
    (r"^System Alert: ", None),
    (
        r"didn't match the given value|checksum algorithm not recognised|invalid algorithm|Checksum validation failed",
        "CHECKSUM_MISMATCH",
    ),
    (
        r"Unknown checksum algorithm|Couldn't validate template checksum|could not check sum for file|^Checksum failed",
        "CHECKSUM_MISMATCH",
    ),
    (r"Checksum validation for template", None),
    (
        r"is not a valid QCOW2|invalid file format|failed to uncompress|vhd check of|vhd remove \{\} hidden failed",
        "INVALID_TEMPLATE_FORMAT",
    ),
    (
        r"tar archives not supported|mismatch between selected format|File type mismatch between uploaded file",
        "INVALID_TEMPLATE_FORMAT",
    ),
    (
        r"Unknown image format|Unable to get virtual size from|unable to get virtual size from qcow2",
        "INVALID_TEMPLATE_FORMAT",
    ),
    (
        r"Unable to get the virtual size of the template|Unable to properly read the size|Unable to skip to the virtual size header",
        "INVALID_TEMPLATE_FORMAT",
    ),
    (
        r"corrupted on (secondary )?storage|is corrupted, please check|for corrupted template|as corrupted, marking it as failed",
        "TEMPLATE_CORRUPTED",
    ),
    (r"timeout waiting for response from storage host", "DOWNLOAD_TIMEOUT"),
    (r"Unable to monitor download progress", "DOWNLOAD_TIMEOUT"),
    (r"storage host disconnected|Storage agent or storage VM disconnected", "STORAGE_DISCONNECTED"),
    (
        r"Unable to mount|Failed to get root directory from secondary storage URL|GetRootDir for|in order to mount",
        "NFS_MOUNT_FAILED",
    ),
    (r"Failed to create netfs mount|libvirt failed to mount storage pool", "NFS_MOUNT_FAILED"),
    (r"no secondary storage VM|No remote endpoint to send command|no secondary storage vm in running state", "NO_SSVM"),
    (r"A running secondary storage vm has a null public ip", "NO_SSVM"),
    (r"System VM template is not ready", "SYSTEMVM_TEMPLATE_NOT_READY"),
    (
        r"Secondary Storage Vm (is down|creation failure|startup failure|storage issue|storage alert)",
        "SSVM_START_FAILED",
    ),
    (
        r"Unable to start secondary storage VM|No secondary storage available in zone|Creating secondary storage VM instance failed",
        "SSVM_START_FAILED",
    ),
    (
        r"Unable to allocate secondary storage VM|Unable to allocate capacity on zone|no secondary storage available to satisfy",
        "SSVM_START_FAILED",
    ),
    (r"Unable to finalize (Instance|virtual machine) profile", "SSVM_START_FAILED"),
    (
        r"Disconnect agent for CPVM/SSVM|Agent is disconnected but the host is still up|is there a server running on port",
        "AGENT_DISCONNECTED",
    ),
    (r"^Lost connection to host|Found the following agents behind on ping", "AGENT_DISCONNECTED"),
    (r"^Operation timed out", None),
    (r"Timed out: |for command \[\{\}\] timed out", "SCRIPT_TIMEOUT"),
    # the SSVM's metalink downloader (before the KVM host's direct downloads, which share words)
    (
        r"Error downloading template from|No URLs found for metalink|Template couldn't be downloaded|Error on HTTP request",
        "DOWNLOAD_FAILED",
    ),
    # the KVM host's direct downloads
    (r"Not enough space on the defined temporary location", "DIRECT_DOWNLOAD_FAILED"),
    (
        r"direct download|Error downloading template \{\} (with id \{\} )?due to|Couldn't download template",
        "DIRECT_DOWNLOAD_FAILED",
    ),
    (
        r"Failed to download template to primary storage|The temporary location path for downloading templates",
        "DIRECT_DOWNLOAD_FAILED",
    ),
    (r"Cannot reach URL|HTTP HEAD request to URL|Not able to download template, status code", "DIRECT_DOWNLOAD_FAILED"),
    (r"(error|fail\w*|no urls|cannot)[^.]*metalink|metalink[^.]*fail", "DIRECT_DOWNLOAD_FAILED"),
    (
        r"Error creating file to download on|Cannot check URL \{\} is reachable|Invalid NFS url",
        "DIRECT_DOWNLOAD_FAILED",
    ),
    (
        r"Failure getting SSL context for HTTPS downloader|Error parsing response for template|Error on HTTPS",
        "DIRECT_DOWNLOAD_FAILED",
    ),
    (r"Cannot obtain qcow2 virtual size|Download url has not been set", "DIRECT_DOWNLOAD_FAILED"),
    (r"post certificate renewal", None),
    (
        r"(fail\w*|could not|cannot|invalid|error)[^.]*certificate|certificate[^.]*(fail\w*|could not|cannot be|invalid)",
        "DIRECT_DOWNLOAD_FAILED",
    ),
    # copies between zones and stores
    (
        r"fail\w* (to |in )?cop(y|ying) (template|iso|datadisk|file to destination|swift|\{\} to)|cop(y|ying) (of )?[\w ]*template[^.]*fail|Exception while copying template",
        "TEMPLATE_COPY_FAILED",
    ),
    (r"failures when copying template to zones|prepare template failed|Copy Template failed", "TEMPLATE_COPY_FAILED"),
    (
        r"Migration failed|Complete migration failed|Files not completely migrated|migrating data to another secondary storage",
        "TEMPLATE_COPY_FAILED",
    ),
    # uploads
    (
        r"(fail\w*|unable|error|exception|invalid|not found|exceeded|abort\w*)[^.]*upload|upload\w*[^.]*(fail\w*|error|invalid|timed out|exceeded|abort)",
        "UPLOAD_FAILED",
    ),
    # downloads to secondary storage
    (
        r"HTTP Server returned|Stream closed|size is too large|Remote size is too large|Unable to start download",
        "DOWNLOAD_FAILED",
    ),
    (
        r"UNRECOVERABLE_ERROR|Cannot find job|Download canceled|no job found|Failed to register template",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Unable to start /resume download of template|Caught exception during download|Caught exception while doing template/volume sync",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Failed post download|Failed to install|Unable to download|HTTP Server does not support partial get",
        "DOWNLOAD_FAILED",
    ),
    (
        r"due to redirection, response code|Failed to receive length of download|Error on http connection",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Invalid download url|Exception in constructor|^Unable to create \{\}$|Unable to create new file",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Failed to create template.properties|root disk file \{\} doesn't exist|Failed to create iso fs|Move operation failed, iso",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Post download installation was not completed|unable to save the formats|calculate the checksum of downloaded",
        "DOWNLOAD_FAILED",
    ),
    (
        r"Something is wrong with template location|Unable to load template location|Error while executing script",
        "DOWNLOAD_FAILED",
    ),
    (r"Template Sync did not find", "DOWNLOAD_FAILED"),
    (r"Unable to find a secondary storage host who has completely downloaded the template", "DOWNLOAD_FAILED"),
    (r"Failed to process (copy|sync|create) template", "TEMPLATE_OPERATION_FAILED"),
)
# The code of any other WARN/ERROR/FATAL line from a class on the template path, by class.
FALLBACK = {
    **dict.fromkeys(
        [
            "DownloadListener",
            "DownloadErrorState",
            "DownloadAbandonedState",
            "DownloadActiveState",
            "DownloadCompleteState",
            "DownloadInactiveState",
            "DownloadState",
            "DownloadMonitorImpl",
            "DownloadManagerImpl",
            "HttpTemplateDownloader",
            "MetalinkTemplateDownloader",
            "QCOW2Processor",
        ],
        "DOWNLOAD_FAILED",
    ),
    **dict.fromkeys(
        [
            "TemplateServiceImpl",
            "TemplateManagerImpl",
            "HypervisorTemplateAdapter",
            "BaseImageStoreDriverImpl",
            "StorageOrchestrator",
        ],
        "TEMPLATE_OPERATION_FAILED",
    ),
    "ImageStoreUploadMonitorImpl": "UPLOAD_FAILED",
    **dict.fromkeys(
        [
            "DirectDownloadManagerImpl",
            "DirectTemplateDownloaderImpl",
            "HttpDirectTemplateDownloader",
            "HttpsDirectTemplateDownloader",
            "MetalinkDirectTemplateDownloader",
            "NfsDirectTemplateDownloader",
        ],
        "DIRECT_DOWNLOAD_FAILED",
    ),
    **dict.fromkeys(
        ["NfsSecondaryStorageResource", "SecondaryStorageManagerImpl", "SystemVmLoadScanner"], "SSVM_ERROR"
    ),
}
LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
# Classes whose every failure text is about templates/SSVM/secondary storage; the others (agent manager,
# alerts, stats, the KVM storage code, NIO) also log for unrelated hosts, VMs and volumes: only labelled rows count.
ON_PATH = set(FALLBACK) | {"DownloadLimitReachedState", "DownloadAbandonedState"}


# Below WARN (and in exception/answer texts) a label counts only where the text says something went wrong.
FAILURE = re.compile(
    r"fail|error|unable|cannot|can't|couldn't|could not|invalid|not enough|corrupt|timed out|timeout|mismatch|"
    r"no space|refused|lost|not ready|disconnected|not a valid|exceeded|abort|no secondary|no remote|no job|"
    r"there is no|not found|too large|not match|not recognised|canceled|doesn't exist|not supported|returned|"
    r"Limit Reached|behind on ping|Low Available|closed|is down|Unknown|did not find|less than|enough capacity|"
    r"exception|no urls|not possible|does not support|not completely|does not exist|didn't match|is down|alert",
    re.IGNORECASE,
)


def label(cls: str, log: str, level: str, text: str) -> tuple[str, str]:
    """("yes"/"no", code) for one row; "-" for an exception the management server throws back to an API
    caller (input validation: it reaches neither a log line of its own nor error_str)."""
    if level == "exception" and log == "management":
        return "-", ""
    for rx, code in LABELS:
        if re.search(rx, text, re.IGNORECASE):
            if code is None:
                return "no", ""
            if level in {"WARN", "ERROR", "FATAL"} or FAILURE.search(text):
                return "yes", code
    if level in {"WARN", "ERROR", "FATAL"} and cls in FALLBACK:
        return "yes", FALLBACK[cls]
    return "no", ""


def main(repo: str) -> None:
    out = Path(__file__).with_name("messages.tsv")
    seen: set[tuple[str, str, str]] = set()
    rows: list[str] = []
    for release, commit in COMMITS.items():
        tree = git(repo, "ls-tree", "-r", "--name-only", commit).splitlines()
        paths = [
            p
            for p in tree
            if p.endswith(".java") and "/test/" not in p and (Path(p).stem in CLASSES or p.startswith(FOLDERS))
        ]
        for path in sorted(paths):
            for line, level, text in harvest_java(repo, commit, path):
                key = (Path(path).stem, level, text)
                if key not in seen:
                    seen.add(key)
                    want, code = label(Path(path).stem, log_of(path), level, text)
                    rows.append("\t".join([release, commit, f"{path}:{line}", log_of(path), level, want, code, text]))
        for path in SCRIPTS:
            if path in tree:
                for line, level, text in harvest_script(repo, commit, path):
                    key = (Path(path).stem, level, text)
                    if key not in seen:
                        seen.add(key)
                        want, code = label("script", "ssvm", level, text)
                        rows.append("\t".join([release, commit, f"{path}:{line}", "ssvm", level, want, code, text]))
    header = "release\tcommit\tsource\tlog\tlevel\tfinding\tcode\tmessage\n"
    out.write_text(header + "\n".join(rows) + "\n")
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/prashanthr2+cloudstack/repo")
