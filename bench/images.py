"""How fast does the images check hash a template file, next to sha256sum?

Writes (once, cached in $TMPDIR) a SIZE_MB file (default 1024) of incompressible bytes, then in the same
run hashes it three times each with

- ``sha256sum FILE`` (the baseline: coreutils, what the check runs on an SSVM), and
- ``diagnostics.sources.templatefiles.hash_file(FILE, "sha256")`` (what the check runs on a local mount and `image lint`),

alternating, after one untimed read that puts the file in the page cache. Prints every time, the best of
each, the throughput in MiB/s and the ratio.

    .venv/bin/python bench/images.py [SIZE_MB]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics.sources.templatefiles import hash_file  # noqa: E402


def blob(size_mb: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"csdiag-bench-image-{size_mb}m.bin"
    if not path.exists() or path.stat().st_size != size_mb << 20:
        with path.open("wb") as f:
            for _ in range(size_mb):
                f.write(os.urandom(1 << 20))
    return path


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    path = blob(size_mb)
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    ours, theirs = [], []
    digests = set()
    for _ in range(3):
        t0 = time.perf_counter()
        out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout
        theirs.append(time.perf_counter() - t0)
        digests.add(out.split()[0])
        t0 = time.perf_counter()
        digests.add(hash_file(path, "sha256")["digest"])
        ours.append(time.perf_counter() - t0)
    assert len(digests) == 1, digests
    best_ours, best_theirs = min(ours), min(theirs)
    print(f"file: {size_mb} MiB of random bytes, in the page cache")
    print(f"baseline sha256sum:      {', '.join(f'{t:.2f}' for t in theirs)} s  best {best_theirs:.2f} s "
          f"= {size_mb / best_theirs:.0f} MiB/s")  # fmt: skip
    print(f"csdiag hash_file sha256: {', '.join(f'{t:.2f}' for t in ours)} s  best {best_ours:.2f} s "
          f"= {size_mb / best_ours:.0f} MiB/s")  # fmt: skip
    print(f"ratio: {best_ours / best_theirs:.2f}× sha256sum's time")


if __name__ == "__main__":
    main()
