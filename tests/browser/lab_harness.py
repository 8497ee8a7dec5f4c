"""Start JupyterLab / Voila on a free loopback port and drive them with headless Chromium.

The recipe is docs/architecture.md#testing.

Shared by tests/browser and benchmarks/bench_ui.py. Never runs `playwright install`: the Debian chromium
binary is used directly; when it is missing the caller fails with the apt-get line to fix it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.executable).parent
SERVER_START_TIMEOUT = 90


def chromium_problem() -> str | None:
    """None when the browser is usable, else what to do about it."""
    if not Path(CHROMIUM).exists():
        return (
            f"{CHROMIUM} is missing: run `apt-get install -y chromium` (the tests never download a browser)"
        )
    return None


def seeded_sandbox(tmp_path_factory: Any, name: str) -> tuple[Path, str]:
    """A fresh working folder and a seeded SQLite sandbox in it, after checking Chromium is there (a missing
    browser fails the test: never skipped). Returns the folder and the database URL."""
    import pytest

    from marketplace import db
    from marketplace.synth import ensure_seeded

    problem = chromium_problem()
    if problem:
        pytest.fail(problem)
    workdir = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{workdir / 'sandbox.db'}"
    engine = db.make_engine(url)
    ensure_seeded(engine)
    engine.dispose()
    return workdir, url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sandbox_env(workdir: Path, db_url: str, lang: str = "en") -> dict[str, str]:
    """Environment for the servers and their kernels: one shared SQLite file, isolated Jupyter dirs."""
    env = dict(os.environ)
    for name in ("config", "runtime"):
        (workdir / f"jupyter-{name}").mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "MARKETPLACE_DB_URL": db_url,
            "MARKETPLACE_HOME": str(workdir / "home"),
            "MARKETPLACE_LANG": lang,
            "JUPYTER_CONFIG_DIR": str(workdir / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter-runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    token: str
    log: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}" if self.token else f"{self.base}{path}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception:
            time.sleep(0.2)
    raise TimeoutError(
        f"server not ready after {timeout:.0f}s: {url}\n{log.read_text(errors='replace')[-3000:]}"
    )


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(
        f"nothing listens on port {port} after {timeout:.0f}s\n{log.read_text(errors='replace')[-3000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the server's own process group: it and its kernels
        proc.wait(5)


def _settings(workdir: Path) -> Path:
    """JupyterLab user settings for the tests: autosave off, so executed notebooks are never saved."""
    folder = workdir / "lab-settings"
    plugin = folder / "@jupyterlab" / "docmanager-extension"
    plugin.mkdir(parents=True, exist_ok=True)
    (plugin / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    return folder


@contextmanager
def jupyter_lab(workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    port, token = free_port(), secrets.token_hex(16)
    log = workdir / "jupyterlab.log"
    cmd = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        "--allow-root",
        f"--ServerApp.root_dir={REPO}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        f"--LabServerApp.workspaces_dir={workdir / 'workspaces'}",
        # never write into the repository: checkpoints in the temp dir, no autosave of executed notebooks
        f"--FileCheckpoints.checkpoint_dir={workdir / 'checkpoints'}",
        f"--LabServerApp.user_settings_dir={_settings(workdir)}",
        "--ServerApp.open_browser=False",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", proc, log, SERVER_START_TIMEOUT)
        yield Server(proc, base, token, log)
    finally:
        _stop(proc)


@contextmanager
def voila(workdir: Path, env: dict[str, str], notebook: str) -> Iterator[Server]:
    port = free_port()
    log = workdir / f"voila-{Path(notebook).stem}.log"
    cmd = [
        str(BIN / "voila"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=True",
        notebook,
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_port(port, proc, log, SERVER_START_TIMEOUT)  # GET / would execute the notebook: only connect
        yield Server(proc, base, "", log)
    finally:
        _stop(proc)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# ---------------------------------------------------------------- JupyterLab page helpers


def open_notebook(page: Any, server: Server, path: str, timeout_ms: int = 60_000) -> Any:
    """Open `path` in JupyterLab (workspace reset); returns its notebook panel once its kernel is idle."""
    page.goto(server.url(f"/lab/tree/{path}") + "&reset", timeout=timeout_ms)
    page.wait_for_function(
        """p => { const app = window.jupyterapp; const w = app && app.shell.currentWidget;
                  return w && w.context && w.context.path === p; }""",
        arg=path,
        timeout=timeout_ms,
    )
    wait_kernel_idle(page, timeout_ms)
    return page.locator(".jp-NotebookPanel:visible")


def wait_kernel_idle(page: Any, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.status === 'idle';
        }""",
        timeout=timeout_ms,
    )


def run_all(page: Any, timeout_ms: int = 120_000) -> None:
    """Run every cell of the current notebook and wait until the kernel is idle again."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            if (!w || !w.content) return false;
            const cells = w.content.widgets.filter(c => c.model.type === 'code');
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.status === 'idle' && cells.every(c => c.model.executionCount !== null);
        }""",
        timeout=timeout_ms,
    )


def error_outputs(page: Any) -> list[str]:
    """Error outputs of the current notebook (exceptions in cells or in widget callbacks)."""
    return page.evaluate(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const out = [];
            for (const c of w.content.widgets) {
                if (c.model.type !== 'code') continue;
                for (let i = 0; i < c.model.outputs.length; i++) {
                    const o = c.model.outputs.get(i).toJSON();
                    if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue);
                    const text = String(o.text || '');
                    if (o.output_type === 'stream' && text.includes('Traceback')) out.push(text);
                }
            }
            return out;
        }"""
    )


def screenshot(page: Any, artifacts: Path, name: str) -> Path:
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{name}.png"
    with contextlib.suppress(Exception):  # the page itself may be gone; the log still helps
        page.screenshot(path=str(path), full_page=True)
    return path


def widget_select(scope: Any, label: str) -> Any:
    """The <select> of the ipywidgets Dropdown whose description is `label`."""
    return scope.locator(f".widget-dropdown:has(> label:text-is('{label}')) select").first


def which(name: str) -> str | None:
    return shutil.which(name, path=str(BIN))
