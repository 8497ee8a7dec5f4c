"""Disclosure panel: the public report for a chosen year, its tables, and downloads in every published format.

The report and its renderings come from `marketplace.disclosure`; downloads are data-URI anchors, which work
the same in JupyterLab, Voila and Binder without writing files. The other steps of the disclosure story
(notebooks/06): `dcat_view` (the register as DCAT-AP statements and text) and `catalog_import` (a CKAN/DCAT
file read, previewed and imported with `marketplace.disclosure.import_catalog`).
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as w

from marketplace.errors import InvalidInput
from marketplace.ui import i18n
from marketplace.ui.common import (
    Downloads,
    Feedback,
    Panel,
    button,
    data_uri_anchor,
    figure_image,
    guard,
    heading,
    set_options,
    table_html,
    text,
)
from marketplace.ui.context import Sandbox, resolve

FORMATS = ("html", "md", "csv", "json", "dcat")
_MIME = {
    "html": "text/html",
    "md": "text/markdown",
    "csv": "application/zip",  # one CSV per table, zipped
    "json": "application/json",
    "dcat": "text/turtle",
}
_SUFFIX = {"html": "html", "md": "md", "csv": "csv.zip", "json": "json", "dcat": "ttl"}


class DisclosurePanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None, year: int | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.year = i18n.bind(
            w.IntText(value=year or self._default_year(), layout=w.Layout(width="200px")),
            "description",
            "common.year",
        )
        self.build_button = button("disclosure.build", "primary", "file-text")
        self.summary = w.HTML()
        self.summary.add_class("mp-disclosure-summary")
        self.publications = w.HTML()
        self.publications.add_class("mp-disclosure-publications")
        self.publication_rows: Any = None
        self.tabs = w.Tab()
        self.downloads = w.HTML()
        self.downloads.add_class("mp-downloads")
        self.charts = w.Box(layout=w.Layout(flex_flow="row wrap"))
        self.exports = Downloads()
        self.report: Any = None
        self.files: dict[str, bytes] = {}
        self.build_button.on_click(self.guarded(lambda _b: self.build()))
        self.on_language(lambda _lang: self._show() if self.report is not None else self._show_publications())
        self.year.observe(self.guarded(lambda _c: self._load_publications()), names="value")
        super().__init__(
            [
                heading("disclosure.title"),
                text("disclosure.intro"),
                w.HBox([self.year, self.build_button]),
                self.feedback,
                self.publications,
                self.summary,
                self.downloads,
                self.charts,
                self.exports,
                self.tabs,
            ]
        )
        self.add_class("mp-disclosure")
        self._load_publications()

    def _load_publications(self) -> None:
        """What each implementing institution and operator published for the year shown, before any build."""
        from marketplace.disclosure.report import party_publications

        year = int(self.year.value)
        if not 2000 <= year <= 2100:
            self.publication_rows = None
            self.publications.value = ""
            return
        with self.sandbox.session() as session:
            self.publication_rows = party_publications(session, year)
        self._show_publications()

    def _show_publications(self) -> None:
        """The parties' publications and their timeliness, in words in the language in force."""
        from marketplace.disclosure.render import people_frame

        rows = self.publication_rows
        if rows is None:
            return
        shown = people_frame(rows.drop(columns=["party_code"]), i18n.get_language())
        title = html.escape(i18n.t("disclosure.publications", year=int(self.year.value)))
        self.publications.value = f"<b>{title}</b>" + table_html(shown, max_rows=200)

    def _default_year(self) -> int:
        from marketplace.disclosure.report import default_year

        with self.sandbox.session() as session:
            return default_year(session)

    def build(self) -> None:
        guard(self.feedback)(self._build)()

    def _build(self) -> None:
        from marketplace.disclosure.dcat import export_dcat
        from marketplace.disclosure.render import to_csv_bytes, to_json
        from marketplace.disclosure.report import build_report

        self.feedback.clear()
        with self.sandbox.session() as session:
            report = build_report(session, int(self.year.value))
            dcat = export_dcat(session, "turtle")
        self.report = report
        self.publication_rows = report.publications
        self.files = {  # html and md are written in the reader's language by `_show`
            "csv": to_csv_bytes(report),
            "json": to_json(report).encode("utf-8"),
            "dcat": dcat.encode("utf-8"),
        }
        self._show()
        self.feedback.ok(i18n.t("disclosure.built", year=report.year, policy=report.policy_name or "—"))

    def _show(self) -> None:
        from marketplace.disclosure.render import render_html, render_markdown

        report = self.report
        self._show_publications()
        self.files["html"] = render_html(report).encode("utf-8")
        self.files["md"] = render_markdown(report).encode("utf-8")
        rows = [
            (i18n.t_or(f"disclosure.summary.{key}", key.replace("_", " ")), value)
            for key, value in report.summary().items()
        ]
        import pandas as pd

        self.summary.value = table_html(
            pd.DataFrame(rows, columns=[i18n.t("common.metric"), i18n.t("common.value")])
        )
        links = " ".join(
            data_uri_anchor(
                f"disclosure-{report.year}.{_SUFFIX[fmt]}",
                _MIME[fmt],
                self.files[fmt],
                i18n.t(f"disclosure.download.{fmt}"),
            )
            for fmt in FORMATS
        )
        self.downloads.value = f"<b>{html.escape(i18n.t('disclosure.downloads'))}</b> {links}"
        self._exports()
        tables = report.tables()
        self.tabs.children = [w.HTML(table_html(frame, max_rows=200)) for frame in tables.values()]
        for i, name in enumerate(tables):
            self.tabs.set_title(i, i18n.t_or(f"disclosure.table.{name}", name.replace("_", " ")))


    def _exports(self) -> None:
        """The report's charts on screen, and every table (CSV, Parquet) and chart (PNG, SVG) to download."""
        from marketplace.disclosure.render import chart_figures

        report = self.report
        figures = chart_figures(report)
        self.exports.clear()
        for name, frame in report.tables().items():
            self.exports.add_table(frame, f"disclosure-{report.year}-{name}", f"disclosure.table.{name}")
        for name, fig in figures.items():
            stem = f"disclosure-{report.year}-chart-{name}"
            self.exports.add_figure(fig, stem, f"download.what.chart_{name}")
        self.charts.children = [figure_image(fig) for fig in figures.values()]


