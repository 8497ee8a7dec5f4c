"""A walk of every notebook and Voila app in a real JupyterLab / Voila, in English and in Chinese.

Each notebook is opened and run, each app rendered; the text a person sees in the widget outputs (labels,
buttons, options of visible dropdowns, tables, messages) is read from the page and checked with the same
rules as the headless walk (tests/visible_text.py): no unfilled `{placeholder}`, no internal id (snake_case
vocabulary values, dotted keys, None, list reprs), no English words in Chinese mode outside codes and the
synthetic data. A screenshot of each page is kept under the test's temporary directory (artifacts/walk-*).

One JupyterLab and one Voila server per language keep the walk to a few minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import (
    REPO,
    chromium,
    error_outputs,
    jupyter_lab,
    open_notebook,
    run_all,
    sandbox_env,
    screenshot,
    seeded_sandbox,
    voila,
)
from visible_text import data_words, problems

from marketplace import db

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

TIMEOUT_MS = 120_000
NOTEBOOKS = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "notebooks").glob("0*.ipynb"))
APPS = sorted(p.name for p in (REPO / "notebooks" / "apps").glob("*.ipynb"))

# Text of the visible widget outputs, one entry per text node, skipping synthetic data tables (mp-data),
# code, the traceback disclosure, hidden elements; plus the options of visible dropdowns.
VISIBLE_TEXT_JS = """
(root) => {
  const scope = root ? document.querySelector(root) : document;
  const skip = '.mp-data, code, pre, details, script, style, select, textarea, input';
  const out = [];
  const areas = scope.querySelectorAll(
    '.jupyter-widgets, .widget-html-content, .widget-label, .p-TabBar-tabLabel, .lm-TabBar-tabLabel');
  const seen = new Set();
  for (const area of areas) {
    const walker = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      if (seen.has(node)) continue;
      seen.add(node);
      const el = node.parentElement;
      const text = node.textContent.trim();
      if (!text || !el || el.closest(skip)) continue;
      if (el.checkVisibility && !el.checkVisibility()) continue;
      out.push(['text', text]);
    }
  }
  for (const select of scope.querySelectorAll('.jupyter-widgets select')) {
    if (select.checkVisibility && !select.checkVisibility()) continue;
    for (const option of select.options) out.push(['option', option.text]);
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def walk_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir, url = seeded_sandbox(tmp_path_factory, "walk")
    yield {"workdir": workdir, "url": url, "artifacts": workdir / "artifacts"}


def _check(page: Any, where: str, lang: str, url: str, root: str | None = None) -> list[str]:
    texts = [(f"{where} {kind}", text, False) for kind, text in page.evaluate(VISIBLE_TEXT_JS, root)]
    assert texts, f"{where}: no widget text found on the page"
    engine = db.make_engine(url)
    try:
        allowed = data_words(engine)
    finally:
        engine.dispose()
    return problems(texts, lang, allowed=allowed)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_notebook_shows_words_not_ids(walk_world: dict[str, Any], lang: str) -> None:
    workdir = walk_world["workdir"] / f"lab-{lang}"
    workdir.mkdir()
    env = sandbox_env(workdir, walk_world["url"], lang)
    found: list[str] = []
    with jupyter_lab(workdir, env) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        for notebook in NOTEBOOKS:
            name = f"walk-{lang}-{Path(notebook).stem}"
            try:
                open_notebook(page, server, notebook, TIMEOUT_MS)
                run_all(page, TIMEOUT_MS * 2)
                page.locator(".jp-NotebookPanel:visible .jupyter-widgets").first.wait_for(state="visible")
                page.wait_for_timeout(800)  # the last comm messages of the panels
            except Exception as exc:
                shot = screenshot(page, walk_world["artifacts"], name)
                pytest.fail(f"{notebook}: {exc}\nscreenshot: {shot}\n{server.log_tail()}")
            screenshot(page, walk_world["artifacts"], name)
            found += [f"{notebook}: error output {e}" for e in error_outputs(page)]
            found += [
                f"{notebook}: {p}"
                for p in _check(
                    page,
                    notebook,
                    lang,
                    walk_world["url"],
                    ".jp-NotebookPanel:not(.lm-mod-hidden):not(.p-mod-hidden)",
                )
            ]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_voila_app_shows_words_not_ids(walk_world: dict[str, Any], lang: str) -> None:
    workdir = walk_world["workdir"] / f"voila-{lang}"
    workdir.mkdir()
    env = sandbox_env(workdir, walk_world["url"], lang)
    found: list[str] = []
    with voila(workdir, env, "notebooks/apps") as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        for app in APPS:
            name = f"walk-{lang}-voila-{Path(app).stem}"
            try:
                page.goto(server.url(f"/voila/render/{app}"), timeout=TIMEOUT_MS)
                page.locator(".mp-app").first.wait_for(state="visible", timeout=TIMEOUT_MS)
                page.wait_for_timeout(800)
            except Exception as exc:
                shot = screenshot(page, walk_world["artifacts"], name)
                pytest.fail(f"{app}: {exc}\nscreenshot: {shot}\n{server.log_tail()}")
            screenshot(page, walk_world["artifacts"], name)
            if "Traceback" in page.locator("body").inner_text():
                found.append(f"{app}: a traceback on the page")
            found += [f"{app}: {p}" for p in _check(page, app, lang, walk_world["url"])]
    assert found == [], "\n".join(found)
