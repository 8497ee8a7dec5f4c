"""One resolved dependency set: pyproject.toml declares, requirements.lock pins, environment.yml mirrors the
lock, and every way of installing (make lab, make test, Binder) installs from the lock. Each disagreement is
reported by name, with the command that fixes it."""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PROJECT = "public-data-marketplace"
#: Extras the lock covers (with the runtime dependencies): `make lock` compiles exactly these.
LOCKED_EXTRAS = ("distributed", "test")
FIX = "run `make lock`"


@dataclass(frozen=True)
class Pin:
    """One requirement line of the lock and the packages its annotation says want it."""

    name: str
    line: str
    version: Version
    wanted_by: frozenset[str]


def parse_lock(text: str) -> list[Pin]:
    """The pins of a `uv pip compile` lock (pip-tools' format), with their `# via` annotations."""
    pins: list[Pin] = []
    current: tuple[str, str, Version] | None = None
    via: set[str] = set()

    def close() -> None:
        if current is not None:
            pins.append(Pin(current[0], current[1], current[2], frozenset(via)))

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if current is not None and (comment.startswith("via ") or raw.startswith("    #   ")):
                via.add(comment.removeprefix("via ").strip())
            continue
        close()
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{LOCK.name}: {line!r} is not an exact pin"
        current, via = (canonicalize_name(req.name), line, Version(spec.version)), set()
    close()
    return pins


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared() -> dict[str, tuple[str, Requirement]]:
    """Every direct dependency of the locked set: name -> (where pyproject.toml lists it, requirement)."""
    project = pyproject()["project"]
    groups = [("[project] dependencies", project["dependencies"])]
    groups += [(f"[{extra}] extra", project["optional-dependencies"][extra]) for extra in LOCKED_EXTRAS]
    out: dict[str, tuple[str, Requirement]] = {}
    for where, specs in groups:
        for spec in specs:
            req = Requirement(spec)
            out[canonicalize_name(req.name)] = (where, req)
    return out


def environment_pip() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    return pip_sections[0]


def lock_disagreements(declared: dict[str, tuple[str, Requirement]], pins: list[Pin]) -> list[str]:
    """What differs between pyproject's direct dependencies and the lock, one line per package."""
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    problems = []
    for name, (where, req) in sorted(declared.items()):
        locked = by_name.get(name)
        if not locked:
            problems.append(
                f"{name}: pyproject.toml {where} lists {str(req)!r}; {LOCK.name} has no pin; {FIX}"
            )
            continue
        for pin in locked:
            if not req.specifier.contains(pin.version, prereleases=True):
                problems.append(
                    f"{name}: pyproject.toml {where} asks for {str(req)!r}; "
                    f"{LOCK.name} pins {pin.line!r}; {FIX}"
                )
    for pin in pins:
        if any(w.startswith(PROJECT) for w in pin.wanted_by) and pin.name not in declared:
            problems.append(
                f"{pin.name}: {LOCK.name} pins {pin.line!r} for pyproject.toml, "
                f"which no longer lists it; {FIX}"
            )
    return problems


def environment_disagreements(env_pins: list[str], pins: list[Pin]) -> list[str]:
    """What differs between environment.yml's pip list and the lock's pins, one line per package."""

    def key(line: str) -> str:
        return canonicalize_name(Requirement(line).name) + " " + str(Requirement(line).marker or "")

    env = {key(line): line for line in env_pins}
    lock = {key(pin.line): pin.line for pin in pins}
    problems = []
    for k in sorted(env.keys() | lock.keys()):
        name = k.split(" ", 1)[0]
        if k not in env:
            problems.append(f"{name}: {LOCK.name} pins {lock[k]!r}; environment.yml does not; {FIX}")
        elif k not in lock:
            problems.append(f"{name}: environment.yml lists {env[k]!r}; {LOCK.name} does not; {FIX}")
        elif Requirement(env[k]).specifier != Requirement(lock[k]).specifier:
            problems.append(f"{name}: environment.yml lists {env[k]!r}; {LOCK.name} pins {lock[k]!r}; {FIX}")
    return problems


