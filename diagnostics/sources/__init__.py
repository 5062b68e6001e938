"""Thin I/O adapters: the only code in csdiag that talks to databases, hosts, switches and disks.

Each adapter takes a deadline, and raises only :mod:`diagnostics.sources.errors` exceptions. The bounds
of individual waits — DNS lookups, TCP connects, subprocesses, ``bounded(cap, deadline)`` for anything
else — come from one place, :mod:`diagnostics.sources.deadline`.
"""
