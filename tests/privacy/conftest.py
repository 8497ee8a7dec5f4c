"""The pycanon agreement check: an `anonymity` fixture with pycanon's measures, computed in .venv-pycanon.

`make test` (or `make pycanon-env`) builds that environment from tests/privacy/pycanon.lock; $PYCANON_PYTHON
points at another interpreter with pycanon installed. Without one, every test that compares with pycanon
fails, naming the command that builds it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `pycanon_oracle`

from pycanon_oracle import PycanonOracle

ROOT = Path(__file__).resolve().parents[2]


def pycanon_python() -> Path:
    return Path(os.environ.get("PYCANON_PYTHON") or ROOT / ".venv-pycanon" / "bin" / "python")


@pytest.fixture(scope="session")
def anonymity() -> Iterator[PycanonOracle]:
    python = pycanon_python()
    if not python.is_file():
        pytest.fail(f"{python}: no pycanon environment; build it with `make pycanon-env` (make test does)")
    oracle = PycanonOracle(python)
    yield oracle
    oracle.close()
