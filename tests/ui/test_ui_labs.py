"""The privacy and scenario labs: controls in, measured numbers and static plots out."""

from __future__ import annotations

import io

import pandas as pd

from marketplace.sim.figures import SCENARIO_GROUPS
from marketplace.ui import i18n, privacy, scenarios, start
from marketplace.ui.context import Sandbox


def test_privacy_lab_meets_k_and_draws_the_loss_curve(sandbox: Sandbox) -> None:
    lab = privacy.privacy_lab(sandbox)
    assert lab.resource.value is not None
    lab.rows.value, lab.k.value, lab.l.value = 300, 10, 2
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    report = lab.report
    assert report.k_achieved >= 10 and report.rows_in == 300
    assert f"{report.k_achieved} (≥ 10)" in lab.metrics.value
    assert lab.before.value.count("<tr>") > 1 and lab.after.value.count("<tr>") > 1
    ks = [k for k, v in lab.curve if v is not None]
    assert 10 in ks and len(ks) >= 3
    ncps = [v for _, v in lab.curve if v is not None]
    assert ncps == sorted(ncps), "information loss does not fall as k grows"
    image = lab.plot.children[0]
    assert image.format == "png" and image.value[:4] == b"\x89PNG"
    # what the researcher takes away is what the lab released and measured
    released = pd.read_csv(io.BytesIO(lab.downloads.files["privacy-lab-released.csv"]), encoding="utf-8-sig")
    assert len(released) == report.rows_released and list(released.columns) == list(lab.released.columns)
    loss = pd.read_parquet(io.BytesIO(lab.downloads.files["privacy-lab-loss.parquet"]))
    assert list(loss["k"]) == [k for k, _ in lab.curve]
    assert lab.downloads.files["privacy-lab-loss.png"][:4] == b"\x89PNG"
    assert "privacy-lab-metrics.csv" in lab.downloads.files and "privacy-lab-loss.svg" in lab.downloads.files


def test_privacy_lab_shows_an_impossible_target(sandbox: Sandbox) -> None:
    lab = privacy.privacy_lab(sandbox)
    lab.rows.value, lab.k.value = 50, 50
    lab.l.value = 10
    lab.run_button.click()
    assert lab.feedback.kind == "error" and "nothing released" in lab.feedback.text
    assert lab.report is None


def test_scenario_lab_runs_two_scenarios_with_progress() -> None:
    lab = scenarios.scenario_lab("national-2025", "sme-discount", seeds=2, days=20)
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    assert lab.progress.value == lab.progress.max == 2 + 2 * 20
    assert lab.comparison is not None and lab.comparison.attrs["seeds"] == [
        *range(lab.comparison.attrs["seeds"][0], lab.comparison.attrs["seeds"][0] + 2)
    ]
    assert "Requests filed" in lab.table.value and "sme-discount" in lab.table.value
    assert len(lab.plots.children) == len(SCENARIO_GROUPS) + 1
    row = lab.metric_row("filed")
    assert row["a_low"] <= row["a_mean"] <= row["a_high"]


def test_scenario_lab_bad_days_is_a_message() -> None:
    lab = scenarios.scenario_lab(seeds=1, days=5)
    lab.a.value = None
    lab.run_button.click()
    assert lab.feedback.kind == "error" and "scenario" in lab.feedback.text


def test_tour_builds_each_step_when_opened(sandbox: Sandbox) -> None:
    tour = start.tour(sandbox)
    assert tour.panels == {}
    for i in range(len(tour.steps)):
        panel = tour.open_step(i)
        assert panel in tour.bodies[i].children
    assert set(tour.panels) == set(range(5))
    assert sandbox.account_id is not None


def test_privacy_lab_cannot_go_below_the_policy_minimum(sandbox: Sandbox) -> None:
    """Issue #19: the lab releases nothing below the k and ℓ of the policy in force (national-2025: 5, 2)."""
    lab = privacy.privacy_lab(sandbox)
    assert (lab.k.min, lab.l.min) == (5, 2)
    lab.k.value = 1  # the slider clamps to its minimum
    assert lab.k.value == 5
    lab.k.min, lab.k.value = 1, 1  # even a widget changed by hand is refused by the rule
    lab.run_button.click()
    assert lab.feedback.kind == "error" and "k" in lab.feedback.text and "national-2025" in lab.feedback.text
    assert lab.report is None


def test_compute_under_grant_words_its_errors_in_one_line(sandbox: Sandbox) -> None:
    from marketplace.ui import compute

    panel = compute.compute_under_grant(sandbox)
    panel.kind.value = "dp_release"
    assert "epsilon" in panel.spec.value  # each kind starts from a valid example
    panel.spec.value = "not json"
    panel.request_code.value = "REQ-2025-000001"
    panel.run()
    assert panel.feedback.kind == "error" and "computation" in panel.feedback.text
    panel.kind.value = "aggregate_query"
    panel.request_code.value = "REQ-1999-999999"
    panel.run()
    assert panel.feedback.kind == "error" and "REQ-1999-999999" in panel.feedback.text
    i18n.set_language("zh")
    try:
        assert panel.kind.options[0][0] == i18n.t("enum.aggregate_query")
    finally:
        i18n.set_language("en")
    panel.close()
