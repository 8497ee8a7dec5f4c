"""A national run's worker processes never outlive the command that started them.

Stopped with SIGTERM (what `kill` and a job scheduler's time limit send) the command ends its workers and
says so in one line; killed outright (SIGKILL: an out-of-memory kill, a notebook kernel restarted) its
workers notice within seconds and end, instead of waiting on their pipes for ever. (The sweep command's
workers are a local Dask cluster's, which ends them itself.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

DAYS = "3660"  # about 15 s on three small regions: the run is still going when it is stopped


# Ctrl-C as in a terminal, even when this test run inherited SIGINT ignored (a background job does; an
# ignored signal stays ignored across exec, and Python then installs no handler of its own)
DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _worker(process: psutil.Process, command: int) -> bool:
    """Not one of multiprocessing's helpers (they end by themselves once nothing uses them): the resource
    tracker, and the fork server (a child of the command; the workers it forks run its command line too)."""
    try:
        line = " ".join(process.cmdline())
        return "resource_tracker" not in line and not ("forkserver" in line and process.ppid() == command)
    except psutil.NoSuchProcess:
        return False


def _start(tmp_path: Path, *argv: str) -> tuple[subprocess.Popen[bytes], list[psutil.Process]]:
    """The command (`python ARGV`), in a session of its own, once its two worker processes are running."""
    err = tmp_path / "err"
    run = subprocess.Popen(
        [sys.executable, "-c", DEFAULT_SIGINT, *argv],
        cwd=tmp_path,
        env={**os.environ, "MARKETPLACE_HOME": str(tmp_path / "home"), "MARKETPLACE_LANG": "en"},
        stdout=(tmp_path / "out").open("wb"),
        stderr=err.open("wb"),
        start_new_session=True,
    )
    me = psutil.Process(run.pid)
    deadline = time.time() + 90
    while time.time() < deadline and run.poll() is None:
        # forked workers share the command's command line; spawned ones run multiprocessing's entry point;
        # a fork server's are its children
        workers = [c for c in me.children(recursive=True) if _worker(c, run.pid)]
        if len(workers) == 2:
            time.sleep(1.0)  # into the run proper
            return run, workers
        time.sleep(0.1)
    raise AssertionError(f"no workers started: {err.read_text(errors='replace')[-800:]}")


def _national(scenario: Path, *extra: str) -> list[str]:
    return ["-m", "marketplace", "simulate", str(scenario), "--days", DAYS, "--workers", "2", *extra]


CAPS = "policy.overrides.pricing.caps.per_record"
SWEEP_IN_A_SCRIPT = [  # a notebook's or a script's sweep: the library's own process pool
    "-c",
    "from marketplace.sim.runner import sweep\n"
    f"sweep('deemed-approval', {{'{CAPS}': [0.02, 0.05, 0.08, 0.1]}}, seeds=4, max_workers=2)",
]
def _cleanup(run: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(run.pid, signal.SIGKILL)  # whatever failed, nothing of this test keeps running
    run.wait(10)


def _national_in_a_kernel(scenario: Path) -> list[str]:
    """A national run from a process that runs other threads (a notebook kernel): its workers come from a
    fork server, so their parent is the fork server, not the process that was killed."""
    return [
        "-c",
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
        "from marketplace.sim.regions import run_national\n"
        "from marketplace.sim.scenario import load_scenario\n"
        f"run_national(load_scenario({str(scenario)!r}), 1, {DAYS}, workers=2, executor='processes')",
    ]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("command", ["national", "national in a kernel", "sweep in a script"])
def test_killed_command_leaves_no_worker_behind(command: str, small_country: Path, tmp_path: Path) -> None:
    if command == "national":
        run, workers = _start(tmp_path, *_national(small_country))
    elif command == "national in a kernel":
        run, workers = _start(tmp_path, *_national_in_a_kernel(small_country))
    else:
        run, workers = _start(tmp_path, *SWEEP_IN_A_SCRIPT)
    try:
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        _, alive = psutil.wait_procs(workers, timeout=20)
        assert alive == [], f"workers still running 20 s after their command was killed: {alive}"
    finally:
        _cleanup(run)


@pytest.mark.timeout(240)
def _complete_checkpoint(folder: Path, regions: int, timeout: float) -> int:
    """The last simulated-interval number every region has a checkpoint of (waits for one)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        by_interval: dict[int, set[str]] = {}
        for f in folder.glob("region-*.ckpt"):
            _, region, interval = f.stem.split("-")
            by_interval.setdefault(int(interval), set()).add(region)
        complete = [k for k, seen in by_interval.items() if len(seen) == regions]
        if complete:
            return max(complete)
        time.sleep(0.1)
    raise AssertionError(f"no complete set of checkpoints in {timeout} s: {sorted(os.listdir(folder))}")


@pytest.mark.parametrize("stop", ["SIGTERM to the command", "Ctrl-C"])
def test_a_stopped_run_ends_its_workers_and_says_how_to_go_on(
    stop: str, small_country: Path, tmp_path: Path
) -> None:
    ck = tmp_path / "ck"
    run, workers = _start(tmp_path, *_national(small_country, "--checkpoint", str(ck)))
    try:
        _complete_checkpoint(ck, 3, 60)
        if stop == "Ctrl-C":  # a terminal sends SIGINT to every process of the foreground command
            os.killpg(run.pid, signal.SIGINT)
        else:
            os.kill(run.pid, signal.SIGTERM)
        code = run.wait(30)
        _, alive = psutil.wait_procs(workers, timeout=20)
        err = (tmp_path / "err").read_text(encoding="utf-8", errors="replace")
        assert code == (1 if stop == "Ctrl-C" else 128 + signal.SIGTERM), err[-800:]
        assert alive == [], f"workers still running after their command stopped: {alive}"
        assert "Traceback" not in err, err[-1500:]  # nor a worker's
        lines = [line for line in err.splitlines() if line.strip() and "\r" not in line]
        assert lines[-1] == "aborted", err[-800:]
        assert lines[-2].startswith(f"checkpoints in {ck} reach day "), err[-800:]
        assert lines[-2].endswith(": run the same command again to go on from there")
    finally:
        _cleanup(run)
