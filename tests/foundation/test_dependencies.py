"""Every module we import comes from a distribution pyproject.toml declares: the package's imports from the
runtime dependencies (or an extra, imported only where the feature is used), the suite's from those or the
test extra. A module that merely arrives with another package breaks the day that package stops bringing
it."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
#: Runs in .venv-pycanon, not in the project's environment (see tests/privacy/conftest.py).
ISOLATED = {ROOT / "tests" / "privacy" / "pycanon_oracle.py"}


def names(specs: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(s).name) for s in specs}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = names(PROJECT["dependencies"])
EXTRAS = {extra: names(specs) for extra, specs in PROJECT["optional-dependencies"].items()}


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Top-level names of the absolute imports in a file (anywhere, or only those run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = ast.walk(tree)
    if top_level_only:
        nodes = (n for stmt in tree.body if not isinstance(stmt, ast.FunctionDef | ast.ClassDef)
                 for n in ast.walk(stmt))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


#: Our own modules: the package, and the helpers of the suite that the benchmarks share.
LOCAL = {"marketplace"} | {p.stem for d in ("tests", "benchmarks") for p in (ROOT / d).rglob("*.py")}
#: Import name -> distributions that provide it, in this environment (read once: it scans every package).
PROVIDERS = packages_distributions()


def distributions_of(module: str) -> set[str]:
    return {canonicalize_name(d) for d in PROVIDERS.get(module, [])}


def undeclared(folders: list[str], allowed: set[str]) -> list[str]:
    problems = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path in ISOLATED:
                continue
            for module in sorted(imports(path) - set(sys.stdlib_module_names) - LOCAL - {"__future__"}):
                dists = distributions_of(module)
                if not dists:
                    problems.append(
                        f"{path.relative_to(ROOT)}: imports {module}, which no installed package provides"
                    )
                elif not dists & allowed:
                    problems.append(
                        f"{path.relative_to(ROOT)}: imports {module} (from {', '.join(sorted(dists))}), "
                        "which pyproject.toml does not declare"
                    )
    return problems


def test_the_package_imports_only_what_it_declares() -> None:
    allowed = RUNTIME | set().union(*(deps for extra, deps in EXTRAS.items() if extra != "test"))
    problems = undeclared(["marketplace"], allowed)
    assert problems == [], "\n".join(problems)


def test_the_suite_and_benchmarks_import_only_what_is_declared() -> None:
    allowed = RUNTIME | set().union(*EXTRAS.values())
    problems = undeclared(["tests", "benchmarks"], allowed)
    assert problems == [], "\n".join(problems)


def test_optional_features_are_imported_only_where_used() -> None:
    """Without an extra installed, importing any module of the package still works."""
    optional = {m for extra, deps in EXTRAS.items() if extra != "test" for m in deps}
    problems = [
        f"{path.relative_to(ROOT)} imports {module} at import time; it comes from an extra"
        for path in sorted((ROOT / "marketplace").rglob("*.py"))
        for module in imports(path, top_level_only=True)
        if distributions_of(module) & optional
    ]
    assert problems == [], "\n".join(problems)


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    """Not vacuous: a module importing something only another package brings in is reported."""
    assert "jupyter_server" in imports(ROOT / "marketplace" / "jupyter_nodelay.py")
    assert distributions_of("yaml") == {"pyyaml"} and "pyyaml" not in RUNTIME
    probe = tmp_path / "probe.py"
    probe.write_text("import yaml\n\ndef f():\n    import distributed\n")
    assert imports(probe) == {"yaml", "distributed"} and imports(probe, top_level_only=True) == {"yaml"}
