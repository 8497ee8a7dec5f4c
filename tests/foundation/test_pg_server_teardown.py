"""A test run stopped by SIGTERM (a CI time limit, `kill`) still stops the PostgreSQL server it started,
instead of leaving it running with its data folder after the run is gone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

TESTS = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(180)
def test_sigterm_to_the_test_run_stops_its_postgresql_server(tmp_path: Path) -> None:
    report = tmp_path / "report"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(TESTS / "foundation" / "pg_sigterm_probe.py"),
        ],
        cwd=TESTS.parent,
        env={**os.environ, "PG_PROBE_REPORT": str(report)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pid, root = 0, ""
    try:
        deadline = time.time() + 90
        while not report.exists() and run.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert report.exists(), (
            run.communicate(timeout=30)[0][-2000:] if run.poll() is not None else "no report"
        )
        pid_text, root = report.read_text().split(" ", 1)
        pid = int(pid_text)
        assert _alive(pid)
        run.send_signal(signal.SIGTERM)
        out = run.communicate(timeout=60)[0]
        deadline = time.time() + 30
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"the PostgreSQL server {pid} outlived the run:\n{out[-1500:]}"
        assert not Path(root).exists()
        assert run.returncode != 0  # interrupted, not a pass
    finally:
        if run.poll() is None:
            run.kill()
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)  # never leave one behind, whatever failed
        if root:
            shutil.rmtree(root, ignore_errors=True)
