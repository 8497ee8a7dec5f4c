"""What every figure of the sandbox shares: a font that has the glyphs of the language in force, a "no data"
figure instead of empty axes, wrapped tick labels, and the PNG / SVG bytes that panels offer as downloads.

Figures are made as `matplotlib.figure.Figure` objects (never through pyplot), so a widget callback or a
command leaves no global figure open. Their texts come from `marketplace.i18n` like every other text.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from marketplace.i18n import t

#: CJK fonts tried in this order (Debian's fonts-noto-cjk first, installed by .ci/system-deps.sh and by
#: Binder's apt.txt); the first one installed becomes the fallback family of every figure.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)

_configured: dict[str, str | None] = {}


#: file names of CJK fonts, for fonts installed after matplotlib cached its font list
CJK_FILES = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "droidsansfallback", "uming", "ukai")


def cjk_font() -> str | None:
    """The family name of the first installed CJK font, or None if there is none.

    matplotlib caches the system's fonts the first time it runs, so a font installed later (fonts-noto-cjk
    after a first plot) is not in its list: such font files are then added through `FontManager.addfont`.
    """
    if "cjk" not in _configured:
        from matplotlib import font_manager

        def first() -> str | None:
            installed = {entry.name for entry in font_manager.fontManager.ttflist}
            return next((name for name in CJK_FONTS if name in installed), None)

        found = first()
        if found is None:
            for path in font_manager.findSystemFonts():
                if any(part in Path(path).name.lower() for part in CJK_FILES):
                    try:
                        font_manager.fontManager.addfont(path)
                    except (OSError, RuntimeError, ValueError):  # an unreadable font file is skipped
                        continue
            found = first()
        _configured["cjk"] = found
    return _configured["cjk"]


def configure_fonts() -> str | None:
    """Add the installed CJK font to matplotlib's font family list, after the family in use (idempotent);
    returns its name.

    matplotlib falls back glyph by glyph along `font.family`, so Latin text keeps DejaVu Sans and Chinese
    text is drawn with the CJK font. Called before every figure is drawn, so Chinese labels render in
    notebooks, Voila and the command line alike without the user setting anything.
    """
    import matplotlib

    font = cjk_font()
    if font is not None:
        families = list(matplotlib.rcParams["font.family"])
        if font not in families:
            matplotlib.rcParams["font.family"] = [*families, font]
    return font


def figure(**kwargs: Any) -> Any:
    """A new `Figure` with fonts configured, in constrained layout (labels and ticks never overlap)."""
    from matplotlib.figure import Figure

    configure_fonts()
    kwargs.setdefault("layout", "constrained")
    return Figure(**kwargs)


def no_data(fig: Any, title: str, lang: str | None = None) -> Any:
    """Fill `fig` with its title and a sentence saying there is nothing to draw (never an empty axis)."""
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(
        0.5,
        0.5,
        t("chart.no_data", lang),
        ha="center",
        va="center",
        fontsize=11,
        color="#52606d",
        transform=ax.transAxes,
    )
    return fig


def plain_numbers(axis: Any, nbins: int = 5) -> None:
    """Tick labels as plain numbers with thousands separators (3,500,000 rather than 3.5 and '1e6'), few
    enough that long numbers never run into each other."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=nbins))
    axis.set_tick_params(labelsize=8)
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"))


def wrap(label: str, width: int = 16) -> str:
    """A tick label broken into lines of about `width` characters (Chinese has no spaces: break anywhere)."""
    if any("\u3000" <= ch <= "\u9fff" for ch in label):
        width = max(4, width // 2)
    return "\n".join(textwrap.wrap(label, width, break_long_words=True)) or label


def image_bytes(fig: Any, fmt: str, *, dpi: int = 110) -> bytes:
    """The figure as PNG or SVG bytes (what a download or `--plot FILE` holds)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # no creation date in the file: the same figure gives the same bytes
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
