"""XDR and record handling of the ONC RPC client, on bytes laid out as RFC 4506/5531 say."""

import struct

import pytest

from diagnostics.sources import nfsprobe
from diagnostics.sources.errors import ProtocolError
from diagnostics.sources.oncrpc import Packer, RpcClient, RpcRejected, RpcUnavailable, Unpacker, auth_sys


def test_xdr_round_trip_and_padding():
    data = Packer().uint(7).hyper(2**40 + 3).string("abcde").opaque(b"\x01").bytes()
    assert len(data) == 4 + 8 + (4 + 8) + (4 + 4)  # strings and opaques padded to 4 bytes
    u = Unpacker(data)
    assert (u.uint(), u.hyper(), u.string(), u.opaque()) == (7, 2**40 + 3, "abcde", b"\x01")


def test_truncated_and_nonsense_replies_are_protocol_errors():
    with pytest.raises(ProtocolError, match="truncated"):
        Unpacker(b"\0\0\0").uint()
    with pytest.raises(ProtocolError, match="bool"):
        Unpacker(struct.pack(">I", 7)).bool()
    with pytest.raises(ProtocolError, match="exceeds"):
        Unpacker(struct.pack(">I", 1000)).opaque(limit=64)  # a file handle longer than NFS3_FHSIZE
    with pytest.raises(ProtocolError, match="truncated"):
        Unpacker(struct.pack(">I", 12) + b"abc").opaque()


def test_auth_sys_credential_layout():
    u = Unpacker(auth_sys(0, 0, "probe-host"))
    assert u.uint() == 1  # AUTH_SYS
    body = Unpacker(u.opaque())
    body.uint()  # stamp
    assert (body.string(), body.uint(), body.uint(), body.uint()) == ("probe-host", 0, 0, 0)


def reply(*words):
    return Unpacker(b"".join(struct.pack(">I", w) for w in words))


def test_accepted_and_denied_replies():
    ok = RpcClient._accepted(reply(0, 0, 0, 0, 42), "call")  # accepted, AUTH_NONE verifier, SUCCESS, result
    assert ok.uint() == 42
    with pytest.raises(RpcUnavailable, match="PROG_UNAVAIL"):
        RpcClient._accepted(reply(0, 0, 0, 1), "call")  # verifier (flavor, empty body), PROG_UNAVAIL
    with pytest.raises(RpcRejected, match="AUTH_TOOWEAK") as denied:  # e.g. a `secure` export, port >= 1024
        RpcClient._accepted(reply(1, 1, 5), "call")
    assert denied.value.reason == "AUTH_TOOWEAK"
    with pytest.raises(RpcRejected, match="version mismatch"):
        RpcClient._accepted(reply(1, 0, 2, 2), "call")


def test_only_old_probe_files_count_as_leftovers():
    now = 1_800_000_000
    assert nfsprobe._abandoned(".csdiag-probe-1799999000-abc", now)  # 1000 s old
    assert not nfsprobe._abandoned(".csdiag-probe-1799999900-abc", now)  # a concurrent run's, 100 s old
    assert not nfsprobe._abandoned(".csdiag-probe-deadbeef", now)  # no timestamp: not provably ours and old
    assert not nfsprobe._abandoned("template.properties", now)
