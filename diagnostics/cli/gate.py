"""``csdiag gate``: the readiness verdict for pipelines (exit 0 pass, 1 fail, 2 usage or configuration)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnostics.cli import common
from diagnostics.cli.app import OPTS, app, fail
from diagnostics.cli.options import EX_GATE_USAGE, BundleOpt, ConfigOpt, JunitOpt, OnlyOpt, SkipOpt, SourceOpt

if TYPE_CHECKING:
    from diagnostics.check import Check


class FailOn(StrEnum):
    warn = "warn"
    crit = "crit"


@app.command()
def gate(
    config: ConfigOpt = None,
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="NAME", help="A [gate.profiles.<name>] from the config.")
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            metavar="warn|crit",
            help="Fail on WARN and above, or CRIT only (default: the profile's, else crit).",
        ),
    ] = None,
    allow_unknown: Annotated[
        bool, typer.Option("--allow-unknown", help="UNKNOWN (could not check) does not fail the gate.")
    ] = False,
    waivers: Annotated[
        Path | None, typer.Option("--waivers", metavar="FILE", help="TOML file of [[waiver]] tables.", dir_okay=False)
    ] = None,
    junit: JunitOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    bundle: BundleOpt = None,
    source: SourceOpt = None,
    retry_for: Annotated[
        str | None,
        typer.Option(
            "--retry-for",
            metavar="DURATION",
            help="Run again until the gate passes or this time (90s, 10m, 1h) has passed.",
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", help="Seconds between attempts.", min=1)
    ] = 30.0,
    template: Annotated[
        str | None, typer.Option("--template", metavar="TEMPLATE", help="Template readiness: id, uuid or name.")
    ] = None,
    zone: Annotated[
        list[str] | None,
        typer.Option(
            "--zone", metavar="ZONE", help="With --template: only these zones (id or name; repeat the option)."
        ),
    ] = None,
    verify_checksum: Annotated[
        bool,
        typer.Option(
            "--verify-checksum", help="With --template: also hash its files on secondary storage (images check)."
        ),
    ] = False,
) -> None:
    """Readiness verdict: exit 0 pass, 1 fail, 2 usage or configuration error."""
    import time
    from datetime import date

    from diagnostics.config import ConfigError, GateProfile, parse_duration
    from diagnostics.gate import judge, load_waivers, render_block
    from diagnostics.model import Severity
    from diagnostics.registry import parse_names

    if source is not None and bundle is not None:
        fail("--source chooses where a live run reads CloudStack; a bundle replays what it recorded", EX_GATE_USAGE)
    settings = common.settings(config, EX_GATE_USAGE, source=source)
    if profile is not None and profile not in settings.gate.profiles:
        known = ", ".join(sorted(settings.gate.profiles)) or "none configured"
        fail(f"--profile: no [gate.profiles.{profile}] in the configuration (known: {known})", EX_GATE_USAGE)
    prof = settings.gate.profiles[profile] if profile else GateProfile()
    severity = Severity.WARN if (fail_on or prof.fail_on) == "warn" else Severity.CRIT
    waiver_file = waivers or (Path(prof.waivers) if prof.waivers else None)
    try:  # a malformed waiver file fails before any check runs
        waiver_list = load_waivers(waiver_file, _known_codes()) if waiver_file else []
        budget = parse_duration(retry_for) if retry_for else 0.0
    except ConfigError as exc:
        fail(str(exc), EX_GATE_USAGE)
    except ValueError as exc:
        fail(f"--retry-for: {exc}", EX_GATE_USAGE)
    if verify_checksum and template is None:
        fail("--verify-checksum needs --template", EX_GATE_USAGE)
    if junit is not None and not junit.parent.is_dir():
        fail(f"--junit: {junit.parent} does not exist (create it first)", EX_GATE_USAGE)
    only_l = parse_names(only) or prof.checks
    give_up = time.monotonic() + budget
    attempt = 0
    while True:
        attempt += 1
        if template is not None:
            from checks import readiness

            try:
                settings.verify_secrets()
            except ConfigError as exc:
                fail(str(exc), EX_GATE_USAGE)
            checks: list[Check[Any]] = [readiness.make_check(template, zone or [])]
            if verify_checksum:
                from checks import images

                pick = settings.images.model_copy(update={"templates": [template], "all": False})
                settings = settings.model_copy(update={"images": pick})
                checks.append(images.CHECK)
            run = common.run_one(settings, checks)
        else:
            run = common.run_selected(settings, only_l, parse_names(skip), bundle, EX_GATE_USAGE)
        verdict = judge(
            run,
            fail_on=severity,
            allow_unknown=allow_unknown or prof.allow_unknown,
            waivers=waiver_list,
            today=date.today(),
        )
        verdict.attempts = attempt
        if verdict.passed or time.monotonic() + interval > give_up:
            break
        typer.echo(
            f"csdiag gate: attempt {attempt} failed ({len(verdict.blocking)} blocking); again in {interval:g} s",
            err=True,
        )
        time.sleep(interval)
    if not OPTS.quiet:
        from diagnostics.ranking import rank
        from reports import table

        table.render(rank(run), sys.stdout, color=OPTS.color)
    sys.stderr.write(render_block(verdict))
    if junit is not None:
        from diagnostics.ranking import rank
        from reports import junit as junit_report

        failing = frozenset({"WARN", "CRIT"} if severity is Severity.WARN else {"CRIT"})
        common.write(
            junit,
            junit_report.render(
                rank(run), waived=verdict.waived_ids(), failing=failing, unknown_fails=not verdict.allow_unknown
            ),
        )
    raise typer.Exit(0 if verdict.passed else 1)


def _known_codes() -> set[str]:
    """Every code an installed check (or the engine) can raise."""
    from diagnostics.check import ENGINE_CODES

    return {k.code for c in common.registry() for k in c.codes} | {k.code for k in ENGINE_CODES}
