"""Package list for setuptools; everything else is in pyproject.toml.

Why a setup.py: `[tool.setuptools.packages.find]` only finds packages inside the source tree, and the seed
data lives in the repository's top-level seed/ folder, shipped as the package `marketplace.seeddata`
(`[tool.setuptools.package-dir]` in pyproject.toml). Its folders (policies, scenarios, ...) are listed as data
packages too, as setuptools asks of every folder it ships.
"""

from pathlib import Path

from setuptools import find_packages, setup

SEED = Path(__file__).parent / "seed"
seed_folders = sorted(p.name for p in SEED.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))

setup(
    packages=[
        *find_packages(include=["marketplace", "marketplace.*"]),
        "marketplace.seeddata",
        *(f"marketplace.seeddata.{name}" for name in seed_folders),
    ]
)
