"""The independent privacy check, run inside its own environment (.venv-pycanon) and spoken to over pipes.

pycanon pins pandas, numpy and scipy exactly, so it cannot share the project's environment without forcing
those versions on users. This script is run by that environment's Python (`python pycanon_oracle.py`); it
reads one JSON request per line on stdin and answers one JSON line on stdout:

    {"measure": "k_anonymity" | "l_diversity" | "entropy_l_diversity",
     "table": <DataFrame.to_json(orient="split")>, "quasi_identifiers": [...], "sensitive": [...]}
    -> {"value": <int>} or {"error": "<exception text>"}

The server side imports nothing from the project and only pandas and pycanon besides the standard library;
the tests' side, `PycanonOracle`, starts it and asks (the `anonymity` fixture in tests/privacy/conftest.py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pandas import DataFrame

ORACLE = Path(__file__).resolve()


def answer(request: dict) -> dict:
    import pandas as pd
    from pycanon import anonymity

    table = pd.read_json(io.StringIO(request["table"]), orient="split", dtype=False, convert_dates=False)
    measure = request["measure"]
    qis = request["quasi_identifiers"]
    if measure == "k_anonymity":
        return {"value": int(anonymity.k_anonymity(table, qis))}
    if measure in ("l_diversity", "entropy_l_diversity"):
        return {"value": int(getattr(anonymity, measure)(table, qis, request["sensitive"]))}
    return {"error": f"measure: got {measure!r}; expected k_anonymity, l_diversity or entropy_l_diversity"}


class PycanonOracle:
    """pycanon's `anonymity` measures, same names and arguments, answered by one long-lived subprocess."""

    def __init__(self, python: Path) -> None:
        self.process = subprocess.Popen(
            [str(python), str(ORACLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": ""},
        )

    def _ask(self, measure: str, table: DataFrame, qis: Sequence[str], sensitive: Sequence[str] = ()) -> int:
        request = {
            "measure": measure,
            "table": table.to_json(orient="split", index=False),
            "quasi_identifiers": list(qis),
            "sensitive": list(sensitive),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            status = self.process.wait()
            raise AssertionError(f"the pycanon process ({ORACLE.name}) ended with status {status}")
        reply = json.loads(line)
        if "error" in reply:
            raise AssertionError(f"pycanon {measure}: {reply['error']}")
        return int(reply["value"])

    def k_anonymity(self, table: DataFrame, qis: Sequence[str]) -> int:
        return self._ask("k_anonymity", table, qis)

    def l_diversity(self, table: DataFrame, qis: Sequence[str], sensitive: Sequence[str]) -> int:
        return self._ask("l_diversity", table, qis, sensitive)

    def entropy_l_diversity(self, table: DataFrame, qis: Sequence[str], sensitive: Sequence[str]) -> int:
        return self._ask("entropy_l_diversity", table, qis, sensitive)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def main() -> None:
    warnings.simplefilter("ignore")  # pycanon's own deprecation noise must not reach the pipe
    for line in sys.stdin:
        try:
            reply = answer(json.loads(line))
        except Exception as exc:  # reported to the test, which fails with it
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
