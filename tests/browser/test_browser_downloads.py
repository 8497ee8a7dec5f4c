"""The download buttons, clicked in a real browser: every file a researcher takes away opens as what it says.

The Voila apps that produce results (scenario lab, privacy lab, disclosure) are rendered in headless Chromium,
their main button pressed, and every download button then on the page clicked. Each file must arrive with the
name the button promised and parse as its format: CSV (UTF-8 with a BOM, a header and rows) and Parquet read
back by pandas with their columns (a table may be empty for the year: header only), PNG and SVG images with
their signatures, a zip of CSVs likewise. Run in Chinese, so the captions and the files a Chinese-speaking
trainer gets are the ones checked.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from lab_harness import chromium, sandbox_env, screenshot, seeded_sandbox, voila

from marketplace import i18n

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

TIMEOUT_MS = 120_000
LANG = "zh"
# app notebook -> (the panel's CSS class, message key of the button that produces its results)
APPS = {
    "scenario_lab.ipynb": ("mp-scenario-lab", "scenario.run"),
    "privacy_lab.ipynb": ("mp-privacy-lab", "privacy.run"),
    "disclosure.ipynb": ("mp-disclosure", "disclosure.build"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir, url = seeded_sandbox(tmp_path_factory, "downloads")
    yield {"workdir": workdir, "url": url, "artifacts": workdir / "artifacts"}


def check_file(name: str, payload: bytes) -> list[str]:
    """What is wrong with a downloaded file, judged by the format its name promises ([] = nothing)."""
    suffix = name.rsplit(".", 1)[-1].lower()
    if not payload:
        return [f"{name}: empty"]
    try:
        if suffix == "csv":
            if not payload.startswith(b"\xef\xbb\xbf"):
                return [f"{name}: CSV without the UTF-8 byte order mark spreadsheet programs need"]
            frame = pd.read_csv(io.BytesIO(payload), encoding="utf-8-sig")
            return [] if len(frame.columns) else [f"{name}: no header"]
        if suffix == "parquet":
            frame = pd.read_parquet(io.BytesIO(payload))
            return [] if len(frame.columns) else [f"{name}: no columns"]
        if suffix == "png":
            return [] if payload.startswith(b"\x89PNG\r\n\x1a\n") else [f"{name}: not a PNG image"]
        if suffix == "svg":
            return [] if b"<svg" in payload[:4096] else [f"{name}: not an SVG image"]
        if suffix == "zip":
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                inner = [p for member in archive.namelist() for p in check_file(member, archive.read(member))]
            return inner or ([] if archive.namelist() else [f"{name}: an empty archive"])
        if suffix in ("json", "jsonld"):
            import json

            json.loads(payload)
            return []
        if suffix in ("ttl", "xml", "rdf", "md", "txt", "html"):
            payload.decode("utf-8")
            return []
    except Exception as exc:  # reported with the file's name below
        return [f"{name}: does not parse as {suffix}: {exc}"]
    return [f"{name}: unexpected file type"]


@pytest.mark.parametrize("app", sorted(APPS))
def test_every_download_button_delivers_a_file_that_opens(world: dict[str, Any], app: str) -> None:
    workdir = world["workdir"] / Path(app).stem
    workdir.mkdir()
    env = sandbox_env(workdir, world["url"], LANG)
    panel, key = APPS[app]
    caption = i18n.t(key, lang=LANG)
    found: list[str] = []
    with voila(workdir, env, "notebooks/apps") as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(server.url(f"/voila/render/{app}"), timeout=TIMEOUT_MS)
            page.locator(f".{panel}").first.wait_for(state="visible", timeout=TIMEOUT_MS)
            page.locator(f".{panel} button").filter(has_text=caption).first.click()
            # The panel says it is done after its last download button is drawn; clicking earlier can hit a
            # button row being redrawn as files are added.
            done = page.locator(f".{panel} .mp-feedback .mp-ok").first
            done.wait_for(state="visible", timeout=TIMEOUT_MS * 2)
            page.wait_for_timeout(500)  # the last widget messages of the run
            buttons = page.locator(f".{panel} a.mp-download")
            buttons.first.wait_for(state="visible", timeout=TIMEOUT_MS)
        except Exception as exc:
            shot = screenshot(page, world["artifacts"], f"downloads-{Path(app).stem}")
            pytest.fail(f"{app}: {exc}\nscreenshot: {shot}\n{server.log_tail()}")
        names, clicked = [], set()
        for i in range(buttons.count()):
            button = buttons.nth(i)
            if not button.is_visible():
                continue
            promised = button.get_attribute("download") or ""
            names.append(promised)
            # What the button holds is what the browser saves: every button's file is checked ...
            href = button.get_attribute("href") or ""
            head, _, body = href.partition(",")
            if not head.startswith("data:") or not head.endswith(";base64"):
                found.append(f"{app}: {promised}: not a data URI with base64 content")
                continue
            found += [f"{app}: {p}" for p in check_file(promised, base64.b64decode(body))]
            # ... and one button of each format is clicked, so the browser's own saving is tried too. Not all
            # of them: in our runs headless Chromium stopped starting downloads after ten or so from one page.
            fmt = promised.split(".", 1)[-1]
            if fmt in clicked:
                continue
            clicked.add(fmt)
            with page.expect_download(timeout=TIMEOUT_MS) as info:
                button.click()
            saved = info.value.suggested_filename
            if saved != promised:
                found.append(f"{app}: button promised {promised!r}, the browser saved {saved!r}")
            found += [f"{app}: {p}" for p in check_file(saved, Path(info.value.path()).read_bytes())]
        screenshot(page, world["artifacts"], f"downloads-{Path(app).stem}")
    assert names, f"{app}: no download button visible after pressing {caption!r}"
    assert found == [], "\n".join(found)
