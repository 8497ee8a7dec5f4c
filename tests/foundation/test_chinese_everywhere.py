"""Chinese beyond the panels: figures draw Chinese labels with a real CJK font (no missing-glyph boxes), and
the JupyterLab interface follows MARKETPLACE_LANG through its Chinese language pack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from marketplace import charts
from marketplace.errors import InvalidInput
from marketplace.i18n import reset_language, set_language

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "各扫描点的小微企业获取情况（均值，95% 置信区间）价格上限申请数获批数"


def test_a_cjk_font_is_installed_and_has_every_glyph() -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    font = charts.cjk_font()
    assert font is not None, "no CJK font: install fonts-noto-cjk (.ci/system-deps.sh, Binder apt.txt)"
    path = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    face = FT2Font(path)
    missing = [ch for ch in SAMPLE if not ch.isascii() and face.get_char_index(ord(ch)) == 0]
    assert missing == []


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_chinese_figures_render_without_missing_glyphs(fmt: str) -> None:
    import pandas as pd

    from marketplace.sim import SMALL_FIRM_METRICS
    from marketplace.sim.figures import sweep_figure

    set_language("zh")
    try:
        rows = []
        for cap in ("2500", "5000"):
            row = {"cap": cap, "seeds": 2}
            for m in SMALL_FIRM_METRICS:
                row.update({m: 1.0, f"{m}.low": 0.5, f"{m}.high": 1.5})
            rows.append(row)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = sweep_figure(pd.DataFrame(rows).set_index("cap"), "价格上限（CNY，按产品）")
            fig.suptitle(SAMPLE)
            data = charts.image_bytes(fig, fmt)
    finally:
        reset_language()
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert glyphs == [] and data
    import matplotlib

    assert charts.cjk_font() in matplotlib.rcParams["font.family"]


def test_lab_language_pack_is_installed_and_found_by_lab() -> None:
    import jupyterlab_language_pack_zh_CN  # noqa: F401
    from jupyterlab_server.translation_utils import get_language_packs

    assert "zh_CN" in get_language_packs()[0]


@pytest.mark.parametrize(("lang", "locale"), [("zh", "zh_CN"), ("zh_CN", "zh_CN"), ("en", "en"), ("", "en")])
def test_the_lab_locale_setting_follows_marketplace_lang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, locale: str
) -> None:
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import get_settings

    from marketplace import lab_language

    monkeypatch.setenv("MARKETPLACE_LANG", lang)
    written = lab_language.apply(directory=tmp_path)
    assert written == tmp_path / "overrides.d" / lab_language.FILE_NAME
    assert json.loads(written.read_text()) == {
        lab_language.TRANSLATION_PLUGIN: {"locale": locale},
        lab_language.NOTIFICATION_PLUGIN: {"fetchNews": "false", "checkForUpdates": False},
    }
    # what Lab itself reads: the translation plugin's default locale, with our override applied
    result, _warnings = get_settings(
        str(tmp_path),
        str(Path(get_app_dir()) / "schemas"),
        str(tmp_path / "user"),
        schema_name=lab_language.TRANSLATION_PLUGIN,
    )
    assert result["schema"]["properties"]["locale"]["default"] == locale
    quiet, _warnings = get_settings(
        str(tmp_path),
        str(Path(get_app_dir()) / "schemas"),
        str(tmp_path / "user"),
        schema_name=lab_language.NOTIFICATION_PLUGIN,
    )
    news = quiet["schema"]["properties"]
    assert news["fetchNews"]["default"] == "false" and news["checkForUpdates"]["default"] is False


def test_a_bad_language_is_one_line_exit_2(tmp_path: Path) -> None:
    from marketplace import lab_language

    with pytest.raises(InvalidInput):
        lab_language.lab_locale("fr")
    env = {**os.environ, "MARKETPLACE_LANG": "klingon", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "marketplace.lab_language", "--settings-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "MARKETPLACE_LANG" in out.stderr and "klingon" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "overrides.d").exists()


def test_set_up_installs_the_font_and_applies_the_lab_language() -> None:
    assert "fonts-noto-cjk" in (ROOT / "apt.txt").read_text().split()
    assert "fonts-noto-cjk" in (ROOT / ".ci" / "system-deps.sh").read_text()
    assert "marketplace.lab_language" in (ROOT / "Makefile").read_text()
    start = ROOT / "start"
    assert "marketplace.lab_language" in start.read_text() and os.access(start, os.X_OK)
