"""The sandbox a set of panels works on: one database engine and the account the user acts as.

Panels in one notebook share a `Sandbox` so that switching the acting account in the "act as" panel changes
who files, reviews and prices in every other panel. `revision` is bumped after each state change made through
a panel, so panels that list things (queues, catalogues) refresh themselves. The database seeds itself on
first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import traitlets
from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace import db
from marketplace.errors import NotFound
from marketplace.models import Account


class Sandbox(traitlets.HasTraits):
    """Shared state of the panels: `account_id` (who acts) and `revision` (bumped on every change)."""

    account_id = traitlets.Int(None, allow_none=True)
    revision = traitlets.Int(0)

    def __init__(self, engine: Engine | None = None, *, seed: bool = True) -> None:
        super().__init__()
        self._engine = engine
        self._seed = seed
        self._ready = False

    @property
    def engine(self) -> Engine:
        """The engine, seeding an empty sandbox on first use (Binder and workshops start from nothing)."""
        engine = self._engine or db.get_engine()
        if not self._ready:
            if self._seed:
                from marketplace.synth import ensure_seeded

                ensure_seeded(engine)
            else:
                db.create_all(engine)
            self._engine = engine
            self._ready = True
        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction (commit on success, roll back on any error)."""
        with db.session_scope(self.engine) as session:
            yield session

    def account(self, session: Session) -> Account:
        """The acting account, loaded in `session`; NotFound when nobody is selected."""
        if self.account_id is None:
            raise NotFound("account", "(none selected: choose one in the 'act as' panel)")
        account = session.get(Account, self.account_id)
        if account is None:
            raise NotFound("account", self.account_id)
        return account

    def changed(self) -> None:
        """Tell every panel that the database changed."""
        self.revision += 1


_default: dict[str, Sandbox] = {}


def default_sandbox() -> Sandbox:
    """The sandbox shared by every panel of this kernel (created on first use)."""
    if "sandbox" not in _default:
        _default["sandbox"] = Sandbox()
    return _default["sandbox"]


def set_default_sandbox(sandbox: Sandbox | None) -> None:
    """Replace (or forget, with None) the kernel-wide sandbox: tests and notebooks with their own engine."""
    if sandbox is None:
        _default.pop("sandbox", None)
    else:
        _default["sandbox"] = sandbox


def resolve(sandbox: Sandbox | None) -> Sandbox:
    return sandbox if sandbox is not None else default_sandbox()
