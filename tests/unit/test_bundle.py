import gzip
import io
import json
import tarfile

import pytest

from diagnostics import bundle
from diagnostics.check import Check, Code, NoParams, RawEvidence
from diagnostics.model import CheckStatus, Severity
from diagnostics.runner import Outcome

pytestmark = pytest.mark.unit

CHECK = Check(
    name="demo",
    title="d",
    description="d",
    codes=(Code(code="X", severity=Severity.INFO, meaning="x"),),
    params=NoParams,
    collect=lambda ctx: RawEvidence(data={}),
    evaluate=lambda raw, p: iter(()),
)


def outcome(raw):
    return Outcome(check=CHECK, params=NoParams(), status=CheckStatus.COMPLETED, duration_s=0.1, raw=raw)


@pytest.mark.parametrize("name", ["b.tar.gz", "folder"])
def test_round_trip_and_secret_guard(tmp_path, name):
    raw = RawEvidence(data={"rows": [1, 2], "leak": "pw=TopSecret99"}, files={"logs/a.log": b"line\n"})
    path = bundle.write(tmp_path / name, [outcome(raw)], config_summary={"file": None}, secrets=["TopSecret99"])
    b = bundle.read(path)
    got = b.checks["demo"]
    assert got.raw.data == {"rows": [1, 2], "leak": "pw=***"}
    assert got.raw.files == {"logs/a.log": b"line\n"}
    assert b.manifest["schema"] == "csdiag.bundle/1"


def test_corrupt_foreign_and_missing(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(gzip.compress(b"not a tar at all")[:-8])
    with pytest.raises(bundle.BundleError, match="not a readable bundle archive"):
        bundle.read(bad)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"schema": "sosreport/1"}))
    with pytest.raises(bundle.BundleError, match="not a csdiag bundle"):
        bundle.read(foreign)
    (foreign / "manifest.json").write_text("{nope")
    with pytest.raises(bundle.BundleError, match="unreadable"):
        bundle.read(foreign)
    with pytest.raises(bundle.BundleError, match="no such bundle"):
        bundle.read(tmp_path / "absent.tar.gz")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(bundle.BundleError, match=r"manifest\.json is missing"):
        bundle.read(empty)


def test_path_traversal_is_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../../escaped")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(bundle.BundleError):
        bundle.read(evil)
    assert not (tmp_path.parent / "escaped").exists()
    with pytest.raises(bundle.BundleError, match="refusing evidence file name"):
        bundle.write(tmp_path / "x", [outcome(RawEvidence(data={}, files={"../x": b""}))], config_summary={})
