"""Every action and reason a permission refusal gives as written text has its words in both catalogs.

A refusal reads "X may not <action>: <reason>"; an action given as a phrase ("pause the clock") is looked up
as `action.<phrase>`, a reason given as a sentence as `reason.<sentence>`, and one the catalogs lacked reached
a Chinese panel, and a served notebook, in English. Text built at run time carries a key of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from marketplace import i18n
from marketplace.errors import PermissionDenied

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


def _strings(node: ast.AST | None) -> list[str]:
    """The literal texts an expression can be: a constant, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _reasons() -> dict[str, str]:
    """sentence -> where, for every literal reason of `Step.require(ok, reason)` in the workflows, and the
    `why` sentences and module constants such a call is given."""
    found: dict[str, str] = {}
    for path in (PACKAGE / "workflows").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: _strings(n.value)
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name) and t.id.isupper()
        }
        for node in ast.walk(tree):
            texts: list[str] = []
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "require"
                and len(node.args) >= 2
                and not any(k.arg == "key" for k in node.keywords)  # a keyed reason is worded by its key
            ):
                reason = node.args[1]
                texts = _strings(reason) or constants.get(getattr(reason, "id", ""), [])
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "why" for t in node.targets):
                texts = _strings(node.value)
            for text in texts:
                found[text] = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
    return found


def test_every_refusal_reason_is_worded_in_both_languages() -> None:
    reasons = _reasons()
    assert "only the account that filed the request may do this" in reasons and len(reasons) >= 12
    missing = {r: where for r, where in reasons.items() if not i18n.has(f"reason.{r}")}
    assert not missing, f"add reason.<sentence> to the catalogs (or give the call a key): {missing}"


def _step_verbs() -> set[str]:
    """The verbs of every workflow step (`step(session, actor, "kind.verb", ...)`)."""
    verbs = set()
    for path in (PACKAGE / "workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "step" and len(node.args) >= 3:
                name = node.args[2]
                if isinstance(name, ast.Constant) and isinstance(name.value, str) and "." in name.value:
                    verbs.add(name.value.rsplit(".", 1)[1])
    return verbs


def test_a_refusal_inside_a_step_is_worded_part_by_part() -> None:
    verbs = _step_verbs()
    assert {"submit", "deliver", "report_usage"} <= verbs
    assert not [v for v in verbs if not i18n.has(f"action.{v}")]
    refused = PermissionDenied("operator-01", "withdraw request REQ-2025-000001", "someone else's request")
    refused.action_key = i18n.STEP_DOING  # type: ignore[attr-defined]
    refused.action_params = {"verb": "withdraw", "kind": "request", "code": "REQ-2025-000001"}  # type: ignore[attr-defined]
    assert i18n.error_text(refused, "en").startswith("operator-01 may not withdraw request REQ-2025-000001: ")
    assert "撤回申请 REQ-2025-000001" in i18n.error_text(refused, "zh")
