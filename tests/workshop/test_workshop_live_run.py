"""`LiveRun`: what a load test's `during` step reads of the workers' logs while they run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from marketplace.workshop.load import LiveRun


def _write(path: Path, *records: dict) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")


def test_acks_are_counted_after_a_time_across_workers_and_a_half_written_line_is_not(tmp_path: Path) -> None:
    a, b = tmp_path / "worker-000.jsonl", tmp_path / "worker-001.jsonl"
    run = LiveRun(0.0, (str(a), str(b), str(tmp_path / "worker-002.jsonl")), str(tmp_path / "stop"))
    assert run.acks_since(0.0) == 0  # no log yet is no ack, not an error
    _write(a, {"phase": "ready", "t": 1.0}, {"phase": "ack", "t": 2.0}, {"phase": "error", "t": 3.0})
    _write(b, {"phase": "ack", "t": 5.0}, {"phase": "read", "t": 6.0})
    with b.open("a", encoding="utf-8") as fh:
        fh.write('{"phase": "ack", "t": 7')  # the worker is still writing this line
    assert run.acks_since(0.0) == 2
    assert run.acks_since(2.0) == 1
    assert run.acks_since(5.0) == 0
    assert run.wait_for_acks(after=0.0, count=2, timeout=1.0)
    started = time.monotonic()
    assert not run.wait_for_acks(after=0.0, count=3, timeout=0.3, poll_s=0.05)
    assert time.monotonic() - started < 5


def test_stop_leaves_the_file_the_workers_watch(tmp_path: Path) -> None:
    run = LiveRun(0.0, (), str(tmp_path / "stop"))
    assert not (tmp_path / "stop").exists()
    run.stop()
    assert (tmp_path / "stop").exists()