def disclosure_panel(sandbox: Sandbox | None = None, year: int | None = None) -> DisclosurePanel:
    return DisclosurePanel(sandbox, year)


# ---------------------------------------------------------------- the DCAT-AP register

RDF_FORMATS = {
    "turtle": ("text/turtle", "ttl"),
    "json-ld": ("application/ld+json", "jsonld"),
    "xml": ("application/rdf+xml", "rdf"),
}
RDF_FORMAT_NAMES = {"turtle": "Turtle", "json-ld": "JSON-LD", "xml": "RDF/XML"}  # the formats' own names
SHOWN_LINES = 80


class DcatView(Panel):
    """The public register as DCAT-AP (from `marketplace.disclosure`): what kinds of things it describes, the
    statements about one dataset, the serialized text, and a download."""

    def __init__(self, sandbox: Sandbox | None = None, fmt: str = "turtle") -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.format = i18n.bind(
            w.Dropdown(options=[(RDF_FORMAT_NAMES[f], f) for f in RDF_FORMATS], value=fmt),
            "description",
            "guide.dcat.format",
        )
        self.build_button = button("guide.dcat.build", "primary", "sitemap")
        self.counts = w.HTML()
        self.counts.add_class("mp-dcat-counts")
        self.dataset = i18n.bind(
            w.Dropdown(layout=w.Layout(width="620px")), "description", "guide.dcat.dataset"
        )
        self.triples = w.HTML()
        self.triples.add_class("mp-dcat-triples")
        self.source = w.Textarea(layout=w.Layout(width="100%", height="320px"), disabled=True)
        self.source.add_class("mp-dcat-text")
        self.download = w.HTML()
        self.download.add_class("mp-downloads")
        self.graph: Any = None
        self.text = ""
        self.build_button.on_click(self.guarded(lambda _b: self.build()))
        self.dataset.observe(self.guarded(lambda _c: self._show_dataset()), names="value")
        self.on_language(lambda _lang: self._show() if self.graph is not None else None)
        super().__init__(
            [
                heading("guide.dcat.title"),
                text("guide.dcat.intro"),
                w.HBox([self.format, self.build_button]),
                self.feedback,
                self.counts,
                self.dataset,
                self.triples,
                self.download,
                heading("guide.dcat.text", 4),
                self.source,
            ]
        )
        self.add_class("mp-dcat-view")

    def build(self) -> None:
        guard(self.feedback)(self._build)()

    def _build(self) -> None:
        from rdflib import RDF
        from rdflib.namespace import DCAT

        from marketplace.disclosure import build_graph, export_dcat

        with self.sandbox.session() as session:
            self.graph = build_graph(session)
            self.text = export_dcat(session, self.format.value)
        datasets = sorted(self.graph.subjects(RDF.type, DCAT.Dataset), key=str)
        titles = {str(d): self._title(d) for d in datasets}
        self.dataset.options = [(f"{titles[str(d)]} · {d}", str(d)) for d in datasets]
        self.dataset.value = str(datasets[0]) if datasets else None
        self._show()
        self.feedback.ok(i18n.t("guide.dcat.built", triples=len(self.graph), datasets=len(datasets)))

    def _title(self, node: Any) -> str:
        from rdflib.namespace import DCTERMS

        values = {getattr(v, "language", None): str(v) for v in self.graph.objects(node, DCTERMS.title)}
        return values.get(i18n.get_language()) or values.get("en") or next(iter(values.values()), str(node))

    def _show(self) -> None:
        import pandas as pd
        from rdflib import RDF

        nm = self.graph.namespace_manager
        kinds = pd.Series([o.n3(nm) for o in self.graph.objects(None, RDF.type)]).value_counts()
        self.counts.value = table_html(
            pd.DataFrame(
                {i18n.t("guide.dcat.class"): kinds.index, i18n.t("guide.dcat.count"): kinds.to_numpy()}
            )
        )
        lines = self.text.splitlines()
        shown = "\n".join(lines[:SHOWN_LINES])
        more = len(lines) - SHOWN_LINES
        self.source.value = shown + (
            f"\n\n… {i18n.t('guide.dcat.more_lines', lines=more)}" if more > 0 else ""
        )
        mime, suffix = RDF_FORMATS[self.format.value]
        self.download.value = data_uri_anchor(
            f"register.{suffix}",
            mime,
            self.text.encode("utf-8"),
            i18n.t("guide.dcat.download", fmt=self.format.value),
        )
        self._show_dataset()

    def _show_dataset(self) -> None:
        import pandas as pd
        from rdflib import URIRef

        if self.graph is None or not self.dataset.value:
            self.triples.value = ""
            return
        nm = self.graph.namespace_manager
        rows = sorted(
            (
                p.n3(nm),
                o.n3(nm)
                if not hasattr(o, "language")
                else str(o) + (f" @{o.language}" if o.language else ""),
            )
            for p, o in self.graph.predicate_objects(URIRef(self.dataset.value))
        )
        self.triples.value = table_html(
            pd.DataFrame(rows, columns=[i18n.t("guide.dcat.predicate"), i18n.t("guide.dcat.object")]),
            max_rows=60,
        )


