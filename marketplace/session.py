"""The ORM session every step runs in: SQLModel's, with a lean load of one row by its primary key and a direct
answer to `connection()` once its transaction holds one.

Why this exists: a workflow step is short (a handful of statements), and its callers — widgets, the CLI, the
workshop — start each step by loading the acting account and the object acted on by id. SQLAlchemy's
`Session.get` builds an ORM select, its cache key and a compile state for every call: ~110 µs for one row of a
plain table on SQLite, a third of a whole decision step. `Session.get` here reads the row with one prepared
SELECT (`marketplace.fastsql`) and builds the instance the way the ORM's own loader does for a new row
(`sqlalchemy.orm.loading._instance`: new instance, identity key, identity map, clean committed state): ~22 µs
(benchmarks/bench_workflows.py measures the whole effect).

The lean path is taken only where it gives exactly the ORM's result: a mapped table class with a one-column
primary key, no inheritance, no `load` or `loaded_as_persistent` listeners, no options (populate_existing,
with_for_update, identity_token, execution and bind arguments), and an object not already in the identity
map (an identity-map hit, expired or not, is the ORM's own `get`, as is everything else). Like the ORM, it
autoflushes pending changes first. `load_collection` does the same for a plain one-to-many relationship
(a request's review stages, read by every decision). tests/foundation/test_session_get.py compares both paths
row for row on every table, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import ONETOMANY, object_session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.session import SessionTransactionState
from sqlmodel import Session as SQLModelSession

from marketplace.fastsql import Statement

__all__ = ["Session", "collection", "persistent_instance"]


@dataclass(frozen=True)
class _Loader:
    mapper: Any
    keys: tuple[str, ...]
    select: Any
    identity_class: type
    pk_index: int


_LOADERS: dict[type, _Loader | None] = {}


def _loader(entity: Any) -> _Loader | None:
    """How to load `entity` by primary key with one Core SELECT, or None when only the ORM can."""
    try:
        return _LOADERS[entity]
    except (KeyError, TypeError):
        pass
    loader = None
    mapper = sa.inspect(entity, raiseerr=False) if isinstance(entity, type) else None
    if mapper is not None and getattr(mapper, "is_mapper", False):
        table = mapper.local_table
        props = list(mapper.column_attrs)
        plain = (
            mapper.inherits is None
            and not mapper.polymorphic_map
            and not mapper.always_refresh
            and len(mapper.primary_key) == 1
            and isinstance(table, sa.Table)
            and all(len(p.columns) == 1 and p.columns[0].table is table for p in props)
            and not any(p.deferred for p in props)
        )
        if plain:
            pk = mapper.primary_key[0]
            loader = _Loader(
                mapper=mapper,
                keys=tuple(p.key for p in props),
                select=Statement(sa.select(*(p.columns[0] for p in props)).where(pk == sa.bindparam("pk"))),
                identity_class=mapper._identity_class,
                pk_index=[p.columns[0] for p in props].index(pk),
            )
    if isinstance(entity, type):
        _LOADERS[entity] = loader
    return loader


class Session(SQLModelSession):
    """SQLModel's session; `get` by primary key takes a lean path where it gives the ORM's result."""

    def connection(  # type: ignore[override]
        self, bind_arguments: Any = None, execution_options: Any = None
    ) -> sa.Connection:
        """The transaction's connection; once it holds one, returned without the ORM's bookkeeping.

        A step asks for its connection dozens of times (every Core statement, every lean load) and the ORM
        resolves the bind and checks the transaction's state each time (~10 µs). For a session bound to
        one engine, with no per-mapper binds and no explicit bind or execution options asked for, the
        answer is the connection the active transaction already holds — what the ORM itself returns then.
        """
        trans = self._transaction
        if (
            trans is not None
            and execution_options is None
            and (not bind_arguments or "bind" not in bind_arguments)
            and not self.binds
            and self._trans_context_manager is None
            and trans._state is SessionTransactionState.ACTIVE
            and type(self).get_bind is _ORM_GET_BIND
        ):
            held = trans._connections.get(self.bind)
            if held is not None:
                return held[0]
        return super().connection(bind_arguments, execution_options)

    def get(  # type: ignore[override]
        self,
        entity: Any,
        ident: Any,
        *,
        options: Any = None,
        populate_existing: bool | None = None,
        with_for_update: Any = None,
        identity_token: Any = None,
        execution_options: Any = None,
        bind_arguments: Any = None,
    ) -> Any:
        loader = None
        if (
            type(ident) is int
            and not options
            and not populate_existing
            and with_for_update is None
            and identity_token is None
            and not execution_options
            and not bind_arguments
        ):
            loader = _loader(entity)
        if loader is not None:
            key = (loader.identity_class, (ident,), None)
            if self.identity_map.get(key) is None:
                obj = self._load_row(loader, key, ident)
                if obj is not _ORM:
                    return obj
        kwargs: dict[str, Any] = {
            "options": options,
            "populate_existing": populate_existing,
            "with_for_update": with_for_update,
            "identity_token": identity_token,
            "bind_arguments": bind_arguments,
        }
        if execution_options:
            kwargs["execution_options"] = execution_options
        return super().get(entity, ident, **kwargs)

    def _load_row(self, loader: _Loader, key: tuple[Any, ...], ident: int) -> Any:
        if not self._plain_load(loader):
            return _ORM
        conn = self._flushed_connection(loader.mapper)
        row = loader.select.execute(conn, {"pk": ident}).first()
        return None if row is None else self._new_instance(loader, key, row)

    def load_collection(self, obj: Any, key: str) -> list[Any]:
        """`obj.<key>` for a one-to-many relationship, loaded with one Core SELECT if not loaded yet.

        The same list the ORM's lazy load gives (same rows, same order, identity map honoured), set as the
        attribute's committed value; anything but a plain one-to-many of a persistent row is the ORM's load.
        """
        state = instance_state(obj)
        if key in state.dict:
            return state.dict[key]
        child = _children_loader(state.mapper, key)
        if child is None or state.key is None or state.session_id != self.hash_key or state.expired:
            return getattr(obj, key)
        loader, select, parent_key = child
        if not self._plain_load(loader):
            return getattr(obj, key)
        parent_id = state.dict.get(parent_key)
        if parent_id is None:
            return getattr(obj, key)
        rows = select.execute(self._flushed_connection(loader.mapper), {"fk": parent_id}).all()
        items = []
        for row in rows:
            ident_key = (loader.identity_class, (row[loader.pk_index],), None)
            existing = self.identity_map.get(ident_key)
            if existing is not None:
                if instance_state(existing).unloaded:
                    return getattr(obj, key)  # the ORM would refresh its expired attributes from the row
                items.append(existing)
            else:
                items.append(self._new_instance(loader, ident_key, row))
        set_committed_value(obj, key, items)
        return state.dict[key]

    def _plain_load(self, loader: _Loader) -> bool:
        """No load listeners: they expect the ORM's load context."""
        return not (loader.mapper.class_manager.dispatch.load or self.dispatch.loaded_as_persistent)

    def _flushed_connection(self, mapper: Any) -> Any:
        """The connection to read from, after autoflushing pending changes as an ORM query would."""
        if self._new or self._deleted or self.identity_map._modified:
            self._autoflush()
        return self.connection(bind_arguments={"mapper": mapper})

    def _new_instance(self, loader: _Loader, key: tuple[Any, ...], row: Any) -> Any:
        return persistent_instance(self, loader.mapper, key, zip(loader.keys, row, strict=True))


