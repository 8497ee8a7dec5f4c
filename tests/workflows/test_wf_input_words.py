"""A text refused for its length or for being empty reads as a form would say it, in either language: the
field by its name on the form, what fits in words (the English `str()` stays as the workflow wrote it)."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest

from marketplace.errors import InvalidInput
from marketplace.i18n import error_text
from marketplace.workflows import catalog_view, price_formation, selection, sharing_lists, supervision
from marketplace.workflows import requests as wf_requests

CASES: list[tuple[Callable[..., Any], tuple[Any, ...], str]] = [
    (wf_requests.check_claim_texts, ("x" * 5000, ""), "用途说明"),
    (wf_requests.check_claim_texts, ("", "y" * 5000), "公共项目编号"),
    (selection._text, ("title", "", 300), "标题"),
    (sharing_lists._text, ("duty", "x" * 600), "职责"),
    (supervision._text, ("text", ""), "文本"),
    (catalog_view._check_text, ("q" * 5000,), "文本"),
    (price_formation._basis, ("b" * 5000,), "依据"),
]


def _refusal(fn: Callable[..., Any], args: tuple[Any, ...]) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        fn(*args)
    return exc.value


@pytest.mark.parametrize(("fn", "args", "field_zh"), CASES)
def test_a_bad_text_is_worded_in_both_languages(
    fn: Callable[..., Any], args: tuple[Any, ...], field_zh: str
) -> None:
    exc = _refusal(fn, args)
    en, zh = error_text(exc, "en"), error_text(exc, "zh")
    assert en.endswith("expected " + exc.expected)  # English: the workflow's own words
    assert "_" not in en.split(":", 1)[0]  # the field as people say it
    assert zh.startswith(field_zh + "：")
    assert not re.search(r"[A-Za-z]{3,}", zh.split("；应为", 1)[1]), zh  # what fits, in Chinese
    assert str(exc).startswith(exc.field + ": got ")


def test_the_words_survive_a_process_boundary() -> None:
    exc = _refusal(*CASES[0][:2])
    again = pickle.loads(pickle.dumps(exc))
    assert (again.key, again.params) == (exc.key, exc.params) and error_text(again, "zh") == error_text(
        exc, "zh"
    )
