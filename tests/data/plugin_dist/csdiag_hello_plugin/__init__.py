"""A third-party check: reports the host name it ran on."""

import socket

from diagnostics.check import Check, Code, NoParams, RawEvidence
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity


def collect(ctx):
    return RawEvidence(data={"hostname": socket.gethostname()})


def evaluate(raw, params):
    yield Finding(
        check="hello",
        code="HELLO",
        severity=Severity.INFO,
        target=raw.data["hostname"],
        summary="hello from a plugin",
        evidence=[Evidence(kind=EvidenceKind.PROBE, source="socket.gethostname()", data=dict(raw.data))],
    )


CHECK = Check(
    name="hello",
    title="Hello plugin",
    description="says hello",
    codes=(Code(code="HELLO", severity=Severity.INFO, meaning="the plugin ran"),),
    params=NoParams,
    collect=collect,
    evaluate=evaluate,
)
NOT_A_CHECK = object()
