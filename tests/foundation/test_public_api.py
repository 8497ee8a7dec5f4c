"""The package uses libraries through their public API only, and its modules use each other's public names.

A private name (`obj._x`, `getattr(obj, "_x")`, `from m import _x`, a module path with a `_part`) may change
in any release of the library that owns it; SQLAlchemy's, pandas' and Jupyter's internals are most at risk.
A module may reach the private state it defines itself (`self._x`, or `obj._x` where the module assigns or
declares `_x`); it may not reach another module's or a library's.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

import marketplace

PACKAGE = Path(marketplace.__file__).resolve().parent
ALLOWED_ATTRIBUTES = {("os", "_exit")}  # documented public function of the standard library


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def own_private_names(tree: ast.Module) -> set[str]:
    """Private names the module defines: functions, classes, attributes it assigns on `self`/`cls`, and the
    entries of its `__slots__` and of its `object.__setattr__(obj, "_x", ...)` calls."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            names |= {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "object.__setattr__"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            names.add(node.args[1].value)
    return {n for n in names if isinstance(n, str) and private(n)}


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = own_private_names(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in ("self", "cls") or (owner, node.attr) in ALLOWED_ATTRIBUTES or node.attr in own:
                continue
            found.append(f"{where}: attribute {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and not (isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"))
        ):
            found.append(f"{where}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            if any(private(p) for p in parts):
                found.append(f"{where}: from {node.module} import ...")
            found += [f"{where}: import {a.name} from {node.module}" for a in node.names if private(a.name)]
        elif isinstance(node, ast.Import):
            found += [
                f"{where}: import {a.name}" for a in node.names if any(private(p) for p in a.name.split("."))
            ]
    return found


def test_no_private_names_of_libraries_or_of_other_modules():
    found = [v for path in sorted(PACKAGE.rglob("*.py")) for v in violations(path)]
    assert not found, "private names used:\n" + "\n".join(found)


def test_the_check_catches_what_it_looks_for(tmp_path):
    sample = PACKAGE / "__sample_for_the_check__.py"
    try:
        sample.write_text(
            "from sqlalchemy.orm.loading import _instance\n"
            "from marketplace.models._base import fk\n"
            "def f(session, state):\n"
            "    session.identity_map._add_unpresent(state, None)\n"
            "    return getattr(state, '_commit_all')\n"
            "class A:\n"
            "    def g(self):\n"
            "        return self._own\n",
            encoding="utf-8",
        )
        found = violations(sample)
    finally:
        sample.unlink()
    assert len(found) == 4, found


@pytest.fixture
def traced_sqlite(tmp_path):
    """A file SQLite sandbox whose driver reports every statement it runs (sqlite3's trace callback)."""
    from marketplace import db
    from marketplace.synth import seed_sandbox

    engine = db.make_engine(f"sqlite:///{tmp_path / 'traced.db'}")
    db.create_all(engine)
    seed_sandbox(engine, size="small", seed=3)
    driver: list[str] = []

    @sa.event.listens_for(engine, "connect")
    def trace(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.set_trace_callback(driver.append)

    engine.dispose()  # new connections get the trace
    yield engine, driver
    engine.dispose()


def test_engine_events_see_every_statement_a_lifecycle_runs(traced_sqlite):
    """Statement listeners (logging, tracing, metrics) see everything the workflows send to the database."""
    from marketplace import workflows as wf
    from marketplace.models import AccessRequest, Resource
    from marketplace.vocabulary import Role

    engine, driver = traced_sqlite
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
    with Session(engine) as s:
        requester = wf.accounts_with_role(s, Role.requester)[0]
        resource = next(
            r for r in s.exec(sa.select(Resource)).scalars() if "sharing" in wf.resource_channels(r)
        )
        rid = resource.id
        s.commit()
    driver.clear()
    seen.clear()
    with Session(engine) as s:
        req = wf.create_request(
            s,
            s.merge(requester),
            resource=s.get(Resource, rid),
            channel="sharing",
            purpose="public_governance",
        )
        wf.submit_request(s, req.requester, req)
        s.commit()
        code = req.code
    with Session(engine) as s:
        assert (
            s.exec(sa.select(AccessRequest).where(AccessRequest.code == code)).scalar_one().status.value
            != "draft"
        )

    def statements(texts: list[str]) -> list[str]:
        skip = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")
        return [" ".join(t.split()) for t in texts if not t.lstrip().upper().startswith(skip)]

    run, listened = statements(driver), set(statements(seen))
    assert run, "the trace saw nothing"
    # sqlite3 reports statements with their parameters bound; compare by shape (up to the first parameter)
    missing = [t for t in run if not any(t.startswith(s.split("?")[0].strip()) for s in listened)]
    assert not missing, f"{len(missing)} of {len(run)} statements ran past the engine's events: {missing[:3]}"
