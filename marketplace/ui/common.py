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
import logging
import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as w

from marketplace.errors import MarketplaceError
from marketplace.ui.i18n import Text, bind, error_text, on_language_change, t
from marketplace.ui.i18n import cell_text as i18n_cell
from marketplace.ui.i18n import column_label as i18n_column

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])
LOG = logging.getLogger("marketplace.ui")

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
        self._error: BaseException | None = None
        on_language_change(self._relabel, weak=True)

    def show(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text
        self.value = f'<div class="mp-{kind}" style="{_STYLES[kind]}">{html.escape(text)}</div>'

    def _relabel(self, _lang: str) -> None:
        """The message shown stays, in the new language (texts made by `t` know how to re-word themselves)."""
        if self._error is not None:
            self.error(self._error)
        elif isinstance(self.text, Text):
            self.show(self.kind, self.text.reworded())

    def ok(self, text: str) -> None:
        self._error = None
        self.show("ok", text)

    def info(self, text: str) -> None:
        self._error = None
        self.show("info", text)

    def error(self, exc: BaseException | str) -> None:
        self._error = None if isinstance(exc, str) else exc  # re-worded after a language switch
        self.show("error", t("common.error", message=exc if isinstance(exc, str) else error_text(exc)))

    def unexpected(self, exc: BaseException) -> None:
        """An error that is not the user's: one line, the traceback behind a disclosure."""
        self._error = None
        first = (str(exc).strip().splitlines() or [""])[0]
        line = t("common.unexpected", kind=type(exc).__name__, message=first)
        trace = "".join(traceback.format_exception(exc))
        self.kind, self.text = "error", line
        self.value = (
            f'<div class="mp-error mp-unexpected" style="{_STYLES["error"]}">{html.escape(line)}</div>'
            f"<details class='mp-traceback'><summary>{html.escape(t('common.details'))}</summary>"
            f"<pre>{html.escape(trace)}</pre></details>"
        )

    def clear(self) -> None:
        self._error = None
        self.kind, self.text, self.value = "", "", ""


def guard(feedback: Feedback) -> Callable[[F], F]:
    """Decorator for callbacks: every error ends in `feedback`, the panel's error area.

    A domain error (refused, invalid, conflicting) is one line. Anything else is one line too, with the
    traceback behind a disclosure (`<details>`) and logged on the `marketplace.ui` logger: ipywidgets would
    only log it to the kernel, which in Voila nobody sees.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except MarketplaceError as exc:
                feedback.error(exc)
                return None
            except Exception as exc:
                LOG.error("unexpected error in a panel callback", exc_info=exc)
                feedback.unexpected(exc)
                return None

        return wrapper  # type: ignore[return-value]

    return decorate


class Closing:
    """Lets a panel go when it is closed: its sandbox observers are removed, its language listeners (held
    by the panel, weakly by the registry) go with it, and every widget it made is closed, so that neither
    the kernel-wide sandbox nor the widget registry keeps it alive."""

    def _mp_closers(self) -> list[Callable[[], None]]:
        closers = getattr(self, "_mp_closer_list", None)
        if closers is None:
            closers = []
            self._mp_closer_list = closers
        return closers

    def guarded(self, fn: F) -> F:
        """`fn` running inside this panel's error area (`guard(self.feedback)`), for widget callbacks."""
        feedback = getattr(self, "feedback", None)
        return guard(feedback)(fn) if isinstance(feedback, Feedback) else fn

    def watch(self, owner: Any, handler: Callable[[Any], None], names: str) -> None:
        """`owner.observe(handler, names)`, inside the error area, until this panel is closed."""
        handler = self.guarded(handler)
        owner.observe(handler, names=names)
        self._mp_closers().append(lambda: owner.unobserve(handler, names=names))

    def on_language(self, callback: Callable[[str], None]) -> None:
        """Call `callback(lang)` after every language switch, for as long as this panel lives."""
        on_language_change(self.guarded(callback), owner=self)

    def close(self) -> None:
        for closer in self._mp_closers():
            closer()
        self._mp_closers().clear()
        for widget in _made_by(self):
            widget.close()
        super().close()  # type: ignore[misc]


def _made_by(panel: Any) -> list[w.Widget]:
    """Every widget in `panel`'s tree and in its attributes (hidden ones too), `panel` excluded."""
    found: dict[int, w.Widget] = {}
    todo: list[Any] = [*getattr(panel, "children", ()), *vars(panel).values()]
    while todo:
        item = todo.pop()
        if isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, w.Widget) and item is not panel and id(item) not in found:
            found[id(item)] = item
            todo.extend(getattr(item, "children", ()))
    return list(found.values())


class Panel(Closing, w.VBox):
    """A panel: a VBox that lets go of everything when closed (see `Closing`)."""


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


def table_html(
    df: pd.DataFrame, *, max_rows: int = 50, css_class: str = "mp-table", data: bool = False
) -> str:
    """A DataFrame as an escaped HTML table (values are synthetic but may contain markup characters).

    `data=True` marks rows of the synthetic data itself (class `mp-data`): shown as the data holds them, in
    the data's own language, so the language checks of the tests leave their cells alone.
    """
    if df.empty:
        return f"<p class='{css_class}-empty'><i>{html.escape(t('common.empty'))}</i></p>"
    classes = f"{css_class} mp-data" if data else css_class
    return df.head(max_rows).to_html(index=False, escape=True, classes=classes, border=0, na_rep="—")


def worded_table(df: pd.DataFrame, *, keep: tuple[str, ...] = (), **kwargs: Any) -> str:
    """A table made by another layer (snake_case columns, vocabulary values, None) in words, as HTML.

    Columns in `keep` hold codes or names shown as they are; `kwargs` go to `table_html`.
    """
    shown = df.copy()
    for column in shown.columns:
        if column not in keep:
            shown[column] = shown[column].map(lambda v: i18n_cell(v))
    shown.columns = [i18n_column(c) for c in shown.columns]
    return table_html(shown, **kwargs)


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
