"""The JupyterLab interface in the sandbox's language: `MARKETPLACE_LANG=zh` opens Lab in Chinese (and never
asks whether to fetch Jupyter news: no popup over the panels, no request beyond the sandbox).

Lab's own texts come from language packs (`jupyterlab-language-pack-zh-CN`, a dependency), and which one is
used is the `locale` setting of `@jupyterlab/translation-extension:plugin`. A settings override sets it: a
file of ours in Lab's `overrides.d` directory (`<app dir>/settings/overrides.d/`, read at every start; the
user's own `overrides.json` and choices made in Lab's Settings menu are left alone and still win).

    python -m marketplace.lab_language            # write the override for MARKETPLACE_LANG (default English)
    python -m marketplace.lab_language --lang zh  # or for a given language

`make lab` and Binder's `start` run it before Lab starts.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from marketplace.i18n import ENV_LANG, normalize

TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"
#: Lab's news and update checks: off, so no popup asks (in English, over the panels' download buttons) whether
#: to fetch news from a website, and Lab itself makes no request beyond the sandbox (loopback only)
NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
QUIET = {"fetchNews": "false", "checkForUpdates": False}
#: the sandbox's languages as JupyterLab names its locales
LAB_LOCALES = {"en": "en", "zh": "zh_CN"}
FILE_NAME = "marketplace-language.json"


def lab_locale(lang: str | None = None) -> str:
    """Lab's locale for `lang` (default: `MARKETPLACE_LANG`, else English): 'en' or 'zh_CN'."""
    code = lang if lang is not None else os.environ.get(ENV_LANG, "").strip() or "en"
    return LAB_LOCALES[normalize(code, field=ENV_LANG if lang is None else "language")]


def settings_dir() -> Path:
    """Lab's application settings directory (`<sys.prefix>/share/jupyter/lab/settings`, or under
    `JUPYTERLAB_DIR`), where `overrides.d` is read."""
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "settings"


def override(lang: str | None = None) -> dict[str, Any]:
    """The settings override that makes Lab speak `lang` and keeps it from asking about news."""
    return {TRANSLATION_PLUGIN: {"locale": lab_locale(lang)}, NOTIFICATION_PLUGIN: dict(QUIET)}


def apply(lang: str | None = None, directory: Path | None = None) -> Path:
    """Write the override into `directory` (default: Lab's own)/overrides.d; returns its path."""
    content = json.dumps(override(lang), indent=2) + "\n"  # a bad language is refused before any write
    target = (directory or settings_dir()) / "overrides.d" / FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketplace.lab_language", description="Lab's language")
    parser.add_argument("--lang", help=f"en or zh (default: {ENV_LANG}, else en)")
    parser.add_argument("--settings-dir", type=Path, help="Lab's settings directory (default: Lab's own)")
    args = parser.parse_args(argv)
    from marketplace.errors import InvalidInput
    from marketplace.i18n import error_text, get_language, t

    try:
        speak = get_language()
    except InvalidInput:  # MARKETPLACE_LANG itself is the problem: say so in English
        speak = "en"
    try:
        path = apply(args.lang, args.settings_dir)
    except InvalidInput as exc:
        parser.exit(2, t("cli.error", speak, message=error_text(exc, speak)) + "\n")
    except OSError as exc:
        where = exc.filename or args.settings_dir
        details = t("lab.cannot_write", speak, path=where, details=exc.strerror or exc)
        parser.exit(2, t("cli.error", speak, message=details) + "\n")
    print(t("lab.language_set", speak, locale=lab_locale(args.lang), path=path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
