"""A switch CLI for netmiko tests: run as the forced command of a test sshd, it shows a prompt, answers the
commands it has recorded output for (``DIR/<command with spaces as _>.txt``), accepts the session set-up
commands netmiko sends (paging, width), and says ``% Invalid input`` to anything else.

    python fakecli.py DIR PROMPT
"""

from __future__ import annotations

import sys
from pathlib import Path

SETUP = {  # what the real CLIs answer to the session set-up netmiko sends
    "terminal length 0": "",
    "terminal width 511": "",
    "terminal no monitor": "",
    "screen-length 0 temporary": "Info: The configuration takes effect on the current user terminal interface only.\n",
    "screen-width 511": "",
    "set cli screen-length 0": "Screen length set to 0\n",
    "set cli screen-width 511": "Screen width set to 511\n",
    "set cli complete-on-space off": "Disabling complete-on-space\n",
    "no page": "",
}


def main(folder: Path, prompt: str) -> None:
    out = sys.stdout
    out.write(prompt)
    out.flush()
    for raw in sys.stdin:
        command = raw.strip()
        recorded = folder / (command.replace(" ", "_").replace("|", "") + ".txt")
        if command in ("exit", "quit", "logout"):
            return
        if command and recorded.is_file():
            text = recorded.read_text(encoding="utf-8")
            out.write(text if text.endswith("\n") else text + "\n")  # a CLI ends its output with a newline
        elif command in SETUP:
            out.write(SETUP[command])
        elif command:
            out.write(f"{' ' * len(prompt)}^\n% Invalid input detected at '^' marker.\n\n")
        out.write(prompt)
        out.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
