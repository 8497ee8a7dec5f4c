"""Build steps setuptools cannot take from pyproject.toml alone; everything else is declared there.

- The package list: `[tool.setuptools.packages.find]` only finds packages inside the source tree, and the
  seed data lives in the repository's top-level seed/ folder, shipped as the package `marketplace.seeddata`
  (`[tool.setuptools.package-dir]` in pyproject.toml). Its folders (policies, scenarios, ...) are listed as
  data packages too, as setuptools asks of every folder it ships.
- The gettext catalogs, compiled (.po -> .mo) with Babel in `build_py`, which setuptools runs for wheels and
  for editable installs (`pip install -e .`). A wheel gets the `.mo` files in its build directory; an editable
  install runs from the source tree, so they are written next to their `.po` sources there (git ignores them).
  `marketplace.i18n` compiles in memory when they are absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SEED = ROOT / "seed"
seed_folders = sorted(p.name for p in SEED.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


class BuildWithCatalogs(build_py):
    """`build_py` plus the compiled catalogs."""

    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(ROOT))  # marketplace.translations needs only Babel and the standard library
        from marketplace.translations import compile_into

        base = ROOT if self.editable_mode else Path(self.build_lib)
        for path in compile_into(base / "marketplace" / "locale"):
            self.announce(f"compiled {path}", level=2)


setup(
    packages=[
        *find_packages(include=["marketplace", "marketplace.*"]),
        "marketplace.seeddata",
        *(f"marketplace.seeddata.{name}" for name in seed_folders),
    ],
    cmdclass={"build_py": BuildWithCatalogs},
)
