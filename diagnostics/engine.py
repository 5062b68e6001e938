"""Puts the pieces together for the commands: select checks, resolve parameters, run, build a Run.

The CLI calls these and only prints; tests call them directly.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from diagnostics import __version__, bundle
from diagnostics.check import Check
from diagnostics.config import ConfigError, Settings, check_params
from diagnostics.correlate import correlate
from diagnostics.history import cursor_updates
from diagnostics.model import CheckStatus, Finding, Run, Severity, utcnow
from diagnostics.registry import PluginProblem, Registry
from diagnostics.runner import Job, Outcome, ProgressSink, execute, failure_finding


def plugin_findings(problems: Sequence[PluginProblem]) -> list[Finding]:
    return [
        Finding(
            check="engine",
            code="PLUGIN_BROKEN",
            severity=Severity.UNKNOWN,
            target=f"plugin:{p.name}",
            summary=f"check {p.name!r} from {p.distribution} could not be loaded: {p.reason}",
            remediation=f"Reinstall or fix the distribution that provides {p.name!r}, "
            "or uninstall it; the other checks ran normally.",
        )
        for p in problems
    ]


def resolve_params(settings: Settings, checks: Sequence[Check[Any]]) -> dict[str, BaseModel]:
    """Validate ``[thresholds.<name>]`` for the chosen checks; unknown sections are errors too."""
    return {c.name: check_params(settings, c.name, c.params) for c in checks}


def validate_settings(settings: Settings, registry: Registry) -> None:
    """Everything ``config validate`` can prove without touching the network."""
    for name in settings.thresholds:
        if name not in registry:
            raise ConfigError(
                f"no check named {name!r} is installed (known: {', '.join(registry.names())})",
                file=settings.path,
                key=f"thresholds.{name}",
            )
    resolve_params(settings, list(registry))


def _run(
    outcomes: Sequence[Outcome], extra: Sequence[Finding], started: Any, config: dict[str, Any], source: str
) -> Run:
    findings = tuple([f for o in outcomes for f in o.findings] + list(extra))
    cursors = tuple(dataclasses.asdict(c) for c in cursor_updates(outcomes))
    return Run(
        id=uuid.uuid4().hex,
        started=started,
        finished=utcnow(),
        tool_version=__version__,
        config=config,
        checks=tuple(o.check_run() for o in outcomes),
        findings=findings,
        source=source,
        incidents=correlate(findings),
        log_cursors=cursors,
    )


def collect_and_evaluate(
    settings: Settings,
    registry: Registry,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    *,
    evaluate: bool = True,
    progress: ProgressSink | None = None,
) -> tuple[Run, list[Outcome]]:
    """A live run: collect (and unless told otherwise evaluate) the selected checks."""
    checks = registry.select(only, skip)
    params = resolve_params(settings, checks)
    started = utcnow()
    outcomes = execute(
        [Job(check=c, params=params[c.name], evaluate=evaluate) for c in checks], settings, progress=progress
    )
    extra = plugin_findings(registry.problems_for(only, skip)) if evaluate else []
    return _run(outcomes, extra, started, settings.summary(), "live"), outcomes


def run_checks(settings: Settings, checks: Sequence[Check[Any]], *, progress: ProgressSink | None = None) -> Run:
    """Collect and evaluate checks that are not (only) the registered ones, e.g. ``logs scan``'s."""
    params = resolve_params(settings, checks)
    started = utcnow()
    outcomes = execute([Job(check=c, params=params[c.name]) for c in checks], settings, progress=progress)
    return _run(outcomes, [], started, settings.summary(), "live")


def replay(
    path: Path,
    settings: Settings,
    registry: Registry,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    *,
    progress: ProgressSink | None = None,
) -> Run:
    """Evaluate a bundle. Parameters come from the bundle unless the config file sets them."""
    b = bundle.read(path)
    registry.select(only, skip)  # rejects unknown names like a live run does
    started = utcnow()
    jobs: list[Job] = []
    missing: list[Finding] = []
    for name, entry in sorted(b.checks.items()):
        if (only and name not in only) or name in skip:
            continue
        if name not in registry:
            missing.append(
                failure_finding(
                    name,
                    CheckStatus.FAILED,
                    f"the bundle holds evidence of check {name!r}, which is not installed here",
                )
            )
            continue
        check = registry.get(name)
        if settings.path is not None and name in settings.thresholds:
            params = check_params(settings, name, check.params)
        else:
            try:
                params = check.params.model_validate(entry.params)
            except ValueError as exc:
                raise ConfigError(
                    f"parameters in the bundle do not fit this version of the check: {exc}",
                    file=path,
                    key=f"thresholds.{name}",
                ) from None
        failure = None if entry.status is CheckStatus.COMPLETED else (entry.status, entry.error or "no reason recorded")
        jobs.append(Job(check=check, params=params, raw=entry.raw, replayed_failure=failure))
    outcomes = execute(jobs, settings, progress=progress)
    return _run(outcomes, missing, started, dict(b.manifest.get("config") or {}), f"bundle:{path}")
