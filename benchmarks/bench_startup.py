"""Start-up time of the `marketplace` command, as a ratio to `python -c pass` timed in the same run.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 7]

Every figure is the median wall time of fresh interpreters (`python -m marketplace ...`), in ms and as a ratio
to the baseline (a bare interpreter start). Target (issue #21): `--help` and `info` within 0.3 s; they used
to take 1.1–1.5 s (about 50× the baseline) because pandas, SQLModel, Faker and pyarrow were imported up front.
`info` is timed on a sandbox already at the head revision (the usual case; the first start creates it).
Also printed: the one-minute load average, since the machines are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "--help": ["-m", "marketplace", "--help"],
    "info": ["-m", "marketplace", "info"],
    "seed --help": ["-m", "marketplace", "seed", "--help"],
    "policy list": ["-m", "marketplace", "policy", "list"],
}


def wall_ms(args: list[str], env: dict[str, str], rounds: int) -> float:
    """Median ms of `rounds` fresh interpreter runs of `args` (one warm-up run first, not counted)."""
    times = []
    for i in range(rounds + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL)
        if i:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "MARKETPLACE_HOME": home,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        env.pop("MARKETPLACE_DB_URL", None)
        subprocess.run([sys.executable, "-m", "marketplace", "info"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # the sandbox exists at head before `info` is timed
        base = wall_ms(["-c", "pass"], env, args.rounds)
        print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"{'command':<14} {'ms':>8} {'x python -c pass':>18}")
        print(f"{'python -c pass':<14} {base:>8.1f} {1.0:>18.1f}")
        for name, command in COMMANDS.items():
            ms = wall_ms(command, env, args.rounds)
            print(f"{name:<14} {ms:>8.1f} {ms / base:>18.1f}" + ("   (target <= 300 ms)" if name in (
                "--help", "info") else ""))


if __name__ == "__main__":
    main()
