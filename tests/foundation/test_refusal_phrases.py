"""Every action a permission refusal names as a written phrase has its words in both catalogs.

A refusal reads "X may not <action>: <reason>"; an action given as a phrase ("pause the clock") is looked up
as `action.<phrase>`, and one the catalogs lack reached a Chinese panel, and a served notebook, in English.
Phrases built at run time (an f-string with a code in it) are not covered here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from marketplace import i18n

PACKAGE = Path(i18n.__file__).parent
CALLS_WITH_PHRASE = {"trainer_account": 0, "_trainer_check": 1, "require_role": 3}  # positional index


def _phrases() -> dict[str, str]:
    """phrase -> where it is written, for every literal action phrase of a refusal in the package."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            candidates = [
                k.value for k in node.keywords if k.arg == "doing" or (k.arg, name) == ("what", "_op")
            ]
            if name in CALLS_WITH_PHRASE and len(node.args) > CALLS_WITH_PHRASE[name]:
                candidates.append(node.args[CALLS_WITH_PHRASE[name]])
            if name == "run" and node.args and getattr(node.args[0], "id", "") == "_trainer_check":
                candidates.extend(node.args[2:3])  # the server's `await run(_trainer_check, fac, phrase)`
            for c in candidates:
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and " " in c.value:
                    found[c.value] = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
    return found


def test_the_phrases_are_found() -> None:
    phrases = _phrases()
    assert {"pause the clock", "file a request", "unlock joins", "open the facilitator console"} <= set(
        phrases
    )


def test_every_refusal_phrase_is_worded_in_both_languages() -> None:
    missing = {p: where for p, where in _phrases().items() if not i18n.has(f"action.{p}")}
    assert not missing, f"add action.<phrase> to the catalogs: {missing}"
    for phrase in _phrases():
        assert i18n.action_text(phrase, "zh") != phrase, phrase
