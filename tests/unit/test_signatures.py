"""The signature catalogue (checks/signatures.toml): validated at load, classifies CloudStack's own error
texts (cloudstack.md §2, §4; the harvested table is tested in test_messages.py), and stays quiet on the
unrelated texts that share its words."""

import csv

import pytest

from checks import signatures
from checks.signatures import CATALOGUE, CatalogueError, classify, load
from diagnostics.model import Severity
from tests.conftest import ROOT

pytestmark = pytest.mark.unit

CASES = [
    ("Timeout waiting for response from storage host", "DOWNLOAD_TIMEOUT"),
    (
        "Entering download error state: timeout waiting for response from storage host, TEMPLATE: 321 at host 7",
        "DOWNLOAD_TIMEOUT",
    ),
    ("Storage agent or storage VM disconnected", "STORAGE_DISCONNECTED"),
    ("Entering download error state because the storage host disconnected", "STORAGE_DISCONNECTED"),
    ("Download canceled", "DOWNLOAD_FAILED"),
    (" HTTP Server returned 403 (expected 200 OK) ", "DOWNLOAD_FAILED"),
    ("Stream closed", "DOWNLOAD_FAILED"),
    ("Download file size is too large", "DOWNLOAD_FAILED"),
    ("Remote size is too large: 64424509440 , max=53687091200", "DOWNLOAD_FAILED"),
    ("Unable to start download -- check url? ", "DOWNLOAD_FAILED"),
    ("Cannot find job", "DOWNLOAD_FAILED"),
    ("Download Completion for jobId: 12, status=UNRECOVERABLE_ERROR", "DOWNLOAD_FAILED"),
    (
        'Failed post download script: checksum "{SHA-256}abc" didn\'t match the given value, "{SHA-256}ABC"',
        "CHECKSUM_MISMATCH",
    ),
    ("Failed post download script: checksum algorithm not recognised: SHA3", "CHECKSUM_MISMATCH"),
    ("invalid algorithm: {SHA3}abc", "CHECKSUM_MISMATCH"),
    (
        "Failed post download script: The downloaded file [/mnt/x.qcow2] is not a valid QCOW2.",
        "INVALID_TEMPLATE_FORMAT",
    ),
    ("Failed post download script: Unable to install due to invalid file format", "INVALID_TEMPLATE_FORMAT"),
    ("Failed post download script: failed to uncompress /mnt/x.qcow2.bz2", "INVALID_TEMPLATE_FORMAT"),
    ("Failed post download script: vhd check of /mnt/x.vhd failed", "INVALID_TEMPLATE_FORMAT"),
    ("Template 202 is corrupted on secondary storage 3", "TEMPLATE_CORRUPTED"),
    ("Unable to download due to No space left on device", "STORAGE_FULL"),
    ("Failed post download script: cp: error writing: No space left on device", "STORAGE_FULL"),
    ("Failed to install: java.io.IOException: Read-only file system", "STORAGE_READ_ONLY"),
    (
        "Unable to mount 10.0.0.5:/export/secondary at /mnt/SecStorage/f2702c89 due to mount.nfs: access denied",
        "NFS_MOUNT_FAILED",
    ),
    ("There is no secondary storage VM for downloading template to image store nfs-1", "NO_SSVM"),
    ("No remote endpoint to send command, check if host or ssvm is down?", "NO_SSVM"),
    ("Timed out: /usr/bin/qemu-img convert", "SCRIPT_TIMEOUT"),
    ("Process [12] for command [qemu-img info x] timed out.", "SCRIPT_TIMEOUT"),
    ("Failed post download script: something odd", "DOWNLOAD_FAILED"),
    ("Failed to install: oops", "DOWNLOAD_FAILED"),
    ("Download success, starting install ", "UNCLASSIFIED"),
    ("Install completed successfully at 2024-05-02", "UNCLASSIFIED"),
    (" ", "UNCLASSIFIED"),
    ("a message nobody has seen", "UNCLASSIFIED"),
    ("", "UNCLASSIFIED"),
    (None, "UNCLASSIFIED"),
]


@pytest.mark.parametrize("text, code", CASES)
def test_classify(text, code):
    assert classify(text).code == code


def test_checksum_facts():
    c = classify(
        'Failed post download script: checksum "{SHA-256}' + "a" * 64 + "\" didn't match the given value, "
        '"{SHA-256}' + "B" * 64 + '"'
    )
    assert c.facts == {"algorithm": "SHA-256", "computed": "a" * 64, "given_algorithm": "SHA-256", "expected": "B" * 64}


def test_extracted_facts():
    assert classify(" HTTP Server returned 404 (expected 200 OK) ").facts == {"http_status": "404"}
    assert classify("Process [1] for command [qemu-img info x] timed out.").facts == {"command": "qemu-img info x"}


