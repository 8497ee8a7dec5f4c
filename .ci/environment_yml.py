"""Write environment.yml (Binder, conda) from requirements.lock: Python, pip, and every pin of the lock.

Why generated: Binder must install exactly what `make lab` and `make test` install, and conda's environment
file cannot include a requirements file by a path that every conda front end resolves the same way. The pins
are written out in full instead, so a Binder build installs the lock and caches it as one layer.
Usage: python .ci/environment_yml.py requirements.lock environment.yml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = """\
# Binder / conda environment: Python and every pin of requirements.lock, the same set `make lab` and
# `make test` install. Written by `make lock` (.ci/environment_yml.py): edit pyproject.toml, run `make lock`.
# postBuild installs the package itself and seeds the sandbox.
name: public-data-marketplace
channels:
  - conda-forge
dependencies:
  - python={python}
  - pip
  - pip:
"""
#: The Python Binder runs: the lowest version the lock is resolved for.
PYTHON = "3.11"


def pins(lock_text: str) -> list[str]:
    """The requirement lines of a `uv pip compile` / pip-tools lock, without comments and annotations."""
    lines = (line.split("#", 1)[0].strip() for line in lock_text.splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def environment_yml(lock_text: str) -> str:
    # JSON strings are YAML double-quoted scalars: markers with quotes and semicolons stay one item each.
    items = "".join(f"      - {json.dumps(pin)}\n" for pin in pins(lock_text))
    return HEADER.format(python=PYTHON) + items


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: environment_yml.py LOCK ENVIRONMENT_YML", file=sys.stderr)
        return 2
    lock, target = Path(argv[1]), Path(argv[2])
    target.write_text(environment_yml(lock.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{target}: {len(pins(lock.read_text(encoding='utf-8')))} pins from {lock}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