# ---------------------------------------------------------------- the three files agree


def test_lock_pins_every_declared_dependency_and_nothing_stale() -> None:
    problems = lock_disagreements(declared(), parse_lock(LOCK.read_text(encoding="utf-8")))
    assert problems == [], "\n".join(problems)


def test_environment_yml_installs_exactly_the_lock() -> None:
    problems = environment_disagreements(environment_pip(), parse_lock(LOCK.read_text(encoding="utf-8")))
    assert problems == [], "\n".join(problems)


def test_a_disagreement_names_the_package_and_the_fix() -> None:
    """The checks above fail on each kind of drift, naming the one package that drifted."""
    pins = parse_lock(
        "pandas==3.1.1\n    # via public-data-marketplace (pyproject.toml)\n"
        "numpy==2.4.6\n    # via\n    #   pandas\n    #   public-data-marketplace (pyproject.toml)\n"
        "old-tool==1.0\n    # via public-data-marketplace (pyproject.toml)\n"
        "six==1.17.0\n    # via python-dateutil\n"
    )
    assert [p.wanted_by for p in pins][:2] == [
        {"public-data-marketplace (pyproject.toml)"},
        {"pandas", "public-data-marketplace (pyproject.toml)"},
    ]
    wanted = {
        "pandas": ("[project] dependencies", Requirement("pandas>=2.2")),
        "numpy": ("[project] dependencies", Requirement("numpy>=2.5")),
        "alembic": ("[project] dependencies", Requirement("alembic>=1.13")),
    }
    assert lock_disagreements(wanted, pins) == [
        "alembic: pyproject.toml [project] dependencies lists 'alembic>=1.13'; requirements.lock has no pin; "
        "run `make lock`",
        "numpy: pyproject.toml [project] dependencies asks for 'numpy>=2.5'; requirements.lock pins "
        "'numpy==2.4.6'; run `make lock`",
        "old-tool: requirements.lock pins 'old-tool==1.0' for pyproject.toml, which no longer lists it; "
        "run `make lock`",
    ]
    env = ["pandas==3.0.0", "numpy==2.4.6", "six==1.17.0", "extra==1"]
    assert environment_disagreements(env, pins) == [
        "extra: environment.yml lists 'extra==1'; requirements.lock does not; run `make lock`",
        "old-tool: requirements.lock pins 'old-tool==1.0'; environment.yml does not; run `make lock`",
        "pandas: environment.yml lists 'pandas==3.0.0'; requirements.lock pins 'pandas==3.1.1'; "
        "run `make lock`",
    ]


def linux(python: str) -> dict[str, str]:
    """Marker environment of CPython `python` (e.g. "3.12") on Linux, the platform the lock is made for."""
    return {
        **default_environment(),
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_version": python,
        "python_full_version": f"{python}.0",
    }


def applicable(pins: list[Pin], env: dict[str, str]) -> dict[str, list[str]]:
    """name -> the versions the lock installs in `env` (one, if the lock is sound)."""
    out: dict[str, list[str]] = {}
    for pin in pins:
        marker = Requirement(pin.line).marker
        if marker is None or marker.evaluate(env):
            out.setdefault(pin.name, []).append(str(pin.version))
    return out


