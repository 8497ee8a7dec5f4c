"""Renderers of a `DisclosureReport`: HTML (one self-contained file), Markdown, CSV (zip or directory), JSON.

Pure functions of the report (no database, no widgets), so the CLI and the disclosure panel produce the same
bytes. The HTML page has inline CSS and inline SVG charts drawn by matplotlib's object-oriented API on the SVG
backend (no pyplot global state, safe inside a widget callback); it references nothing outside itself.

CSV layout: one file per table named `<table>.csv` (registrations, authorizations, products, requests,
revenue, and use_statements when published) plus `about.csv` (year, policy, generation time, notes);
`to_csv_bytes` zips them, `write_csv_dir` writes them into a directory.

HTML and Markdown are for people: they are written in `lang` (default: the language in force, see
`marketplace.i18n`), headings, column names, notes, charts and vocabulary values alike; codes, names and
figures stay as the data has them. CSV and JSON are for machines and keep the data's own English ids.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import warnings
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from marketplace.disclosure.report import DisclosureReport, table_title
from marketplace.i18n import get_language, has, label, normalize, t

__all__ = [
    "MIME_TYPES",
    "chart_figures",
    "chart_svgs",
    "csv_files",
    "people_frame",
    "render_html",
    "render_markdown",
    "report_files",
    "to_csv_bytes",
    "to_json",
    "write_csv_dir",
]

HTML_LANG = {"en": "en", "zh": "zh-Hans"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1f2933;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #d9e2ec}
.meta{color:#52606d}.notes{background:#fffbea;border-left:4px solid #f0b429;padding:.5rem 1rem}
.summary{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.summary div{background:#f0f4f8;border-radius:6px;padding:.5rem 1rem;min-width:9rem}
.summary b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
th,td{border:1px solid #d9e2ec;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8;position:sticky;top:0}tr:nth-child(even) td{background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:1rem}
.charts figure{margin:0;flex:1 1 480px}.empty{color:#7b8794;font-style:italic}
"""


# ---------------------------------------------------------------- helpers


def _cell(value: Any) -> Any:
    """JSON/Markdown-friendly value: dates as ISO strings, NaN as None, numpy scalars as Python."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return _cell(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _cell(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _about(report: DisclosureReport) -> dict[str, Any]:
    return {
        "year": report.year,
        "policy": report.policy_name,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "notes": list(report.notes),
    }


def _lang(lang: str | None) -> str:
    return normalize(lang) if lang else get_language()


def _display(value: Any, column: str = "", lang: str = "en") -> str:
    """A cell for people; in a language other than English, vocabulary values are worded in it."""
    value = _cell(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("report.yes", lang) if value else t("report.no", lang)
    if column in ("timeliness", "role") and isinstance(value, str) and has(f"report.{column}.{value}"):
        return t(f"report.{column}.{value}", lang)  # words in every language, English too
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, str) and lang != "en":
        if column == "basis":
            key = f"report.basis.{value.replace(' ', '_')}"
            return t(key, lang) if has(key) else value
        if column == "requester_kind" and value == "all":
            return t("report.requester_kind.all", lang)
        if has(f"enum.{value}"):
            return label(value, lang)
    return str(value)


def _column(name: str, lang: str) -> str:
    """A column heading for people: the data's id in words."""
    key = f"report.column.{name}"
    return t(key, lang) if has(key) else name.replace("_", " ")


def people_frame(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A report table as people read it (headings and cells as the HTML page words them), for panels."""
    code = _lang(lang)
    out = pd.DataFrame(
        [[_display(v, str(c), code) for c, v in zip(frame.columns, row, strict=True)]
         for row in frame.itertuples(index=False)],
        columns=[_column(str(c), code) for c in frame.columns],
    )
    return out


# ---------------------------------------------------------------- charts


def _svg(fig: Any, prefix: str) -> str:
    """Inline SVG markup of a matplotlib figure, without XML prolog, DOCTYPE or metadata (external refs)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buf = io.StringIO()
    with warnings.catch_warnings():
        # Text is kept as SVG text (the browser picks a CJK font); matplotlib only measures it.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        FigureCanvasSVG(fig).print_svg(
            buf, metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
        )
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    # Several charts share one page: make every id (and every reference to one) unique to this chart.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    return text.strip()


