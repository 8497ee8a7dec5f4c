"""Public disclosure: the yearly report, the DCAT-AP 3 register export, and catalogue import from portals.

Everything here is free of widgets: the CLI (`marketplace disclose`, `marketplace catalog import`) and the
disclosure panel call the same functions. Build data first (`build_report`), render separately.
"""

from marketplace.disclosure.dcat import build_graph, export_dcat, validate_dcat
from marketplace.disclosure.importer import (
    CatalogImportError,
    ImportedDataset,
    ImportResult,
    import_catalog,
    iter_catalog,
    mark_field,
    read_catalog,
)
from marketplace.disclosure.render import (
    chart_figures,
    chart_svgs,
    csv_files,
    render_html,
    render_markdown,
    report_files,
    to_csv_bytes,
    to_json,
    write_csv_dir,
)
from marketplace.disclosure.report import TABLES, DisclosureReport, build_report, default_year, table_title
from marketplace.disclosure.safeparse import DEFAULT_LIMITS, ImportLimits

__all__ = [
    "DEFAULT_LIMITS",
    "TABLES",
    "CatalogImportError",
    "DisclosureReport",
    "ImportLimits",
    "ImportResult",
    "ImportedDataset",
    "build_graph",
    "build_report",
    "chart_figures",
    "chart_svgs",
    "csv_files",
    "default_year",
    "export_dcat",
    "import_catalog",
    "iter_catalog",
    "mark_field",
    "read_catalog",
    "render_html",
    "render_markdown",
    "report_files",
    "table_title",
    "to_csv_bytes",
    "to_json",
    "validate_dcat",
    "write_csv_dir",
]
