"""The report's charts and its date: labelled charts, a chart without data says so, and the report is dated
by the sandbox clock (the date `marketplace clock show` gives), never the wall calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace.disclosure import build_report, chart_figures, render_html
from marketplace.models import SandboxSetting
from marketplace.workflows.clock import DEFAULT_START, today


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")) if t.get_text()]


def test_charts_are_titled_labelled_and_show_a_zero_revenue(world_sqlite: Engine) -> None:
    with Session(world_sqlite) as session:
        report = build_report(session, 2025)
    charts = chart_figures(report)
    assert set(charts) == {"requests", "revenue"}
    for name, fig in charts.items():
        ax = fig.axes[0]
        assert ax.get_title(), name
        if ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel(), name
    revenue = charts["revenue"].axes[0]
    if revenue.axison:
        assert revenue.get_xlabel() == "Amount (CNY)"
        # every bar carries its value, so a revenue of 0 is read as 0, not as a missing bar
        labels = [t.get_text() for t in revenue.texts]
        assert len(labels) == 2 * len(report.revenue)


def test_a_report_without_data_draws_no_empty_axes(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        report = build_report(session, 2025)
    for fig in chart_figures(report).values():
        assert not any(ax.axison for ax in fig.axes)
        assert "No data to draw yet." in _texts(fig)
    zh = chart_figures(report, "zh")
    assert all("暂无可绘制的数据。" in _texts(fig) for fig in zh.values())


def test_report_is_dated_by_the_sandbox_clock(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        assert session.get(SandboxSetting, "clock") is None  # a clock never set runs from its default start
        report = build_report(session, 2025)
        sandbox_day = today(session)
    assert sandbox_day == DEFAULT_START != datetime.now(UTC).date()
    assert report.generated_at.date() == sandbox_day
    page = render_html(report)
    assert f"generated {sandbox_day.isoformat()} (sandbox date)" in page
    assert datetime.now(UTC).date().isoformat() not in page