def chart_figures(report: DisclosureReport, lang: str | None = None) -> dict[str, Any]:
    """The report's charts as matplotlib figures: requests per channel, and each operator's revenue against
    its MAR. A chart without data says so in words instead of drawing empty axes."""
    from marketplace.charts import figure, no_data, plain_numbers

    code = _lang(lang)
    charts: dict[str, Any] = {}
    title = t("report.chart.requests", code, year=report.year)
    fig = figure(figsize=(6, 3.2))
    req = report.requests
    totals = req[req["requester_kind"] == "all"].set_index("channel") if not req.empty else req
    counts = totals[["filed", "approved", "rejected"]].astype(float) if not totals.empty else totals
    if counts.empty or not counts.to_numpy().any():
        charts["requests"] = no_data(fig, title, code)
    else:
        counts.index = [_display(c, "channel", code) for c in counts.index]
        counts.columns = [_column(c, code) for c in counts.columns]
        ax = fig.add_subplot()
        counts.plot.bar(ax=ax, rot=0, color=["#486581", "#3ebd93", "#e12d39"])
        for container in ax.containers:
            ax.bar_label(container, fmt="{:,.0f}", fontsize=7, padding=1)
        plain_numbers(ax.yaxis)
        ax.set_title(title)
        ax.set_xlabel(t("report.chart.channel_axis", code))
        ax.set_ylabel(t("report.chart.requests_axis", code))
        ax.grid(axis="y", alpha=0.3)
        charts["requests"] = fig
    title = t("report.chart.revenue", code, year=report.year)
    fig = figure(figsize=(6, 0.45 * max(len(report.revenue), 2) + 1.8))
    rev = report.revenue
    frame = rev.set_index("operator")[["revenue", "mar"]].astype(float) if not rev.empty else rev
    if frame.empty or not frame.to_numpy().any():
        charts["revenue"] = no_data(fig, title, code)
    else:
        frame.columns = [_column(c, code) for c in frame.columns]
        ax = fig.add_subplot()
        frame.plot.barh(ax=ax, color=["#486581", "#bcccdc"])
        for container in ax.containers:  # a revenue of 0 is a number to read, not a missing bar
            ax.bar_label(container, fmt="{:,.0f}", fontsize=7, padding=2)
        plain_numbers(ax.xaxis, nbins=3)
        ax.margins(x=0.25)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
        ax.set_title(title)
        ax.set_ylabel(t("report.chart.operator_axis", code))
        ax.set_xlabel(t("report.chart.revenue_axis", code, currency=_currency(report)))
        ax.grid(axis="x", alpha=0.3)
        charts["revenue"] = fig
    return charts


def _currency(report: DisclosureReport) -> str:
    products = report.products
    if "currency" in products.columns and not products.empty:
        return str(products["currency"].iloc[0])
    return "CNY"


def chart_svgs(report: DisclosureReport, lang: str | None = None) -> dict[str, str]:
    """The charts as inline SVG markup. Text stays text (fonttype none: smaller, no glyph ids; the browser
    picks a CJK font) and each chart gets its own id salt so that two SVGs inlined in one page never share
    a clip-path id."""
    import matplotlib

    out: dict[str, str] = {}
    for name, fig in chart_figures(report, lang).items():
        with matplotlib.rc_context(
            {"svg.hashsalt": f"disclosure-{report.year}-{name}", "svg.fonttype": "none"}
        ):
            out[name] = _svg(fig, f"chart-{name}")
    return out


# ---------------------------------------------------------------- HTML


