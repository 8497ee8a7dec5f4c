"""The project's own files install what it needs, and the two dependency lists cannot drift."""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pyproject_runtime() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def _environment_pip() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    return pip_sections[0]


def test_environment_yml_and_pyproject_list_the_same_runtime_dependencies() -> None:
    assert sorted(_environment_pip()) == sorted(_pyproject_runtime())


def test_environment_yml_has_no_local_pip_references() -> None:
    for spec in _environment_pip():
        assert not re.match(r"^(-e|\.|/|file:|git\+)", spec), spec


def test_card_packages_are_runtime_dependencies() -> None:
    names = {re.split(r"[<>=\[ ]", spec)[0].lower() for spec in _pyproject_runtime()}
    assert {"jupyterlab", "ipywidgets", "sqlmodel", "faker"} <= names


def test_postbuild_installs_the_package_and_seeds() -> None:
    post = ROOT / "postBuild"
    text = post.read_text()
    assert post.stat().st_mode & stat.S_IXUSR
    assert "set -e" in text and "pip install --no-deps -e ." in text and "marketplace seed" in text


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme
    assert "?labpath=notebooks/00_start_here.ipynb" in readme


def test_no_database_file_is_shipped() -> None:
    shipped = [p for p in ROOT.rglob("*")
               if p.suffix in {".db", ".sqlite", ".sqlite3"} and ".venv" not in p.parts]
    assert shipped == []