def persistent_instance(session: Any, mapper: Any, key: tuple[Any, ...], values: Any) -> Any:
    """A clean instance of `mapper`'s class holding `values` (attribute, value pairs), persistent in `session`
    under identity `key` — as sqlalchemy.orm.loading._instance builds a row not yet in the identity map.
    For a row just read (`Session.get`) or just inserted (`workflows._core.insert_new`); any session works."""
    obj = mapper.class_manager.new_instance()
    state = instance_state(obj)
    state.dict.update(values)
    state.key = key
    state.identity_token = None
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)
    return obj


_CHILDREN: dict[tuple[Any, str], tuple[_Loader, Any, str] | None] = {}


def _children_loader(mapper: Any, key: str) -> tuple[_Loader, Any, str] | None:
    """(child loader, SELECT of the children by parent id, parent's key attribute) for a plain one-to-many."""
    try:
        return _CHILDREN[(mapper, key)]
    except KeyError:
        pass
    found = None
    prop = mapper.relationships.get(key)
    if (
        prop is not None
        and prop.direction is ONETOMANY
        and prop.uselist
        and prop.secondary is None
        and prop.collection_class in (None, list)
        and prop.strategy_key == (("lazy", "select"),)
        and len(prop.local_remote_pairs) == 1
    ):
        local, remote = prop.local_remote_pairs[0]
        loader = _loader(prop.mapper.class_)
        parent_prop = mapper._columntoproperty.get(local)
        if loader is not None and parent_prop is not None and remote.table is prop.mapper.local_table:
            order = [] if not prop.order_by else list(prop.order_by)
            select = sa.select(*loader.select.stmt.selected_columns).where(remote == sa.bindparam("fk"))
            if order:
                select = select.order_by(*order)
            found = (loader, Statement(select), parent_prop.key)
    _CHILDREN[(mapper, key)] = found
    return found


_ORM = object()

_ORM_GET_BIND = sa.orm.Session.get_bind  # a subclass overriding it may route statements elsewhere


def collection(obj: Any, key: str) -> list[Any]:
    """`obj.<key>` (a one-to-many list), loaded by `Session.load_collection` when `obj` is in our session."""
    session = object_session(obj)
    if isinstance(session, Session):
        return session.load_collection(obj, key)
    return getattr(obj, key)
