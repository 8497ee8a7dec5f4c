"""Notebook 05's free-use question: false claims against detection, leaked and recovered revenue.

The figures are the simulator's metrics (`leaked_revenue`, `recovered_revenue`, `misuse_detected`), averaged
over the seeds: the panel adds no rule of its own.
"""

from __future__ import annotations

import pytest

from marketplace.ui import free_use, i18n


@pytest.fixture
def ran() -> free_use.FreeUseSweep:
    sweep = free_use.free_use_sweep(seeds=1, days=45)
    sweep.false_share.value = "0, 0.5"
    sweep.detection.value = "0, 1"
    sweep.run_button.click()
    assert sweep.feedback.kind == "ok", sweep.feedback.text
    return sweep


def test_leakage_grows_with_false_claims_and_detection_recovers_it(ran: free_use.FreeUseSweep) -> None:
    s = ran.summary
    assert s is not None and len(s) == 4
    honest, no_detection, all_found = s.loc[("0", "0")], s.loc[("0.5", "0")], s.loc[("0.5", "1")]
    assert honest["false_free_claims"] == honest["leaked_revenue"] == 0
    assert no_detection["false_free_claims"] > 0 and no_detection["leaked_revenue"] > 0
    assert no_detection["misuse_detected"] == 0 and no_detection["recovered_revenue"] == 0
    # every granted false claim found: nothing leaks, its fee comes back
    assert all_found["leaked_revenue"] == 0 and all_found["recovered_revenue"] > 0
    assert all_found["misuse_detected"] == all_found["false_free_claims"] > 0
    assert no_detection["free_use_share"] > honest["free_use_share"]
    assert ran.plot.children and ran.plot.children[0].value[:4] == b"\x89PNG"
    assert "Revenue leaked into free use" in ran.table.value
    files = ran.downloads.files
    assert sorted(files) == sorted(
        f"free-use-{stem}.{fmt}" for stem, fmts in (("summary", "csv parquet"), ("runs", "csv parquet"),
                                                    ("leakage", "png svg")) for fmt in fmts.split()
    )
    assert files["free-use-leakage.png"][:4] == b"\x89PNG" and b"<svg" in files["free-use-leakage.svg"][:400]
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        i18n.set_language("zh")  # the figure is redrawn in Chinese, every glyph in the font
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught][:3]
    try:
        assert "流失到免费使用的收入" in ran.table.value and "查实概率" in ran.table.value
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("false_share", "0.5, 2"),
        ("false_share", ""),
        ("detection", "half"),
        ("detection", "0,0.1,0.2,0.3,0.4,0.5,0.6"),
    ],
)
def test_bad_shares_are_one_message_and_run_nothing(field: str, value: str) -> None:
    sweep = free_use.free_use_sweep(seeds=1, days=5)
    getattr(sweep, field).value = value
    sweep.run_button.click()
    assert sweep.feedback.kind == "error" and field in sweep.feedback.text, sweep.feedback.text
    assert sweep.results is None and sweep.progress.value == 0
