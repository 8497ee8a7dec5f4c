"""Results people can take away: every result panel offers its tables (CSV, Parquet) and figures (PNG, SVG)
as download buttons that carry the file itself (data: URIs: no server, no network, Voila alike)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pandas as pd
import pytest

from marketplace.ui import disclosure, i18n, privacy, scenarios
from marketplace.ui.common import Downloads
from marketplace.ui.context import Sandbox

ANCHOR = re.compile(
    r'<a class="mp-download[^"]*" role="button" style="[^"]+" download="([^"]+)" href="data:([^;,]+)'
)


def _buttons(widget: Downloads) -> dict[str, str]:
    return dict(ANCHOR.findall(widget.value))


def _check_files(widget: Downloads) -> None:
    """Every offered file is what its suffix says, and the button carries exactly those bytes."""
    for name, payload in widget.files.items():
        suffix = name.rsplit(".", 1)[1]
        if suffix == "png":
            assert payload[:4] == b"\x89PNG", name
        elif suffix == "svg":
            assert b"<svg" in payload[:400], name
        elif suffix == "parquet":
            assert payload[:4] == b"PAR1", name
            pd.read_parquet(io.BytesIO(payload))
        elif suffix == "csv":
            pd.read_csv(io.BytesIO(payload))
        encoded = base64.b64encode(payload).decode("ascii")
        assert f'download="{name}"' in widget.value and encoded in widget.value


def test_download_buttons_are_buttons_and_follow_the_language() -> None:
    box = Downloads()
    box.add_table(pd.DataFrame({"a": [1, 2], "b": ["x", "机构"]}), "t", "download.what.summary")
    assert _buttons(box) == {"t.csv": "text/csv", "t.parquet": "application/vnd.apache.parquet"}
    assert "Sweep summary (CSV)" in box.value and "jupyter-button" in box.value
    assert box.files["t.csv"].decode("utf-8-sig").splitlines() == ["a,b", "1,x", "2,机构"]
    i18n.set_language("zh")
    assert "扫描汇总表（CSV）" in box.value and "下载" in box.value
    i18n.set_language("en")


def test_parquet_download_of_mixed_columns_keeps_every_row() -> None:
    box = Downloads()
    frame = pd.DataFrame({"age": [pd.Interval(20, 30), "*", None], "n": [1, 2, 3]})
    box.add_table(frame, "mixed", "download.what.delivery")
    got = pd.read_parquet(io.BytesIO(box.files["mixed.parquet"]))
    assert (
        got["age"].tolist()[:2] == ["(20, 30]", "*"]
        and pd.isna(got["age"][2])
        and got["n"].tolist() == [1, 2, 3]
    )


def test_scenario_lab_offers_the_comparison_and_every_figure() -> None:
    lab = scenarios.scenario_lab("national-2025", "sme-discount", seeds=1, days=10)
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    names = set(lab.downloads.files)
    assert {"comparison.csv", "comparison.parquet"} <= names
    figures = {n for n in names if n.endswith((".png", ".svg"))}
    assert len(figures) == 2 * len(lab.plots.children) == 10
    table = pd.read_csv(io.BytesIO(lab.downloads.files["comparison.csv"]))
    assert {"metric", "a_mean", "a_low", "a_high", "diff_mean"} <= set(table.columns)
    assert "deadline_breaches" in set(table["metric"])
    _check_files(lab.downloads)


def test_tradeoff_curve_offers_its_points_and_figure(sandbox: Sandbox) -> None:
    curve = privacy.tradeoff_curve(sandbox)
    curve.rows.value = 200
    curve.run_button.click()
    assert curve.feedback.kind == "ok", curve.feedback.text
    assert set(curve.downloads.files) == {
        "privacy-tradeoff.csv",
        "privacy-tradeoff.parquet",
        "privacy-tradeoff.png",
        "privacy-tradeoff.svg",
    }
    points = pd.read_parquet(io.BytesIO(curve.downloads.files["privacy-tradeoff.parquet"]))
    assert points["k"].tolist() == list(curve.ks)
    _check_files(curve.downloads)


def test_disclosure_panel_offers_every_table_and_chart(sandbox: Sandbox) -> None:
    panel = disclosure.disclosure_panel(sandbox)
    panel.build_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    year = panel.report.year
    for name in panel.report.tables():
        assert {f"disclosure-{year}-{name}.csv", f"disclosure-{year}-{name}.parquet"} <= set(
            panel.exports.files
        )
    for chart in ("requests", "revenue"):
        assert {f"disclosure-{year}-chart-{chart}.png", f"disclosure-{year}-chart-{chart}.svg"} <= set(
            panel.exports.files
        )
    assert len(panel.charts.children) == 2
    _check_files(panel.exports)
    # the format links are buttons too
    assert panel.downloads.value.count('role="button"') == len(disclosure.FORMATS)


def test_download_buttons_do_not_keep_a_closed_panel_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    from marketplace.ui import common

    unsubscribed: list[bool] = []
    subscribe = common.on_language_change

    def spy(callback: Any) -> Any:
        unsubscribe = subscribe(callback)

        def counted() -> None:
            unsubscribed.append(True)
            unsubscribe()

        return counted

    monkeypatch.setattr(common, "on_language_change", spy)
    box = Downloads()
    box.add_table(pd.DataFrame({"a": [1]}), "t", "download.what.summary")
    ref = weakref.ref(box)
    box.close()
    del box
    gc.collect()
    assert ref() is None, "the language listener keeps the closed widget alive"
    i18n.set_language("zh")
    i18n.set_language("en")
    assert unsubscribed == [True]
