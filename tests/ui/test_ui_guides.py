"""The step panels of the privacy, scenario and disclosure stories (notebooks 04-06), driven headlessly."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

from marketplace.models import Organization, Resource
from marketplace.sim import SMALL_FIRM_METRICS
from marketplace.ui import disclosure, i18n, privacy, scenarios
from marketplace.ui.context import Sandbox

CATALOGS = Path(__file__).resolve().parents[1] / "data" / "catalogs"


# ---------------------------------------------------------------- privacy story


def test_column_roles_tags_every_column_and_follows_the_resource(sandbox: Sandbox) -> None:
    panel = privacy.column_roles(sandbox)
    assert panel.feedback.kind == "", panel.feedback.text
    first = dict(panel.roles)
    assert set(first) == set(panel.frame.columns) and len(panel.frame) == privacy.SHOWN_ROWS
    assert {"identifier", "quasi_identifier"} <= {str(m) for m in first.values()}
    for column, marking in first.items():
        assert f"{column} · {i18n.label(marking)}" in panel.rows_table.value
    assert "dropped before any release" in panel.roles_table.value
    panel.resource.value = panel.resource.options[1][1]
    assert panel.roles != first and set(panel.roles) == set(panel.frame.columns)
    i18n.set_language("zh")
    assert "任何发布前都会删除" in panel.roles_table.value and "标识符" in panel.rows_table.value


def test_tradeoff_curve_risk_falls_and_loss_rises(sandbox: Sandbox) -> None:
    curve = privacy.tradeoff_curve(sandbox)
    curve.rows.value = 300
    curve.run_button.click()
    assert curve.feedback.kind == "ok", curve.feedback.text
    met = [p for p in curve.points if p["ncp"] is not None]
    assert [p["k"] for p in curve.points] == list(privacy.CURVE_KS) and len(met) >= 3
    assert all(p["risk"] <= 1 / p["k"] for p in met)
    assert [p["ncp"] for p in met] == sorted(p["ncp"] for p in met)
    assert [p["risk"] for p in met] == sorted((p["risk"] for p in met), reverse=True)
    assert f"{met[-1]['ncp']:.1%}" in curve.table.value and f"k={met[-1]['k']}" in curve.feedback.text
    assert curve.plot.children[0].value[:4] == b"\x89PNG"


def test_tradeoff_curve_that_no_k_can_meet_is_a_message(sandbox: Sandbox) -> None:
    curve = privacy.tradeoff_curve(sandbox)
    curve.rows.value, curve.l.value = 50, 10
    curve.run_button.click()
    assert curve.feedback.kind == "error" and "nothing released" in curve.feedback.text
    assert curve.points == [] and curve.plot.children == ()


def test_aggregate_lab_suppresses_small_cells_like_a_plain_group_by(sandbox: Sandbox) -> None:
    lab = privacy.aggregate_lab(sandbox)
    assert lab.by.value, "categorical quasi-identifiers are preselected"
    by = list(lab.by.value)
    lab.rows.value, lab.min_cell.value = 400, 10
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    frame, _ = privacy.source_rows(sandbox, lab.resource.value, 400, 1)
    sizes = frame.groupby(by).size()
    expected = sizes[sizes >= 10]
    got = lab.release.table.set_index(by)["count"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    report = lab.release.report
    assert report.cells_suppressed == int((sizes < 10).sum()) > 0 and report.epsilon_spent is None
    assert f"{report.cells_released} of {report.cells_total} cells released" in lab.feedback.text
    lab.epsilon.value = 0.5
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    assert lab.release.report.epsilon_spent == 0.5 and lab.release.report.noise_scale["count"] == 2.0
    assert "ε spent" in lab.metrics.value


def test_aggregate_lab_without_a_group_is_refused_naming_the_field(sandbox: Sandbox) -> None:
    lab = privacy.aggregate_lab(sandbox)
    lab.by.value = ()
    lab.run_button.click()
    assert lab.feedback.kind == "error" and "by" in lab.feedback.text
    assert lab.release is None


# ---------------------------------------------------------------- scenario story


def test_scenario_explainer_lists_what_differs() -> None:
    panel = scenarios.scenario_explainer("national-2025", "market-pricing")
    assert panel.feedback.kind == "info", panel.feedback.text
    keys = {k for k, _, _ in panel.differences}
    assert "pricing.caps_apply" in keys and panel.setting_differences == []
    # shown in words: the parameter path, and vocabulary values as labels
    assert "pricing › caps apply" in panel.policy_diff.value and "market-pricing" in panel.facts.value
    assert "pricing.caps_apply" not in panel.policy_diff.value
    panel.b.value = "national-2025"
    assert panel.differences == [] and panel.setting_differences == []
    assert "0 scenario settings and 0 policy parameters differ" in panel.feedback.text
    i18n.set_language("zh")
    assert "模拟期限" in panel.facts.value
    panel.b.value = "market-pricing"
    assert "定价 › 上限适用范围" in panel.policy_diff.value


def test_every_shipped_scenario_is_described_in_both_languages() -> None:
    from marketplace.sim import list_scenarios, load_scenario

    for name in list_scenarios():
        sc = load_scenario(name)
        english, chinese = (i18n.scenario_description(name, sc.description, lang) for lang in ("en", "zh"))
        assert english == sc.description and chinese != english, name
        assert re.search("[\u4e00-\u9fff]", chinese), name
    # a description someone changed is shown as written
    assert i18n.scenario_description("national-2025", "My own baseline", "zh") == "My own baseline"
    panel = scenarios.scenario_explainer("rows-only", "usable-not-visible")
    i18n.set_language("zh")
    panel.show()
    assert "所有交付均为脱敏数据行" in panel.facts.value and "Baseline" not in panel.facts.value


def test_scenario_explainer_needs_two_scenarios() -> None:
    panel = scenarios.scenario_explainer()
    panel.a.value = None
    assert panel.feedback.kind == "error" and "scenario" in panel.feedback.text


def test_cap_sweep_suggests_fractions_of_the_cap_in_force() -> None:
    sweep = scenarios.cap_sweep()
    assert sweep.cap_values() == ["2500.00", "5000.00", "10000.00", "20000.00"]
    sweep.unit.value = "per_call"
    assert sweep.cap_values() == ["0.06", "0.13", "0.25", "0.50"]


def test_cap_sweep_runs_every_cap_on_the_same_seeds() -> None:
    sweep = scenarios.cap_sweep(seeds=2, days=10)
    sweep.caps.value = "2500, 20000"
    sweep.run_button.click()
    assert sweep.feedback.kind == "ok", sweep.feedback.text
    key = "policy.overrides.pricing.caps.per_product"
    assert sweep.results.groupby(key)["seed"].apply(sorted).to_dict() == {"2500": [1, 2], "20000": [1, 2]}
    metrics = list(SMALL_FIRM_METRICS)
    means = sweep.results.groupby(key)[metrics].mean()
    pd.testing.assert_frame_equal(sweep.summary[metrics], means.loc[["2500", "20000"]].rename_axis("cap"))
    lows = sweep.summary[[f"{m}.low" for m in metrics]].to_numpy()
    assert (lows <= means.loc[["2500", "20000"]].to_numpy()).all()
    assert set(sweep.downloads.files) == {
        "sweep-summary.csv", "sweep-summary.parquet", "sweep-runs.csv", "sweep-runs.parquet",
        "sweep-small-firms.png", "sweep-small-firms.svg",
    }
    runs = pd.read_parquet(io.BytesIO(sweep.downloads.files["sweep-runs.parquet"]))
    assert len(runs) == 4 and "price_paid_mean.enterprise_small" in runs.columns
    assert sweep.progress.value == sweep.progress.max == 4 and sweep.progress.bar_style == "success"
    assert "Mean price paid · small" in sweep.table.value
    assert sweep.plot.children[0].value[:4] == b"\x89PNG"
    i18n.set_language("zh")
    assert "平均支付价格 · 小型" in sweep.table.value


@pytest.mark.parametrize(
    ("caps", "expected"),
    [(" , ", "caps: got ' , '"), ("1000", "expected >= the reference cost"), ("ten", "caps.per_product")],
)
def test_cap_sweep_bad_caps_are_a_message_and_change_nothing(caps: str, expected: str) -> None:
    sweep = scenarios.cap_sweep(seeds=1, days=5)
    sweep.caps.value = caps
    sweep.run_button.click()
    assert sweep.feedback.kind == "error" and expected in sweep.feedback.text, sweep.feedback.text
    assert sweep.results is None and sweep.summary is None


# ---------------------------------------------------------------- disclosure story


def test_dcat_view_counts_describes_and_offers_the_file(sandbox: Sandbox) -> None:
    view = disclosure.dcat_view(sandbox)
    view.build_button.click()
    assert view.feedback.kind == "ok", view.feedback.text
    from rdflib.namespace import DCAT, DCTERMS, RDF

    datasets = sorted(str(d) for d in view.graph.subjects(RDF.type, DCAT.Dataset))
    assert [v for _, v in view.dataset.options] == datasets
    assert f"{len(view.graph)} statements describing {len(datasets)} datasets" in view.feedback.text
    assert "dcat:Dataset" in view.counts.value and "dcat:Catalog" in view.counts.value
    last = datasets[-1]
    view.dataset.value = last
    title = str(next(view.graph.objects(__import__("rdflib").URIRef(last), DCTERMS.title)))
    assert "dct:title" in view.triples.value and title in view.triples.value
    assert view.source.value.startswith("@prefix") and "more lines in the download" in view.source.value
    assert 'download="register.ttl"' in view.download.value
    view.format.value = "json-ld"
    view.build_button.click()
    assert view.text.lstrip().startswith(("{", "[")) and 'download="register.jsonld"' in view.download.value


def test_catalog_import_previews_then_imports_once(sandbox: Sandbox) -> None:
    panel = disclosure.catalog_import(sandbox)
    assert [name for name, _ in panel.file.options] == ["province-portal-ckan.json", "region-portal-dcat.ttl"]
    with sandbox.session() as s:
        before = len(s.exec(select(Resource.id)).all())
    panel.preview_button.click()
    assert panel.feedback.kind == "info" and "3 datasets read (ckan)" in panel.feedback.text
    assert (
        "Hospital outpatient visits" in panel.preview.value
        and "patient_id (identifier)" in panel.preview.value
    )
    with sandbox.session() as s:
        assert len(s.exec(select(Resource.id)).all()) == before, "reading imports nothing"
    revision = sandbox.revision
    panel.import_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    created = panel.result.created
    assert len(created) == 3 and all(code in panel.feedback.text for code in created)
    assert sandbox.revision == revision + 1
    with sandbox.session() as s:
        rows = s.exec(select(Resource).where(Resource.code.in_(created))).all()
        assert sorted(r.code for r in rows) == sorted(created)
        assert "Provincial Health Commission" in s.exec(select(Organization.name)).all()
    panel.import_button.click()
    assert panel.result.created == [] and sorted(panel.result.unchanged) == sorted(created)


def test_catalog_import_reads_an_uploaded_file(sandbox: Sandbox) -> None:
    panel = disclosure.catalog_import(sandbox)
    content = (CATALOGS / "dcat_portal.jsonld").read_bytes()
    panel.upload.value = (
        {
            "name": "portal.jsonld",
            "type": "",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime(2025, 1, 1, tzinfo=UTC),
        },
    )
    panel.preview_button.click()
    assert panel.feedback.kind == "info" and "(json-ld)" in panel.feedback.text, panel.feedback.text


def test_catalog_import_malformed_upload_is_a_message_and_imports_nothing(sandbox: Sandbox) -> None:
    panel = disclosure.catalog_import(sandbox)
    content = b'{"result": {"results": [{"title": 3'
    panel.upload.value = (
        {
            "name": "broken.json",
            "type": "",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime(2025, 1, 1, tzinfo=UTC),
        },
    )
    with sandbox.session() as s:
        before = len(s.exec(select(Resource.id)).all())
    panel.import_button.click()
    assert panel.feedback.kind == "error" and "nothing imported" in panel.feedback.text, panel.feedback.text
    assert panel.result is None
    with sandbox.session() as s:
        assert len(s.exec(select(Resource.id)).all()) == before


def test_catalog_import_upload_over_the_size_limit_is_refused_before_it_is_written(
    sandbox: Sandbox, monkeypatch
) -> None:
    """Issue #19: an upload is capped by the limit of `catalog import` (max_file_bytes) before parsing."""
    import dataclasses

    from marketplace.disclosure import safeparse

    monkeypatch.setattr(safeparse, "DEFAULT_LIMITS", dataclasses.replace(safeparse.DEFAULT_LIMITS,
                                                                         max_file_bytes=1000))
    panel = disclosure.catalog_import(sandbox)
    content = b'{"result": {"results": []}}' + b" " * 2000
    panel.upload.value = (
        {"name": "big.json", "type": "", "size": len(content), "content": memoryview(content),
         "last_modified": datetime(2025, 1, 1, tzinfo=UTC)},
    )
    written = []
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: written.append(self))
    panel.preview_button.click()
    assert panel.feedback.kind == "error" and "max_file_bytes" in panel.feedback.text, panel.feedback.text
    assert not written
