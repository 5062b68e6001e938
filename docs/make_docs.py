"""Regenerate docs/ from the demo bundle (``make docs``): what a user sees, produced by the tool itself.

- ``docs/triage-80x.txt``: ``csdiag triage`` in a real terminal of 80 columns (tmux, captured), and
  ``docs/triage-explain-1.txt``: ``--finding 1`` (the evidence of the first thing to look at);
- ``docs/report-1280.png`` and ``docs/report-390.png``: the HTML report's first screen in headless
  Chromium (a 1280×720 laptop browser, a 390×664 phone);
- ``docs/examples/``: the Nagios, Prometheus, JSON-rank and gate outputs quoted in README.md.

Run it after re-recording the demo bundle (``make demo-bundle``). Needs tmux and chromium (apt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DEMO = ROOT / "examples" / "demo-bundle"
CSDIAG = [sys.executable, "-m", "diagnostics.cli"]


def csdiag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CSDIAG, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def terminal(command: str, out: Path, cwd: Path, columns: int = 80) -> None:
    """Run ``command`` in a detached tmux pane of ``columns`` columns and save what it showed."""
    socket = f"csdiag-docs-{os.getpid()}-{out.stem}"  # a server of our own per capture
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    done = Path(tempfile.mkdtemp(prefix="csdiag-docs-tmux-")) / "done"
    bin_dir = Path(sys.executable).parent
    shell = f'export PATH={bin_dir}:$PATH; cd {cwd} && {command}; echo "[exit $?]"; touch {done}; sleep 600'
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-x",
            str(columns),
            "-y",
            "300",
            "env",
            "TERM=xterm-256color",
            "bash",
            "-c",
            shell,
        ],
        check=True,
        timeout=30,
    )
    try:
        deadline = time.monotonic() + 120
        while not done.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{command!r} did not finish within 120 s in tmux")
            time.sleep(0.2)
        shown = subprocess.run(
            [*tmux, "capture-pane", "-p", "-J", "-S", "-"], capture_output=True, text=True, check=True
        ).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, timeout=30)  # our own socket only
        shutil.rmtree(done.parent, ignore_errors=True)
    lines = shown.rstrip("\n").splitlines()
    out.write_text(f"$ {command}\n" + "\n".join(line.rstrip() for line in lines).rstrip() + "\n", encoding="utf-8")


def screenshot(page: Path, out: Path, width: int, height: int) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="csdiag-docs-chromium-") as profile:
        subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={out}",
                f"--window-size={width},{height}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )


def main() -> None:
    examples = DOCS / "examples"
    examples.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="csdiag-docs-") as tmp:
        work = Path(tmp)
        # the relative path keeps the transcript free of this machine's folders
        demo = os.path.relpath(DEMO, ROOT)
        terminal(f"csdiag triage --bundle {demo}", DOCS / "triage-80x.txt", ROOT)
        terminal(f"csdiag triage --bundle {demo} --finding 1", DOCS / "triage-explain-1.txt", ROOT)
        csdiag("triage", "--bundle", str(DEMO), "--output", str(work / "report"), cwd=work)
        page = work / "report" / "report.html"
        screenshot(page, DOCS / "report-1280.png", 1280, 720)
        screenshot(page, DOCS / "report-390.png", 390, 664)
        nagios = csdiag("triage", "--bundle", str(DEMO), "--format", "nagios", cwd=work)
        (examples / "triage.nagios.txt").write_text(nagios.stdout, encoding="utf-8")
        csdiag("triage", "--bundle", str(DEMO), "--format", "prom", "--output", str(examples / "csdiag.prom"), cwd=work)
        gate = csdiag(
            "--quiet", "gate", "--bundle", str(DEMO), "--only", "ssvm,platform",
            "--waivers", str(examples / "waivers.toml"), "--junit", str(examples / "gate.junit.xml"), cwd=work,
        )  # fmt: skip
        (examples / "gate.verdict.txt").write_text(gate.stderr + f"exit={gate.returncode}\n", encoding="utf-8")
    for name in ("triage-80x.txt", "triage-explain-1.txt", "report-1280.png", "report-390.png"):
        print(f"docs/{name}: {(DOCS / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
