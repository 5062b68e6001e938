"""``python -m diagnostics.cli``."""

from diagnostics.cli import main

main()
