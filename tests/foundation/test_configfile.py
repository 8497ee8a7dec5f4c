"""The shared mechanism of validated TOML files (marketplace.configfile), tested directly."""

from __future__ import annotations

import ast
import copy
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marketplace import configfile
from marketplace.configfile import (
    MISSING,
    ConfigFileError,
    FileProblem,
    deep_merge,
    existing_file,
    loc_to_key,
    pydantic_expected,
    read_toml_with_extends,
    resolve_name,
    seed_data,
    set_dotted,
    shipped_dir,
)
from marketplace.errors import MarketplaceError


class QuotedProblem(FileProblem):
    __slots__ = ()
    bare_missing = False


class ThingFileError(ConfigFileError):
    problem_type = QuotedProblem


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sibling(name: str, path: Path) -> Path:
    return path.parent / f"{name}.toml"


def read(path: Path, error: type[ConfigFileError] = ConfigFileError) -> dict[str, Any]:
    return read_toml_with_extends(path, sibling, "thing", error)


def only_problem(exc: pytest.ExceptionInfo[ConfigFileError]) -> FileProblem:
    (problem,) = exc.value.problems
    return problem


# ---------------------------------------------------------------- extends


def test_extends_merges_tables_and_replaces_other_values(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", 'name = "base"\nitems = [1, 2]\n[t]\na = 1\nb = 2\n[t.inner]\nx = 1\n')
    child = write(tmp_path, "child.toml", 'extends = "base"\nitems = [3]\n[t]\nb = 20\n[t.inner]\ny = 2\n')
    assert read(child) == {"name": "base", "items": [3], "t": {"a": 1, "b": 20, "inner": {"x": 1, "y": 2}}}


def test_extends_cycle_is_a_problem_of_the_file_that_closes_it(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", 'extends = "b"\n')
    b = write(tmp_path, "b.toml", 'extends = "a"\n')
    with pytest.raises(ConfigFileError) as exc:
        read(a)
    problem = only_problem(exc)
    assert (problem.file, problem.key, problem.value) == (str(b), "extends", "a")
    assert str(exc.value) == f"{b}: extends: got 'a'; expected a thing that does not extend itself"


def test_self_extension_non_string_and_missing_base(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="a thing that does not extend itself"):
        read(write(tmp_path, "me.toml", 'extends = "me"\n'))
    with pytest.raises(ConfigFileError) as exc:
        read(write(tmp_path, "num.toml", "extends = 3\n"))
    assert str(only_problem(exc)).endswith("extends: got 3; expected the name of another thing")
    gone = write(tmp_path, "gone.toml", 'extends = "nowhere"\n')
    with pytest.raises(ConfigFileError) as exc:
        read(gone)
    assert only_problem(exc).expected == f"an existing thing ({tmp_path / 'nowhere.toml'})"
    with pytest.raises(ConfigFileError) as exc:
        read_toml_with_extends(gone, sibling, "thing", missing_base="the name of another {kind}")
    assert only_problem(exc).expected == "the name of another thing"


def test_syntax_error_is_one_problem_of_the_family(tmp_path: Path) -> None:
    base = write(tmp_path, "broken.toml", "name = \n")
    child = write(tmp_path, "child.toml", 'extends = "broken"\n')
    with pytest.raises(ThingFileError) as exc:
        read(child, ThingFileError)
    problem = only_problem(exc)
    assert type(problem) is QuotedProblem
    assert (problem.file, problem.key, problem.expected) == (str(base), "(syntax)", "valid TOML")
    assert isinstance(exc.value, MarketplaceError)
    assert str(exc.value) == f"{base}: (syntax): got {problem.value!r}; expected valid TOML"


# ---------------------------------------------------------------- merge and overrides


scalars = st.integers(0, 9) | st.lists(st.integers(0, 9), max_size=2)
tables = st.recursive(
    scalars, lambda inner: st.dictionaries(st.sampled_from("abc"), inner, max_size=3), max_leaves=8
)
dicts = st.dictionaries(st.sampled_from("abcd"), tables, max_size=4)


@given(dicts, dicts)
def test_deep_merge_child_wins_and_inputs_are_unchanged(base: dict[str, Any], child: dict[str, Any]) -> None:
    before = copy.deepcopy((base, child))
    merged = deep_merge(base, child)
    assert (base, child) == before
    assert deep_merge(merged, child) == merged  # applying the child again changes nothing
    for k, v in child.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            assert set(merged[k]) == set(base[k]) | set(v)  # tables merge, at every depth
        else:
            assert merged[k] == v
    assert set(merged) == set(base) | set(child)
    assert deep_merge(base, {}) == base and deep_merge({}, child) == child


def test_set_dotted_creates_tables_without_touching_shared_ones() -> None:
    shared = {"capacity": {"holder": 60}}
    data: dict[str, Any] = {"review": shared}
    problems: list[FileProblem] = []
    set_dotted(data, "review.capacity.holder", 80, "f.toml", problems)
    set_dotted(data, ["new", "deep", "key.with.dots"], 1, "f.toml", problems)
    assert problems == []
    assert data == {"review": {"capacity": {"holder": 80}}, "new": {"deep": {"key.with.dots": 1}}}
    assert shared == {"capacity": {"holder": 60}}


def test_set_dotted_through_a_value_is_a_problem_and_sets_nothing() -> None:
    data: dict[str, Any] = {"horizon": {"days": 365}}
    problems: list[FileProblem] = []
    set_dotted(data, "horizon.days.x", 1, "f.toml", problems, QuotedProblem)
    assert data == {"horizon": {"days": 365}}
    (problem,) = problems
    assert type(problem) is QuotedProblem
    assert str(problem) == "f.toml: horizon.days: got 365; expected a table to override a key in"


# ---------------------------------------------------------------- pydantic errors in the file's words


@pytest.mark.parametrize(
    ("loc", "key"),
    [
        (("pricing", "tiers", 1, "multiplier"), "pricing.tiers[1].multiplier"),
        (("purposes", "free", 0), "purposes.free[0]"),
        ((0, "a"), "[0].a"),
        (("name",), "name"),
        ((), "(top level)"),
    ],
)
def test_loc_to_key(loc: tuple[Any, ...], key: str) -> None:
    assert loc_to_key(loc) == key


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k: int = Field(ge=1)
    size: str = "small"


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: Inner | None = None
    items: list[Inner] = []


def errors(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with pytest.raises(ValidationError) as exc:
        Outer.model_validate(data)
    return {loc_to_key(e["loc"]): e for e in exc.value.errors(include_url=False)}


def test_pydantic_expected_reworded_with_allowed_keys() -> None:
    errs = errors({"inner": {"k": 0, "colour": 1}, "items": [{"k": 2, "kay": 1}], "extra": 1})
    assert pydantic_expected(errs["name"], Outer) == "a value (this required key is missing)"
    assert pydantic_expected(errs["inner.k"], Outer) == "a number greater than or equal to 1"
    assert pydantic_expected(errs["inner.colour"], Outer) == "no such key here; allowed keys: k, size"
    assert pydantic_expected(errs["items[0].kay"], Outer) == "no such key here; allowed keys: k, size"
    assert pydantic_expected(errs["extra"], Outer) == "no such key here; allowed keys: name, inner, items"


def test_pydantic_expected_verbatim_with_a_fixed_hint() -> None:
    errs = errors({"inner": {"k": 0, "colour": 1}})
    kw: dict[str, Any] = {"missing": "a value (the key is required)", "verbatim": True}
    assert pydantic_expected(errs["name"], "check the schema", **kw) == "a value (the key is required)"
    assert pydantic_expected(errs["inner.colour"], "check the schema", **kw) == "check the schema"
    assert pydantic_expected(errs["inner.k"], "check", **kw) == "Input should be greater than or equal to 1"


def test_missing_value_shown_bare_or_quoted() -> None:
    assert str(FileProblem("f", "k", MISSING, "a value")) == "f: k: got (missing); expected a value"
    assert str(QuotedProblem("f", "k", MISSING, "a value")) == "f: k: got '(missing)'; expected a value"
    assert str(FileProblem("f", "k", [1], "x")) == "f: k: got [1]; expected x"


# ---------------------------------------------------------------- locating files


def test_shipped_dir_env_var_else_the_seed_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFIGFILE_TEST_DIR", raising=False)
    seed = shipped_dir("CONFIGFILE_TEST_DIR", "policies")
    assert seed == resources.files("marketplace.seeddata") / "policies"
    assert (seed / "national-2025.toml").is_file()
    monkeypatch.setenv("CONFIGFILE_TEST_DIR", str(tmp_path))
    assert shipped_dir("CONFIGFILE_TEST_DIR", "policies") == tmp_path


def test_seed_data_is_the_installed_package_not_a_path_beside_the_code() -> None:
    """Installed (editable here, a wheel in test_wheel.py), the seed data is found with importlib.resources as
    the package marketplace.seeddata, whatever the folder is called on disk."""
    seed = seed_data()
    assert seed == resources.files("marketplace.seeddata")
    assert {"policies", "scenarios", "world", "templates", "exercises", "catalogs"} <= {
        p.name for p in seed.iterdir() if p.is_dir()
    }


def test_names_and_paths_resolve_and_a_missing_file_lists_what_exists(tmp_path: Path) -> None:
    write(tmp_path, "one.toml", "")
    write(tmp_path, "two.toml", "")
    assert resolve_name("one", tmp_path) == tmp_path / "one.toml"
    assert resolve_name("x/one", tmp_path) == Path("x/one")
    assert resolve_name("one.toml", tmp_path) == Path("one.toml")
    assert existing_file("two", tmp_path, "thing", ConfigFileError) == tmp_path / "two.toml"
    with pytest.raises(ThingFileError) as exc:
        existing_file("three", tmp_path, "thing", ThingFileError)
    assert str(exc.value) == (
        f"{tmp_path / 'three.toml'}: (file): got 'three'; expected an existing thing file or one of: one, two"
    )


def test_configfile_is_a_leaf() -> None:
    """The policy layer may import it only because it imports nothing of ours but marketplace.errors."""
    tree = ast.parse(Path(configfile.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    ours = {m for m in imported if m.split(".")[0] == "marketplace"}
    others = {m.split(".")[0] for m in imported} - {"marketplace", "pydantic", "__future__"}
    assert ours == {"marketplace.errors"}
    assert others <= set(sys.stdlib_module_names), others
