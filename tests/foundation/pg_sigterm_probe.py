"""Run only by `test_pg_server_teardown.py` (the name keeps it out of the normal collection): it starts the
test PostgreSQL server, reports the server's process id, then waits to be stopped by a signal."""

from __future__ import annotations

import os
import time
from pathlib import Path


def test_wait_for_the_signal(pg_server) -> None:
    pid = (pg_server.datadir / "postmaster.pid").read_text().splitlines()[0]
    report = Path(os.environ["PG_PROBE_REPORT"])
    tmp = report.with_suffix(".tmp")
    tmp.write_text(f"{pid} {pg_server.root}")
    tmp.replace(report)
    time.sleep(120)
