"""csdiag engine: findings, the check contract, the runner, config, bundles and the CLI.

The engine knows nothing about optics, NFS or logs; checks live in the ``checks`` package and
register through the ``csdiag.checks`` entry-point group.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("csdiag")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
