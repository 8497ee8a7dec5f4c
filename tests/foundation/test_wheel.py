"""The built wheel is a complete distribution: seed data and the Jupyter server config inside it, and the
`marketplace` command working from a fresh environment with the repository nowhere in sight.

The fresh environment gets the wheel alone (no dependencies of its own: installing the whole lock again would
take minutes); a .pth line lends it this environment's site-packages for the dependencies. That path is added
after the fresh site-packages and its .pth files are not run, so this environment's editable install of the
repository is invisible there: `marketplace` can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seed"
NODELAY = Path("etc/jupyter/jupyter_server_config.d/marketplace-nodelay.json")

pytestmark = pytest.mark.slow


def shipped_seed_files() -> set[str]:
    """The seed files the repository holds, as they must appear in the wheel."""
    return {
        "marketplace/seeddata/" + p.relative_to(SEED).as_posix()
        for p in SEED.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist and the wheel built from it (as `python -m build` does; it leaves no build/ in the tree)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("public_data_marketplace-*.whl")
    return built


def test_the_sdist_holds_what_a_wheel_is_built_from(dist: Path) -> None:
    (sdist,) = dist.glob("public_data_marketplace-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    seed = {n.removeprefix("marketplace/seeddata/") for n in shipped_seed_files()}
    assert {f"seed/{n}" for n in seed} <= names
    assert {"setup.py", "pyproject.toml", f"jupyter-config/jupyter_server_config.d/{NODELAY.name}"} <= names


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(purelib, "lent-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    return env_dir / "bin"


def run_in(bin_dir: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env |= {"MARKETPLACE_HOME": str(cwd / "home"), "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_seed_file_and_the_server_config(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = shipped_seed_files() - names
        assert missing == set(), sorted(missing)
        (config,) = [n for n in names if n.endswith(NODELAY.as_posix()) and ".data/data/" in n]
        assert json.loads(zf.read(config)) == json.loads(
            (ROOT / "jupyter-config" / "jupyter_server_config.d" / NODELAY.name).read_text()
        )
        assert not [n for n in names if n.startswith(("tests/", "seed/", "benchmarks/"))]


def test_the_installed_package_reads_its_own_seed_data(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, marketplace\n"
        "from marketplace.configfile import seed_data\n"
        "from marketplace.policy.loader import list_policies\n"
        "print(json.dumps([marketplace.__file__, str(seed_data()), list_policies()]))\n"
    )
    out = run_in(installed, ["python", "-c", probe], tmp_path)
    assert out.returncode == 0, out.stderr
    package, seed, policies = json.loads(out.stdout)
    fresh = str(installed.parent)
    assert package.startswith(fresh) and seed.startswith(fresh) and seed.endswith("marketplace/seeddata")
    assert "national-2025" in policies and len(policies) == len(list((SEED / "policies").glob("*.toml")))


def test_marketplace_policy_show_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    out = run_in(installed, ["marketplace", "policy", "show", "national-2025"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "national-2025" in out.stdout


def test_marketplace_demo_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    out = run_in(installed, ["marketplace", "demo"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "audit chain intact" in out.stdout
    assert not (ROOT / "home").exists()


def test_the_server_extension_is_enabled_by_the_wheel_alone(installed: Path, tmp_path: Path) -> None:
    config = installed.parent / NODELAY
    assert config.is_file()
    out = run_in(installed, ["python", "-m", "jupyter_server", "extension", "list"], tmp_path)
    text = out.stdout + out.stderr
    ours = text[text.index(f"Config dir: {installed.parent / 'etc' / 'jupyter'}"):].splitlines()
    assert "marketplace.jupyter_nodelay" in ours[1] and "enabled" in ours[1], "\n".join(ours[:4])
    assert "OK" in ours[3], "\n".join(ours[:4])
