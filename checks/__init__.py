"""Checks, one module per fault-line; each exposes CHECK and registers through the csdiag.checks entry point."""
