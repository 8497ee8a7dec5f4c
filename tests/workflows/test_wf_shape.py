"""The shape of the workflows package: modules in layers (no import circle, lazy imports included) and every
step written as load → check → change → record inside `step(...)`."""

from __future__ import annotations

import ast
from pathlib import Path

import marketplace.workflows as wf_package

WORKFLOWS = Path(wf_package.__file__).resolve().parent
PREFIX = "marketplace.workflows."


def workflow_imports(path: Path) -> set[str]:
    """The workflows modules `path` imports anywhere in the file (top level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    modules = {p.stem for p in WORKFLOWS.glob("*.py")}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX):
                found.add(node.module.removeprefix(PREFIX).split(".")[0])
            elif node.module == "marketplace.workflows":
                found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix(PREFIX).split(".")[0] for a in node.names if a.name.startswith(PREFIX)
            }
    return found - {path.stem}


def graph() -> dict[str, set[str]]:
    return {p.stem: workflow_imports(p) for p in WORKFLOWS.glob("*.py") if p.stem != "__init__"}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import circle, if any (depth-first search)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_workflow_modules_form_layers_without_a_circle():
    found = cycle(graph())
    assert not found, "import circle: " + " -> ".join(found)


def test_the_circle_check_finds_a_circle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_the_audit_log_sits_below_every_step():
    """The log knows nothing of the steps: it imports only the clock and the settings it reads."""
    edges = graph()
    assert edges["audit"] <= {"clock", "settings"}
    assert edges["settings"] == set()
    assert edges["lifecycles"] == set()


READS = {"review_queue", "review_queue_count", "queue_query"}  # they read, change nothing
# Every module but the machinery the steps stand on (and the demo, which calls steps as a user would).
MACHINERY = {
    "__init__", "audit", "clock", "demo", "facts", "lifecycles", "lookups", "roles", "settings", "step"
}
STEP_MODULES = tuple(sorted(p.stem for p in WORKFLOWS.glob("*.py") if p.stem not in MACHINERY))


def test_every_state_changing_step_runs_inside_step_and_writes_no_audit_row_itself():
    """Each public function of a step module that takes (session, actor, ...) opens `step(...)`, and no step
    module calls the audit log's writers directly (the session hook writes the log)."""
    missing, direct = [], []
    for name in STEP_MODULES:
        path = WORKFLOWS / f"{name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_") or node.name in READS:
                continue
            args = [a.arg for a in node.args.args]
            if args[:2] != ["session", "actor"]:
                continue
            calls = {
                ast.unparse(c.func)
                for w in ast.walk(node)
                if isinstance(w, ast.With)
                for item in w.items
                if isinstance((c := item.context_expr), ast.Call)
            }
            delegated = any(
                isinstance(c, ast.Call)
                and isinstance(c.func, ast.Name)
                and c.func.id in _step_functions(tree)
                for c in ast.walk(node)
            )
            if "step" not in calls and not delegated:
                missing.append(f"{name}.{node.name}")
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and ast.unparse(call.func) in ("audit.record", "audit.refuse"):
                direct.append(f"{name}:{call.lineno}")
    assert not missing, f"steps not written inside step(...): {missing}"
    assert not direct, f"steps writing the audit log themselves: {direct}"


def _step_functions(tree: ast.Module) -> set[str]:
    """Functions of the module that open `step(...)` themselves (a thin wrapper may call one)."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for w in ast.walk(node):
                if isinstance(w, ast.With) and any(
                    isinstance(i.context_expr, ast.Call) and ast.unparse(i.context_expr.func) == "step"
                    for i in w.items
                ):
                    out.add(node.name)
    return out
