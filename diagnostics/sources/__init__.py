"""Thin I/O adapters: the only code in csdiag that talks to databases, hosts, switches and disks.

Each adapter takes a deadline, and raises only :mod:`diagnostics.sources.errors` exceptions.
"""