def _html_table(frame: pd.DataFrame, lang: str) -> str:
    if frame.empty:
        return f'<p class="empty">{html.escape(t("report.empty", lang))}</p>'
    head = "".join(f"<th>{html.escape(_column(str(c), lang))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            numeric = isinstance(_cell(value), int | float) and not isinstance(_cell(value), bool)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(_display(value, str(column), lang))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _meta(report: DisclosureReport, lang: str) -> str:
    return t(
        "report.meta",
        lang,
        policy=report.policy_name or t("common.none", lang),
        date=report.generated_at.date().isoformat(),
    )


def render_html(report: DisclosureReport, *, charts: bool = True, lang: str | None = None) -> str:
    """One self-contained HTML page: inline CSS and SVG charts, readable tables; no external references."""
    code = _lang(lang)
    summary = report.summary()
    cards = "".join(
        f"<div><b>{v}</b>{html.escape(t(f'report.summary.{k}', code))}</div>" for k, v in summary.items()
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{HTML_LANG[code]}"><head><meta charset="utf-8">',
        f"<title>{html.escape(t('report.page_title', code, year=report.year))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(t('report.title', code, year=report.year))}</h1>",
        f'<p class="meta">{html.escape(_meta(report, code))}</p>',
        f'<div class="summary">{cards}</div>',
    ]
    if report.note_keys:
        parts.append(
            '<div class="notes"><ul>'
            + "".join(f"<li>{html.escape(t(key, code))}</li>" for key in report.note_keys)
            + "</ul></div>"
        )
    if charts:
        svgs = chart_svgs(report, code)
        if svgs:
            parts.append(
                f'<h2>{html.escape(t("report.charts", code))}</h2><div class="charts">'
                + "".join(f"<figure>{svg}</figure>" for svg in svgs.values())
                + "</div>"
            )
    for name, frame in report.tables().items():
        parts.append(f'<h2 id="{name}">{html.escape(table_title(name, code))}</h2>')
        parts.append(_html_table(frame, code))
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------- Markdown


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame, lang: str) -> str:
    if frame.empty:
        return f"_{t('report.empty', lang)}_"
    # English keeps the data's column ids (a pipe table is often read by tools); other languages word them
    names = [str(c) if lang == "en" else _column(str(c), lang) for c in frame.columns]
    header = "| " + " | ".join(_md_escape(n) for n in names) + " |"
    rule = (
        "|"
        + "|".join(
            "---:" if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].dtype != bool else "---"
            for c in frame.columns
        )
        + "|"
    )
    columns = [str(c) for c in frame.columns]
    rows = [
        "| " + " | ".join(_md_escape(_display(v, c, lang)) for c, v in zip(columns, row, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def render_markdown(report: DisclosureReport, *, lang: str | None = None) -> str:
    """Markdown: a heading per table and a pipe table each (GitHub / Jupyter flavour)."""
    code = _lang(lang)
    lines = [f"# {t('report.title', code, year=report.year)}", "", _meta(report, code), ""]
    lines += [f"- {t(f'report.summary.{k}', code)}: {v}" for k, v in report.summary().items()]
    if report.note_keys:
        lines += ["", *[f"> {t(key, code)}" for key in report.note_keys]]
    for name, frame in report.tables().items():
        lines += ["", f"## {table_title(name, code)}", "", _md_table(frame, code)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- CSV and JSON


def csv_files(report: DisclosureReport) -> dict[str, bytes]:
    """File name -> CSV bytes, one file per table plus `about.csv`: UTF-8 with a byte order mark, so
    spreadsheet programs read the Chinese in them (pandas and the csv module read it as "utf-8-sig")."""
    files = {
        f"{name}.csv": frame.to_csv(index=False).encode("utf-8-sig")
        for name, frame in report.tables().items()
    }
    about = _about(report)
    about_rows = [
        ("year", about["year"]),
        ("policy", about["policy"]),
        ("generated_at", about["generated_at"]),
    ]
    about_rows += [("note", n) for n in about["notes"]]
    files["about.csv"] = (
        pd.DataFrame(about_rows, columns=["key", "value"]).to_csv(index=False).encode("utf-8-sig")
    )
    return files


def to_csv_bytes(report: DisclosureReport) -> bytes:
    """A zip archive of `csv_files(report)` (fixed timestamps, so the same report gives the same bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in csv_files(report).items():
            info = zipfile.ZipInfo(f"disclosure-{report.year}/{name}", date_time=(report.year, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def write_csv_dir(report: DisclosureReport, directory: str | Path) -> list[Path]:
    """Write one CSV per table into `directory` (created if needed); returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in csv_files(report).items():
        path = directory / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def to_json(report: DisclosureReport, *, indent: int | None = 2) -> str:
    """One JSON document: {"year", "policy", "generated_at", "notes", "summary", "tables": {name: [rows]}}."""
    doc = _about(report)
    doc["summary"] = report.summary()
    doc["tables"] = {name: _records(frame) for name, frame in report.tables().items()}
    return json.dumps(doc, ensure_ascii=False, indent=indent, default=str)


MIME_TYPES = {
    ".html": "text/html",
    ".md": "text/markdown",
    ".json": "application/json",
    ".zip": "application/zip",
}


def report_files(report: DisclosureReport, *, lang: str | None = None) -> dict[str, bytes]:
    """Every download of a report by file name (.html, .md, .json and a CSV .zip); see MIME_TYPES."""
    stem = f"disclosure-{report.year}"
    return {
        f"{stem}.html": render_html(report, lang=lang).encode("utf-8"),
        f"{stem}.md": render_markdown(report, lang=lang).encode("utf-8"),
        f"{stem}.json": to_json(report).encode("utf-8"),
        f"{stem}-csv.zip": to_csv_bytes(report),
    }