def dcat_view(sandbox: Sandbox | None = None, fmt: str = "turtle") -> DcatView:
    return DcatView(sandbox, fmt)


# ---------------------------------------------------------------- importing a portal's catalogue


def sample_catalogs() -> list[tuple[str, str]]:
    """(file name, path) of the small portal catalogues shipped in seed/catalogs."""
    from marketplace.synth.spec import seed_dir

    folder = seed_dir() / "catalogs"
    return [
        (p.name, str(p)) for p in sorted(folder.glob("*")) if p.suffix in {".json", ".ttl", ".jsonld", ".rdf"}
    ]


class CatalogImport(Panel):
    """Read a CKAN or DCAT catalogue file, preview how each dataset maps to a resource, then import it
    (`marketplace.disclosure.read_catalog` / `import_catalog`, as `marketplace catalog import` does)."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.file = i18n.bind(w.Dropdown(layout=w.Layout(width="520px")), "description", "guide.import.file")
        set_options(self.file, sample_catalogs())
        self.upload = w.FileUpload(accept=".json,.jsonld,.ttl,.rdf,.xml", multiple=False)
        i18n.bind(self.upload, "description", "guide.import.upload")
        self.preview_button = button("guide.import.preview", "", "search")
        self.import_button = button("guide.import.run", "primary", "download")
        self.preview = w.HTML()
        self.preview.add_class("mp-import-preview")
        self.datasets: list[Any] = []
        self.result: Any = None
        self.preview_button.on_click(self.guarded(lambda _b: self.read()))
        self.import_button.on_click(self.guarded(lambda _b: self.run()))
        super().__init__(
            [
                heading("guide.import.title"),
                text("guide.import.intro"),
                w.HBox([self.file, self.upload]),
                w.HBox([self.preview_button, self.import_button]),
                self.feedback,
                self.preview,
            ]
        )
        self.add_class("mp-catalog-import")

    @contextmanager
    def _file(self) -> Iterator[Path]:
        """The uploaded file when there is one (in a temporary folder removed afterwards, under its own name
        so that the format is detected from the suffix), else the chosen sample."""
        if self.upload.value:
            from marketplace.disclosure.safeparse import DEFAULT_LIMITS, LimitExceeded, check_size

            item = self.upload.value[0]
            given = Path(str(item["name"])[-300:]).name
            name = Path(given).stem[:60] + Path(given).suffix[:10]  # short enough for any file system
            try:  # the limit of `catalog import`, before the upload is written or parsed
                check_size(len(item["content"]), DEFAULT_LIMITS)
            except LimitExceeded as exc:
                raise InvalidInput("file", name, str(exc)) from None
            with tempfile.TemporaryDirectory(prefix="mp-catalog-") as folder:
                path = Path(folder) / (name or "upload")
                path.write_bytes(bytes(item["content"]))
                yield path
            return
        if not self.file.value:
            raise InvalidInput("file", None, "a catalogue file from seed/catalogs or an uploaded file")
        yield Path(self.file.value)

    def read(self) -> None:
        guard(self.feedback)(self._read)()

    def _read(self) -> None:
        import pandas as pd

        from marketplace.disclosure import read_catalog

        with self._file() as path:
            used, self.datasets = read_catalog(path)
        rows = [
            (
                ds.title,
                ds.publisher,
                ds.domain,
                i18n.label(ds.grade),
                i18n.label(ds.sharing),
                i18n.label(ds.opening),
                ", ".join(f"{f.name} ({i18n.label(f.marking)})" for f in ds.fields),
            )
            for ds in self.datasets
        ]
        columns = [
            i18n.t("common.title"),
            i18n.t("common.holder"),
            i18n.t("common.domain"),
            i18n.t("common.grade"),
            i18n.t("guide.import.sharing"),
            i18n.t("guide.import.opening"),
            i18n.t("guide.import.fields"),
        ]
        self.preview.value = table_html(pd.DataFrame(rows, columns=columns))
        self.feedback.info(i18n.t("guide.import.read", datasets=len(self.datasets), fmt=used))

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.disclosure import import_catalog

        with self._file() as path, self.sandbox.session() as session:
            self.result = import_catalog(session, path)
        self.sandbox.changed()
        r = self.result
        self.feedback.ok(
            i18n.t(
                "guide.import.done",
                created=len(r.created),
                updated=len(r.updated),
                unchanged=len(r.unchanged),
                orgs=len(r.organizations_created),
                codes=", ".join(r.created + r.updated) or "—",
            )
        )


def catalog_import(sandbox: Sandbox | None = None) -> CatalogImport:
    return CatalogImport(sandbox)