def test_catalogue_is_complete_and_well_formed():
    for sig in CATALOGUE:
        assert sig.literal or sig.pattern is not None
        assert isinstance(sig.severity, Severity)
        if not sig.routine:
            assert sig.title and sig.remediation and "@" not in sig.remediation
    codes = {s.code for s in CATALOGUE}
    assert {
        "DOWNLOAD_TIMEOUT",
        "STORAGE_DISCONNECTED",
        "CHECKSUM_MISMATCH",
        "INVALID_TEMPLATE_FORMAT",
        "DOWNLOAD_FAILED",
        "NO_SSVM",
        "NFS_MOUNT_FAILED",
        "STORAGE_FULL",
        "STORAGE_READ_ONLY",
        "TEMPLATE_CORRUPTED",
        "SCRIPT_TIMEOUT",
        # added for real messages that had no fitting code (issue 17 §2)
        "DIRECT_DOWNLOAD_FAILED",
        "TEMPLATE_COPY_FAILED",
        "UPLOAD_FAILED",
        "SYSTEMVM_TEMPLATE_NOT_READY",
        "STORAGE_CAPACITY_ALERT",
    } <= codes
    # class fallbacks come after every literal entry
    cats = [i for i, s in enumerate(CATALOGUE) if s.category]
    assert cats and cats == list(range(len(CATALOGUE) - len(cats), len(CATALOGUE)))


GOOD = """
[remediations]
x = "Do the thing."

[[signature]]
code = "STORAGE_FULL"
severity = "CRIT"
literal = "No space left on device"
title = "full"
remediation = "@x"
source = "strerror(ENOSPC)"
"""


def test_a_valid_catalogue_loads():
    (sig,) = load(GOOD)
    assert sig.remediation == "Do the thing." and sig.applies_to == {"error_str", "log"}


@pytest.mark.parametrize(
    "change, why",
    [
        (('severity = "CRIT"', 'severity = "BAD"'), "severity"),
        (('literal = "No space left on device"', 'literal = ""'), "non-empty strings"),
        (('title = "full"', 'title = "full"\npattern = "(unclosed"'), "does not compile"),
        (('remediation = "@x"', 'remediation = "@nope"'), "@nope"),
        (('title = "full"', 'title = "full"\nquiet_in = ["sssvm"]'), "quiet_in"),
        (('title = "full"', 'title = "full"\nliteral_typo = "x"'), "unknown keys"),
        (('title = "full"', 'title = "full"\nquiet_in = ["ssvm"]\nanchors = ["unrelated"]'), "contains no literal"),
        (('code = "STORAGE_FULL"', 'code = "storage full"'), "UPPER_SNAKE_CASE"),
        (('title = "full"', 'title = ""'), "title and a remediation"),
        (("[[signature]]", "[[signature]]\nrouting = true"), "unknown keys"),
        (("[remediations]", "[remediations"), "not valid TOML"),
        (('source = "strerror(ENOSPC)"', ""), "name the real messages"),
    ],
)
def test_a_broken_entry_fails_at_load(change, why):
    with pytest.raises(CatalogueError, match=why):
        load(GOOD.replace(*change))


def test_the_shipped_file_is_what_the_module_loaded():
    text = (ROOT / "checks/signatures.toml").read_text()
    assert load(text) == CATALOGUE


def test_pre_filter_anchors_are_per_log():
    assert "error=No space left on device" in signatures.pre_filter_anchors("ssvm")
    assert "Checksum validation failed" in signatures.pre_filter_anchors("agent")
    assert "opy template failed for image store" in signatures.pre_filter_anchors("management")
    assert "error=No space left on device" not in signatures.pre_filter_anchors("management")


def _unrelated() -> list[dict[str, str]]:
    with (ROOT / "tests/data/cloudstack_messages/unrelated.tsv").open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize("row", _unrelated(), ids=lambda r: r["category"])
def test_unrelated_texts_that_share_words_are_no_finding(row):
    """The console proxy's or stats collector's "is not a valid …" or the stats collector is not an image-format error, and a
    virtual router's read-only disk is not a read-only secondary storage (issue 17)."""
    ts = "2025-03-11T20:53:36,178" if row["log"] == "ssvm" else "2025-01-09 08:00:01,002"
    logid = "" if row["log"] == "ssvm" else " (logid:99887766)"
    line = f"{ts} {row['level']:<5} [{row['category']}] (Thread-3:[]){logid} {row['message']}"
    assert classify(line, "log").signature is None
    # (an error_str is always about a template, so "Read-only file system" there is the store's)
    assert classify(row["message"], "error_str").code != "INVALID_TEMPLATE_FORMAT"


def test_the_readme_example_lines_give_their_codes():
    """README's logs section shows each code with one real line: each must classify to its code."""
    import re

    text = (ROOT / "README.md").read_text()
    section = text[text.index("Each code with one real line") : text.index("| `LOGS_SCANNED` |")]
    seen = set()
    for row in section.splitlines():
        if m := re.match(r"\| `(\w+)` \|", row):
            examples = re.findall(r"`([^`]{20,})`", row.split(" | ")[-1])
            assert examples, row
            for line in examples:
                assert classify(line.replace("\\|", "|"), "log").code == m[1], line
            seen.add(m[1])
    log_codes = {s.code for s in CATALOGUE if "log" in s.applies_to and not s.routine}
    assert seen == log_codes
