"""The signature catalogue classifies CloudStack's own error texts (cloudstack.md §2, §4)."""

import pytest

from checks.signatures import CATALOGUE, classify
from diagnostics.model import Severity

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
    ("Failed post download script: The downloaded file is not a valid QCOW2. header", "INVALID_TEMPLATE_FORMAT"),
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
        assert sig.literal and sig.title and sig.remediation
        assert isinstance(sig.severity, Severity)
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
    } <= codes
