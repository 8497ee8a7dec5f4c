"""Start-up time of the `marketplace` command, as a ratio to `python -c pass` timed in the same run.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 7] [--before /path/to/an/older/checkout]

Every figure is the median wall time of fresh interpreters (`python -m marketplace ...`), in ms and as a ratio
to the baseline (a bare interpreter start). Target (issue #21): `--help` and `info` within 0.3 s; they used
to take 1.1–1.5 s (about 50× the baseline) because pandas, SQLModel, Faker and pyarrow were imported up front.
`info` is timed on a sandbox already at the head revision (the usual case; the first start creates it).
Also printed: the one-minute load average, since the machines are shared. With `--before DIR` the same
commands are also timed from that source tree (e.g. a checkout of the previous release), in the same run.
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
    """Median ms of `rounds` fresh interpreter runs of `args` (one warm-up run first, not counted), started in
    the source tree on PYTHONPATH (`python -m` puts the working directory first on sys.path)."""
    times = []
    for i in range(rounds + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL,
                       cwd=env["PYTHONPATH"])
        if i:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def environment(source: Path, home: str) -> dict[str, str]:
    """The environment of a `marketplace` started from `source`, with its sandbox in `home`."""
    env = {**os.environ, "MARKETPLACE_HOME": home, "PYTHONPATH": str(source)}
    env.pop("MARKETPLACE_DB_URL", None)
    subprocess.run([sys.executable, "-m", "marketplace", "info"], env=env, check=True, cwd=source,
                   stdout=subprocess.DEVNULL)  # the sandbox exists at head before `info` is timed
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="Also time the commands from this source tree.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as home_before:
        env = environment(REPO, home)
        before = environment(args.before.resolve(), home_before) if args.before else None
        base = wall_ms(["-c", "pass"], env, args.rounds)
        print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        heading = f"{'command':<14} {'ms':>8} {'x python -c pass':>18}"
        print(heading + (f" {'before ms':>10} {'before x':>9}" if before else ""))
        print(f"{'python -c pass':<14} {base:>8.1f} {1.0:>18.1f}")
        for name, command in COMMANDS.items():
            ms = wall_ms(command, env, args.rounds)
            line = f"{name:<14} {ms:>8.1f} {ms / base:>18.1f}"
            if before:
                old = wall_ms(command, before, args.rounds)
                line += f" {old:>10.1f} {old / base:>9.1f}"
            print(line + ("   (target <= 300 ms)" if name in ("--help", "info") else ""))
        print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
