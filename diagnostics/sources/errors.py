"""The one exception tree every source raises.

Sources translate library exceptions (pymysql, paramiko, pysnmp, socket, OSError, ...) at the
boundary and raise one of these ``from`` the original, so checks and the runner handle a small,
documented set::

    SourceError                      anything a source could not do; message safe to show (no secrets)
    ├── Unreachable                  no route, refused, DNS failure: the thing is not there
    ├── Timeout                      it did not answer within the deadline
    ├── AuthFailed                   it answered and refused our credentials
    ├── NotFound                     it answered, but the object asked for does not exist
    ├── ProtocolError                it answered something we cannot understand
    ├── HostKeyRejected              an SSH host key is unknown (and not accepted) or has changed
    └── NotPermitted                 csdiag itself refused (e.g. a write on the read-only DB session)

``kind`` is the class name; evidence and findings record it so a bundle replays the same failure.
"""

from __future__ import annotations


class SourceError(Exception):
    """Base class; ``str(exc)`` is a one-line reason safe to print."""

    @property
    def kind(self) -> str:
        return type(self).__name__


class Unreachable(SourceError):
    pass


class Timeout(SourceError):
    pass


class AuthFailed(SourceError):
    pass


class NotFound(SourceError):
    pass


class ProtocolError(SourceError):
    pass


class NotPermitted(SourceError):
    pass


class HostKeyRejected(SourceError):
    pass
