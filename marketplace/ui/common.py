"""Small building blocks shared by the panels: a feedback line, error guarding, tables and figures.

`guard` is the one place where a panel turns a `MarketplaceError` (a refused, invalid or conflicting action)
into a message the user reads in the panel; any other exception is re-raised so that it is never swallowed
silently.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as w

from marketplace.errors import MarketplaceError
from marketplace.ui.i18n import bind, error_text, on_language_change, t

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

_STYLES = {
    "error": "color:#b00020;font-weight:600",
    "ok": "color:#1b5e20;font-weight:600",
    "info": "color:#333",
}


class Feedback(w.HTML):
    """One line under a panel: what just happened, or why it was refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("mp-feedback")
        self.kind = ""
        self.text = ""

    def show(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text
        self.value = f'<div class="mp-{kind}" style="{_STYLES[kind]}">{html.escape(text)}</div>'

    def ok(self, text: str) -> None:
        self.show("ok", text)

    def info(self, text: str) -> None:
        self.show("info", text)

    def error(self, exc: BaseException | str) -> None:
        self.show("error", t("common.error", message=exc if isinstance(exc, str) else error_text(exc)))

    def clear(self) -> None:
        self.kind, self.text, self.value = "", "", ""


def guard(feedback: Feedback) -> Callable[[F], F]:
    """Decorator for callbacks: domain errors are shown in `feedback`; others propagate (and are logged)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except MarketplaceError as exc:
                feedback.error(exc)
                return None

        return wrapper  # type: ignore[return-value]

    return decorate


def heading(key: str, level: int = 3, **kwargs: Any) -> w.HTML:
    """A translated heading that follows language switches."""
    return bind(w.HTML(), "value", key, template=f"<h{level}>{{}}</h{level}>", **kwargs)


def text(key: str, **kwargs: Any) -> w.HTML:
    """A translated paragraph bound to the language (the message may contain simple markup)."""
    return bind(w.HTML(), "value", key, template="<div class='mp-text'>{}</div>", **kwargs)


def button(key: str, style: str = "", icon: str = "") -> w.Button:
    return bind(w.Button(button_style=style, icon=icon, layout=w.Layout(width="auto")), "description", key)


def set_options(control: Any, options: list[Any]) -> None:
    """Replace a dropdown's options, keeping the current value when it is still offered, else the first one.

    (ipywidgets 8 leaves the value None after new options; every panel wants a sensible selection instead.)
    """
    keep = control.value
    control.options = options
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    control.value = keep if keep in values else (values[0] if values else None)


def table_html(df: pd.DataFrame, *, max_rows: int = 50, css_class: str = "mp-table") -> str:
    """A DataFrame as an escaped HTML table (values are synthetic but may contain markup characters)."""
    if df.empty:
        return f"<p class='{css_class}-empty'><i>{html.escape(t('common.empty'))}</i></p>"
    return df.head(max_rows).to_html(index=False, escape=True, classes=css_class, border=0, na_rep="—")


def figure_image(fig: Any) -> w.Image:
    """A static matplotlib figure as a PNG Image widget (works the same in JupyterLab, Voila and Binder).

    Pass a `matplotlib.figure.Figure` made directly (not through pyplot), so nothing is left open.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return w.Image(value=buf.getvalue(), format="png")


# ---------------------------------------------------------------- downloads

_MIME = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "png": "image/png",
    "svg": "image/svg+xml",
    "html": "text/html",
    "md": "text/markdown",
    "json": "application/json",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
}
_BUTTON_STYLE = (
    "display:inline-block;margin:2px 6px 2px 0;padding:3px 12px;border:1px solid #1565c0;"
    "border-radius:3px;background:#e3f2fd;color:#0d47a1;font-weight:600;text-decoration:none;"
    "line-height:22px;cursor:pointer"
)


def data_uri_anchor(filename: str, mime: str, payload: bytes, caption: str) -> str:
    """An <a download> button carrying the file in its href: no file written, no server round trip, so it
    works the same offline in JupyterLab, Voila and Binder."""
    encoded = base64.b64encode(payload).decode("ascii")
    charset = ";charset=utf-8" if mime.startswith("text/") or mime.endswith(("json", "xml")) else ""
    return (
        f'<a class="mp-download jupyter-button" role="button" style="{_BUTTON_STYLE}" '
        f'download="{html.escape(filename)}" href="data:{mime}{charset};base64,{encoded}" '
        f'target="_blank">\u2913 {html.escape(caption)}</a>'
    )


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """A table as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) or Parquet bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    try:
        frame.to_parquet(buf, index=False)
    except (TypeError, ValueError, ImportError, ArithmeticError):
        # mixed object columns (intervals, None beside text) have no one Parquet type: write them as text
        import pyarrow  # noqa: F401  (a missing engine must fail loudly, not be papered over)

        buf = io.BytesIO()
        as_text = frame.copy()
        for name in as_text.select_dtypes(include="object").columns:
            as_text[name] = as_text[name].map(lambda v: None if v is None else str(v))
        as_text.columns = [str(c) for c in as_text.columns]
        as_text.to_parquet(buf, index=False)
    return buf.getvalue()


class Downloads(w.HTML):
    """A row of download buttons for a panel's results: CSV and Parquet of each table, PNG and SVG of each
    figure. `files` keeps what each button holds (file name -> bytes); captions follow language switches."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("mp-downloads")
        self.files: dict[str, bytes] = {}
        self._captions: dict[str, tuple[str, str]] = {}
        me = weakref.ref(self)  # the listener must not keep a closed panel alive

        def relabel(_lang: str) -> None:
            panel = me()
            if panel is None:
                unsubscribe()  # the panel is gone: so is its listener
            else:
                panel.render()

        unsubscribe = on_language_change(relabel)

    def clear(self) -> None:
        self.files, self._captions, self.value = {}, {}, ""

    def add_file(self, filename: str, payload: bytes, what: str, fmt: str) -> None:
        """Offer `payload` as `filename` on a button saying what it is (message key `what`) and its format."""
        self.files[filename] = payload
        self._captions[filename] = (what, fmt)
        self.render()

    def add_table(self, frame: pd.DataFrame, stem: str, what: str) -> None:
        for fmt in ("csv", "parquet"):
            self.add_file(f"{stem}.{fmt}", table_bytes(frame, fmt), what, fmt.upper())

    def add_figure(self, fig: Any, stem: str, what: str) -> None:
        from marketplace.charts import image_bytes

        for fmt in ("png", "svg"):
            self.add_file(f"{stem}.{fmt}", image_bytes(fig, fmt), what, fmt.upper())

    def render(self) -> None:
        """(Re)draw the buttons in the language in force."""
        if not self.files:
            self.value = ""
            return
        buttons = "".join(
            data_uri_anchor(
                name,
                _MIME.get(name.rsplit(".", 1)[-1], "application/octet-stream"),
                payload,
                t("download.as", what=t(self._captions[name][0]), fmt=self._captions[name][1]),
            )
            for name, payload in self.files.items()
        )
        self.value = f"<div class='mp-download-row'><b>{html.escape(t('download.title'))}</b> {buttons}</div>"
