"""Run every benchmark and print their tables.

    python bench/run_all.py            the full set (each script under 2 minutes once the databases
                                       are cached; the first run also generates them, about 2 minutes)
    python bench/run_all.py --quick    each with --quick (each under 20 s)

The jobs benchmark runs first: it generates the databases the others reuse (bench/.data/). Exit
status: 0 when every target is met, 1 when one is missed (or the bot never became healthy), 2 when a
script failed to run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import BENCH, ROOT, machine  # noqa: E402

SCRIPTS = ("jobs_scale.py", "ack_latency.py", "intake_throughput.py", "startup.py", "idle_connections.py")


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    print(f"Machine: {machine()}")
    print(f"Command: python bench/run_all.py{' --quick' if quick else ''}\n")
    worst = 0
    summary = []
    for script in SCRIPTS:
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(BENCH / script), *(["--quick"] if quick else [])], cwd=str(ROOT))
        seconds = time.monotonic() - started
        outcome = {0: "targets met", 1: "a target missed (or, for startup.py, the bot never became healthy)"}.get(
            done.returncode, f"failed (exit {done.returncode})"
        )
        worst = max(worst, done.returncode if done.returncode in (0, 1) else 2)
        summary.append(f"{script}: {outcome}, {seconds:.0f} s")
        print()
    print("\n".join(summary))
    return worst


if __name__ == "__main__":
    sys.exit(main())
