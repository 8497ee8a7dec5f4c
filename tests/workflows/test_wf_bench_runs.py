"""The workflow benchmark runs on the current workflows (a policy rule it trips over fails here, not in
`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_the_workflow_benchmark_runs_a_few_lifecycles_on_every_backend() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_workflows.py"), "--n", "3", "--backlog", "50"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=560,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for backend in ("sqlite (memory)", "sqlite (file, WAL)", "postgresql"):
        assert f"{backend}:" in out.stdout
    assert out.stdout.count("chain verified") == 3
