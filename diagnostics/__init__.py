"""csdiag engine: findings, the check contract, the runner, config, bundles and the CLI.

The engine knows nothing about optics, NFS or logs; checks live in the ``checks`` package and
register through the ``csdiag.checks`` entry-point group.
"""

from functools import cache


@cache
def _version() -> str:
    # importlib.metadata costs tens of milliseconds: only pay for it when a version is shown.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csdiag")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'diagnostics' has no attribute {name!r}")
