"""Layering rules (docs/architecture.md#layers), checked on the source (AST): a stray import fails."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "marketplace"
WIDGET_MODULES = (
    "ipywidgets",
    "widgetsnbextension",
    "jupyterlab_widgets",
    "traittypes",
    "bqplot",
    "ipyvuetify",
)
# marketplace.configfile is a leaf like errors (stdlib, pydantic, errors only): the one file-loading mechanism
# that policy files share with scenario files.
POLICY_MAY_IMPORT = (
    "marketplace.vocabulary",
    "marketplace.errors",
    "marketplace.configfile",
    "marketplace.policy",
)


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = PACKAGE) -> list[str]:
    """Absolute names of every module imported anywhere in the file (top level, functions, TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            names.append(mod)
            names.extend(f"{mod}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.append(arg.value)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_package_sources_found() -> None:
    files = {module_name(p) for p in sources()}
    assert {"marketplace.ui", "marketplace.policy", "marketplace.db"} <= files


def test_only_ui_imports_widgets() -> None:
    offenders = [
        f"{module_name(p)} imports {name}"
        for p in sources()
        if not module_name(p).startswith("marketplace.ui")
        for name in imports_of(p)
        if name.split(".")[0] in WIDGET_MODULES
    ]
    assert offenders == []


def test_ui_is_the_widget_layer() -> None:
    """The rule is not vacuous: the ui package does import ipywidgets (and the scan sees it)."""
    assert any(n.split(".")[0] == "ipywidgets" for p in (PACKAGE / "ui").rglob("*.py") for n in imports_of(p))


def test_policy_imports_only_vocabulary_errors_and_itself() -> None:
    policy_files = sorted((PACKAGE / "policy").rglob("*.py"))
    assert policy_files, "marketplace/policy is missing"
    offenders = [
        f"{module_name(p)} imports {name}"
        for p in policy_files
        for name in imports_of(p)
        if name.split(".")[0] == "marketplace"
        and name != "marketplace"
        and not any(name == allowed or name.startswith(allowed + ".") for allowed in POLICY_MAY_IMPORT)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import ipywidgets as w", "ipywidgets"),
        ("from ipywidgets import Button", "ipywidgets"),
        ("from marketplace import db", "marketplace.db"),
        ("from ..models import Account", "marketplace.models.Account"),
        ("import importlib\nimportlib.import_module('marketplace.workflows')", "marketplace.workflows"),
    ],
)
def test_scanner_sees_imports(tmp_path: Path, source: str, bad: str) -> None:
    """The scanner itself: absolute, relative and dynamic imports are all found."""
    fake = tmp_path / "marketplace" / "policy" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    assert bad in imports_of(fake, tmp_path / "marketplace")
