"""Build step of the package: compile the gettext catalogs (.po -> .mo) with Babel.

Everything else about the package is declared in pyproject.toml; this file only adds the catalogs to
`build_py`, which setuptools runs for wheels and for editable installs (`pip install -e .`). A wheel gets the
`.mo` files in its build directory; an editable install runs from the source tree, so they are written next
to their `.po` sources there (git ignores them). `marketplace.i18n` compiles in memory when they are absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    """`build_py` plus the compiled catalogs."""

    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(ROOT))  # marketplace.translations needs only Babel and the standard library
        from marketplace.translations import compile_into

        base = ROOT if self.editable_mode else Path(self.build_lib)
        for path in compile_into(base / "marketplace" / "locale"):
            self.announce(f"compiled {path}", level=2)


setup(cmdclass={"build_py": BuildWithCatalogs})
