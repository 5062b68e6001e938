"""Which checks exist: built-ins and plugins, all through the ``csdiag.checks`` entry-point group.

A registry is an ordinary object (no module-level state). Loading never stops at a broken plugin:
the problem is kept, with the entry point's name and its distribution, and reported by
``csdiag checks`` and as a ``PLUGIN_BROKEN`` finding by ``triage``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from diagnostics.check import Check
from diagnostics.config import ConfigError

GROUP = "csdiag.checks"


@dataclass(frozen=True)
class PluginProblem:
    name: str
    distribution: str
    reason: str


def _dist_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, Check[Any]] = {}
        self._origin: dict[str, str] = {}
        self.problems: list[PluginProblem] = []

    @classmethod
    def from_entry_points(cls, group: str = GROUP) -> Registry:
        registry = cls()
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            registry._load(ep)
        return registry

    def _load(self, ep: EntryPoint) -> None:
        dist = _dist_name(ep)
        try:
            obj = ep.load()
        except Exception as exc:  # any import-time failure of foreign code is the plugin's problem
            self.problems.append(PluginProblem(ep.name, dist, f"cannot import {ep.value}: {type(exc).__name__}: {exc}"))
            return
        if not isinstance(obj, Check):
            self.problems.append(
                PluginProblem(ep.name, dist, f"{ep.value} is a {type(obj).__name__}, not a csdiag Check")
            )
            return
        if obj.name != ep.name:
            self.problems.append(
                PluginProblem(
                    ep.name, dist, f"entry point is named {ep.name!r} but the check calls itself {obj.name!r}"
                )
            )
            return
        self.register(obj, origin=dist)

    def register(self, check: Check[Any], *, origin: str = "in-process") -> None:
        if check.name in self._checks:
            self.problems.append(
                PluginProblem(
                    check.name,
                    origin,
                    f"a check named {check.name!r} is already registered by {self._origin[check.name]}",
                )
            )
            return
        self._checks[check.name] = check
        self._origin[check.name] = origin

    def __contains__(self, name: str) -> bool:
        return name in self._checks

    def __iter__(self) -> Iterator[Check[Any]]:
        return iter(self._checks[n] for n in sorted(self._checks))

    def names(self) -> list[str]:
        return sorted(self._checks)

    def get(self, name: str) -> Check[Any]:
        return self._checks[name]

    def origin(self, name: str) -> str:
        return self._origin[name]

    def select(self, only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Check[Any]]:
        """The checks to run, in name order. Unknown names are a usage error naming them."""
        for option, names in (("--only", only), ("--skip", skip)):
            unknown = sorted(set(names) - set(self._checks) - {p.name for p in self.problems})
            if unknown:
                raise ConfigError(f"unknown check {', '.join(unknown)} (known: {', '.join(self.names())})", key=option)
        chosen = [n for n in self.names() if (not only or n in only) and n not in skip]
        return [self._checks[n] for n in chosen]

    def problems_for(self, only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[PluginProblem]:
        return [p for p in self.problems if (not only or p.name in only) and p.name not in skip]


def parse_names(value: str | None) -> list[str]:
    """``"logs, storage"`` → ``["logs", "storage"]``."""
    return [n.strip() for n in (value or "").split(",") if n.strip()]