def test_lock_gives_python_311_to_313_on_linux_the_same_versions() -> None:
    """One version of each package for every Python the project supports, so 3.11 tests what 3.13 gets."""
    text = LOCK.read_text(encoding="utf-8")
    assert "make lock" in text.splitlines()[1]
    assert "--universal --python-version 3.11 --fork-strategy fewest" in (ROOT / "Makefile").read_text()
    assert pyproject()["project"]["requires-python"] == ">=3.11"
    pins = parse_lock(text)
    base = applicable(pins, linux("3.11"))
    assert {n: v for n, v in base.items() if len(v) > 1} == {}
    assert {"pandas", "numpy", "mesa", "jupyterlab"} <= base.keys()
    for python in ("3.12", "3.13"):
        other = applicable(pins, linux(python))
        # backports for 3.11 alone (importlib-metadata, zipp, ...) drop out; nothing else may change
        differ = sorted(n for n in base.keys() & other.keys() if base[n] != other[n])
        assert differ == [], f"Python {python} on Linux gets other versions of: {', '.join(differ)}"
        assert len(other) >= len(base) - 10 and other.keys() - base.keys() == set()


def test_pycanon_is_not_in_the_users_environment_but_locked_on_its_own() -> None:
    names = {pin.name for pin in parse_lock(LOCK.read_text(encoding="utf-8"))}
    assert "pycanon" not in names and "pycanon" not in declared()
    isolated = parse_lock((ROOT / "tests" / "privacy" / "pycanon.lock").read_text(encoding="utf-8"))
    assert "pycanon" in {pin.name for pin in isolated}


def test_mesa_is_capped_below_4() -> None:
    (_, mesa) = declared()["mesa"]
    assert mesa.specifier.contains("3.1.0") and not mesa.specifier.contains("4.0.0")
    assert not mesa.specifier.contains("3.0.3"), "Model(rng=...) needs Mesa 3.1"


def test_dask_is_the_distributed_extra_and_binder_installs_it() -> None:
    project = pyproject()["project"]
    runtime = {canonicalize_name(Requirement(s).name) for s in project["dependencies"]}
    extra = {canonicalize_name(Requirement(s).name) for s in project["optional-dependencies"]["distributed"]}
    assert extra == {"dask", "distributed"} and not runtime & extra
    env = {canonicalize_name(Requirement(line).name) for line in environment_pip()}
    assert extra <= env


# ---------------------------------------------------------------- every install uses the lock


def test_makefile_installs_lab_and_tests_from_the_lock() -> None:
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = re.search(r"^\$\(STAMP_ENV\): (.*)$", make, re.M)
    assert stamp and "$(LOCK)" in stamp.group(1)
    assert "uv pip sync" in make and "--no-deps -e ." in make and "pip check" in make
    for target in ("lab", "test", "demo"):
        deps = re.search(rf"^{target}: (.*)$", make, re.M)
        assert deps and "$(STAMP_ENV)" in deps.group(1), target
    assert re.search(r"^test: .*\$\(STAMP_PYCANON\)", make, re.M)
    assert re.search(r"^lock:", make, re.M) and "uv pip compile pyproject.toml" in make


def test_postbuild_installs_the_package_as_a_wheel_and_seeds() -> None:
    post = ROOT / "postBuild"
    text = post.read_text(encoding="utf-8")
    assert post.stat().st_mode & stat.S_IXUSR
    assert "set -e" in text and "pip install --no-deps ." in text and "pip check" in text
    assert "marketplace seed" in text


def test_environment_yml_has_no_local_pip_references() -> None:
    for spec in environment_pip():
        assert not re.match(r"^(-e|-r|-c|\.|/|file:|git\+)", spec), spec


def test_card_packages_are_runtime_dependencies() -> None:
    names = {canonicalize_name(Requirement(s).name) for s in pyproject()["project"]["dependencies"]}
    assert {"jupyterlab", "ipywidgets", "sqlmodel", "faker"} <= names


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme
    assert "?labpath=notebooks/00_start_here.ipynb" in readme


def test_no_database_file_is_shipped() -> None:
    shipped = [
        p
        for p in ROOT.rglob("*")
        if p.suffix in {".db", ".sqlite", ".sqlite3"} and not {".venv", ".venv-pycanon"} & set(p.parts)
    ]
    assert shipped == []
