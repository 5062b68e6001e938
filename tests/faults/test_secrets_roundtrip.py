"""Random secrets through collect → bundle → replay → every output format: the secret appears nowhere,
and the replayed findings equal the live ones.

The evidence comes from a check whose source "leaks" the secret everywhere a careless source could (plain
values, nested lists, a proxy URL with userinfo, a verbatim file, numbers) and from the real images check
linting a real ext4 image with private keys — so a community ``private`` or ``public`` must neither
rename the keys ``private_keys``/``public_ip`` nor lose IMAGE_PRIVATE_KEYS (CRIT) on replay.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics import bundle, engine
from diagnostics.check import Check, Code, NoParams, RawEvidence
from diagnostics.config import parse_settings
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity
from diagnostics.redaction import secret_values
from diagnostics.registry import Registry

pytestmark = [pytest.mark.faults, pytest.mark.integration]
ENV = "CSDIAG_FAULTS_MAIL_PW"
# characters of run ids, timestamps and numbers: a secret made only of them could occur there by chance
_NOISE = set("0123456789abcdef-:.TZ+ ")
BENIGN = "Benign-Placeholder-Qx"


def _leaky_collect(ctx):
    secret = os.environ[ENV]
    return RawEvidence(
        data={
            "public_ip": "10.0.0.5",
            "private_keys": [{"path": "/root/.ssh/id_rsa", "type": "RSA PRIVATE KEY"}],
            "setting": {"name": "secstorage.proxy", "value": f"http://admin:{secret}@proxy.lab:3128"},
            "banner": f"community {secret} accepted",
            "rows": [[1, f"x{secret}y"], {"deep": [f"{secret}"]}],
        },
        files={"stdout.txt": f"login as {secret}\n".encode()},
    )


def _leaky_evaluate(raw, params):
    d = raw.data
    yield Finding(
        check="leaky",
        code="LEAK_SEEN",
        severity=Severity.WARN,
        target=f"host {d['public_ip']}",
        summary=f"banner: {d['banner']}; proxy {d['setting']['value']}; file {raw.files['stdout.txt'].decode().strip()}",
        details=repr(d["rows"]),
        evidence=(Evidence(kind=EvidenceKind.PROBE, source="leaky", data=dict(d), text=d["banner"]),),
    )
    if d.get("private_keys"):
        yield Finding(
            check="leaky", code="KEYS_KEPT", severity=Severity.CRIT, target="image", summary="private_keys present"
        )


LEAKY = Check(
    name="leaky",
    title="a source that leaks its secret",
    description="test",
    codes=(
        Code(code="LEAK_SEEN", severity=Severity.WARN, meaning="x"),
        Code(code="KEYS_KEPT", severity=Severity.CRIT, meaning="x"),
    ),
    params=NoParams,
    collect=_leaky_collect,
    evaluate=_leaky_evaluate,
)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    from tests.services import images as im

    im.tools()
    d = tmp_path_factory.mktemp("img")
    return im.ext4(im.root_tree(d / "root", {"private_keys", "root_password"}), d / "keys.raw")


def _registry(image_path: Path) -> Registry:
    from checks import image_hygiene, images

    reg = Registry()
    reg.register(LEAKY)
    reg.register(dataclasses.replace(images.CHECK, collect=lambda ctx: image_hygiene.lint_paths([str(image_path)])))
    return reg


def _settings(secret: str):
    os.environ[ENV] = secret
    return parse_settings(
        {
            "run": {"check_timeout_s": 60},
            "email": {
                "smtp_host": "127.0.0.1",
                "sender": "a@example.org",
                "recipients": ["b@example.org"],
                "username": "u",
                "password_env": ENV,
            },
            "thresholds": {"images": {"expect_format": "raw"}},
        }
    )


def _comparable(run):
    return sorted(
        (f.check, f.code, f.severity.value, f.target, f.summary, f.details, repr([e.to_dict() for e in f.evidence]))
        for f in run.findings
    )


def _outputs(run) -> dict[str, str]:
    from reports import csvfile, html, jsondoc, junit, nagios, prom, table

    buf = io.StringIO()
    table.render(run, buf, color=False, explain=True)
    return {
        "json": jsondoc.render(run),
        "csv": csvfile.render(run),
        "html": html.render(run, charts=[]),
        "junit": junit.render(run),
        "nagios": nagios.render(run),
        "prometheus": prom.render(run),
        "table": buf.getvalue(),
    }


def _roundtrip(secret: str, image_path: Path, folder: Path):
    cfg = _settings(secret)
    reg = _registry(image_path)
    live, _ = engine.collect_and_evaluate(cfg, reg)
    _, outcomes = engine.collect_and_evaluate(cfg, reg, evaluate=False)
    path = bundle.write(folder / "b.tar.gz", outcomes, config_summary=cfg.summary(), secrets=secret_values(cfg))
    replayed = engine.replay(path, cfg, reg)
    blob = b""
    import tarfile

    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            if m.isfile():
                blob += tar.extractfile(m).read()
    return live, replayed, blob


secrets_st = st.one_of(
    st.sampled_from(["public", "private", 's3cr"et', "pässwörd", "back\\slash", "it's", "keys", "ip_a", "<b>&amp;"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=5, max_size=16),
).filter(lambda s: s.strip() == s and set(s) - _NOISE and "*" not in s)


def test_the_baseline_run_is_what_we_think(image, tmp_path):
    live, replayed, _ = _roundtrip(BENIGN, image, tmp_path)
    codes = {f.code for f in live.findings}
    assert {"LEAK_SEEN", "KEYS_KEPT", "IMAGE_PRIVATE_KEYS", "IMAGE_ROOT_PASSWORD"} <= codes
    assert _comparable(live) == _comparable(replayed)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets_st)
def test_a_random_secret_appears_in_no_output_and_replay_equals_live(image, secret):
    folder = Path(tempfile.mkdtemp(prefix="csdiag-secret-"))
    try:
        live, replayed, blob = _roundtrip(secret, image, folder)
        base_live, _, base_blob = _roundtrip(BENIGN, image, folder / "base")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(ENV, None)
    assert _comparable(live) == _comparable(replayed)  # the bundle replays exactly what was judged live
    codes = {f.code for f in replayed.findings}
    assert {"KEYS_KEPT", "IMAGE_PRIVATE_KEYS"} <= codes  # keys never renamed, CRIT never lost
    forms = {secret, secret.encode("unicode_escape").decode("ascii"), __import__("json").dumps(secret)[1:-1]}
    for run, base in ((live, base_live), (replayed, base_live)):
        outs, base_outs = _outputs(run), _outputs(base)
        for name, text in outs.items():
            for form in forms:
                # a secret that is a word of the format itself ("table", "finding") occurs in the healthy
                # output too: only an occurrence more than there is a leak
                assert text.count(form) <= base_outs[name].count(form), f"{form!r} leaked into {name}"
    for form in forms:
        assert blob.count(form.encode()) <= base_blob.count(form.encode()), f"{form!r} leaked into the bundle"
