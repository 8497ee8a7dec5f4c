"""Portable snapshots of the whole marketplace: every table as JSON, restorable on SQLite or PostgreSQL.

Why hand-written rather than `pg_dump` or a SQLite backup: a checkpoint must move between backends (taken on a
laptop's SQLite, restored on the workshop's PostgreSQL) and live inside the database as a `Checkpoint` row, so
it is plain JSON built from `SQLModel.metadata`: every table registered by the package, in foreign-key order.
Values are encoded by column type (datetimes and dates as ISO strings, money as decimal strings) and decoded
back by the same type, so a round trip is exact.

A snapshot records the schema revision its rows are shaped for (`revision`; one saved before revisions
existed has none and is read as the baseline). Restoring refuses a revision newer than this version knows, in
one line, before anything changes. An older one is upgraded rather than refused, so checkpoints saved before
an upgrade stay usable: its rows are loaded into a scratch in-memory SQLite database built at its revision,
the same migrations that upgrade a sandbox bring that database to head, and the result is what is restored.
A snapshot file is untrusted: its size is bounded and its shape checked before anything is read into the
database.

Trust (format 2): a snapshot carries a MAC under the audit key (`marketplace.auditkey`), so a checkpoint row
or file changed by anyone without the key (a planted trainer code, a table dropped) is refused. A restore
validates the whole snapshot (MAC, revision, tables, columns, every row's types) before it changes anything.
The audit log is history, not state: a snapshot holds neither its events nor its head, and a restore keeps
every event (the restore appends its own). Snapshots of format 1 (no MAC, saved by an earlier release) are
restored only when the trainer says they trust them.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from marketplace import models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.errors import InvalidInput

FORMAT = "marketplace-snapshot/2"
UNSIGNED_FORMAT = "marketplace-snapshot/1"  # earlier releases: no MAC, the audit log inside
# A checkpoint never contains (or erases) the checkpoints themselves, nor the audit log: history stays; nor
# the workshop server's sessions: a restore must not revive a revoked session.
EXCLUDED = frozenset({"checkpoint", "auditevent", "sessiontoken"})
KEPT_SETTINGS = frozenset({"audit_head"})  # settings that belong to the log, not to the marketplace's state
MAC_PURPOSE = "checkpoint"
MAX_FILE_BYTES = 256 * 2**20  # a province world after a busy workshop day is a few MB of JSON


def tables() -> list[sa.Table]:
    """The tables a snapshot covers, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in EXCLUDED]


def _base_type(col: sa.Column) -> Any:
    typ = col.type
    while isinstance(typ, sa.types.TypeDecorator):
        typ = typ.impl if isinstance(typ.impl, sa.types.TypeEngine) else typ.impl()
    return typ


def _encoder(col: sa.Column) -> Any:
    typ = _base_type(col)
    if isinstance(typ, sa.DateTime):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(typ, sa.Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(typ, sa.Numeric) and not isinstance(typ, sa.Float):
        return lambda v: None if v is None else str(v)
    return lambda v: v.value if hasattr(v, "value") and not isinstance(v, (int, float, str)) else v


def _checked(kind: type | tuple[type, ...], col: sa.Column, convert: Any = None) -> Any:
    """A decoder that accepts only values of `kind` (None only for nullable columns), then converts them."""

    def decode(v: Any) -> Any:
        if v is None:
            if col.nullable or col.primary_key:
                return None
            raise TypeError("null in a required column")
        if not isinstance(v, kind) or (isinstance(v, bool) and bool not in _as_tuple(kind)):
            raise TypeError(f"{type(v).__name__} value")
        return convert(v) if convert is not None else v

    return decode


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _string(col: sa.Column, typ: Any) -> Any:
    length = getattr(typ, "length", None)
    choices = set(typ.enums) if isinstance(typ, sa.Enum) else None

    def convert(v: str) -> str:
        if length is not None and len(v) > length:
            raise ValueError(f"longer than {length} characters")
        if choices is not None and v not in choices:
            raise ValueError("not one of " + ", ".join(sorted(choices)))
        return v

    return _checked(str, col, convert)


def _decoder(col: sa.Column) -> Any:
    typ = _base_type(col)
    if isinstance(typ, sa.DateTime):
        return _checked(str, col, datetime.fromisoformat)
    if isinstance(typ, sa.Date):
        return _checked(str, col, date.fromisoformat)
    if isinstance(typ, sa.Numeric) and not isinstance(typ, sa.Float):
        return _checked(str, col, Decimal)
    if isinstance(typ, sa.Float):
        return _checked((int, float), col)
    if isinstance(typ, sa.Boolean):
        return _checked(bool, col)
    if isinstance(typ, sa.Integer):
        return _checked(int, col)
    if isinstance(typ, sa.String | sa.Enum):
        return _string(col, typ)
    return lambda v: v  # JSON: any JSON value


def _order(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns) or list(table.columns)


def take_snapshot(conn: Connection) -> dict[str, Any]:
    """Every row of every covered table, as a JSON-ready dict (run inside one transaction for consistency)."""
    from marketplace import migrations

    # The rows are read through this version's models, so they have the head revision's shape.
    out: dict[str, Any] = {"format": FORMAT, "revision": migrations.head(), "tables": {}}
    inspector = sa.inspect(conn)
    for table in tables():
        if not inspector.has_table(table.name):
            continue
        cols = list(table.columns)
        enc = [_encoder(c) for c in cols]
        query = sa.select(*cols).order_by(*_order(table))
        if table.name == "sandboxsetting":
            query = query.where(table.c.key.not_in(KEPT_SETTINGS))
        rows = conn.execute(query).all()
        out["tables"][table.name] = {
            "columns": [c.name for c in cols],
            "rows": [[f(v) for f, v in zip(enc, row, strict=True)] for row in rows],
        }
    return out


def counts(snapshot: dict[str, Any]) -> dict[str, int]:
    return {name: len(t["rows"]) for name, t in snapshot["tables"].items()}


def revision_of(snapshot: dict[str, Any]) -> str:
    """The schema revision a (checked) snapshot's rows are shaped for; none recorded means the baseline."""
    from marketplace import migrations

    return snapshot.get("revision") or migrations.BASELINE


def check(snapshot: Any) -> dict[str, Any]:
    """The snapshot's shape, strictly: format, a revision this version knows, tables of lists of rows."""
    from marketplace import migrations

    if not isinstance(snapshot, dict) or snapshot.get("format") not in (FORMAT, UNSIGNED_FORMAT):
        got = snapshot.get("format") if isinstance(snapshot, dict) else type(snapshot).__name__
        raise InvalidInput("snapshot", got, f"a snapshot of format {FORMAT!r}")
    revision = snapshot.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise InvalidInput("snapshot.revision", revision, f"a schema revision such as {migrations.head()!r}")
    if not migrations.known(revision):
        raise InvalidInput(
            "snapshot.revision",
            revision,
            f"revision {migrations.head()!r} or older: the snapshot was saved by a newer release of "
            "marketplace; restore it with that release",
        )
    data_tables = snapshot.get("tables")
    if not isinstance(data_tables, dict):
        raise InvalidInput("snapshot.tables", type(data_tables).__name__, "an object of tables")
    at_head = revision_of(snapshot) == migrations.head()
    known = {t.name: t for t in tables()}
    for name, data in data_tables.items():
        if name in EXCLUDED and snapshot["format"] == UNSIGNED_FORMAT:
            continue  # an earlier release saved the log too: it is not restored
        where = f"snapshot.tables.{name}"
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("columns"), list)
            or not isinstance(data.get("rows"), list)
        ):
            raise InvalidInput(where, type(data).__name__, "an object with a list of columns and of rows")
        columns = data["columns"]
        if not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns):
            raise InvalidInput(f"{where}.columns", columns, "distinct column names")
        width = len(columns)
        for i, row in enumerate(data["rows"]):
            if not isinstance(row, list) or len(row) != width:
                raise InvalidInput(f"{where}.rows[{i}]", row, f"a list of {width} values, one per column")
        if not at_head:
            continue  # an older revision's tables are checked against that revision when it is upgraded
        if name not in known:
            names = ", ".join(sorted(known))
            raise InvalidInput("snapshot.tables", name, f"a table of this version: {names}")
        expected = list(known[name].columns.keys())
        if set(columns) != set(expected):
            wrong = sorted(set(columns) ^ set(expected))
            raise InvalidInput(
                f"{where}.columns", wrong, "exactly the columns of this version: " + ", ".join(expected)
            )
        _decoded_rows(known[name], data)  # every value of every row, by its column's type
    return snapshot


# ---------------------------------------------------------------- MAC


def _mac_body(snapshot: dict[str, Any]) -> bytes:
    body = {k: snapshot.get(k) for k in ("format", "revision", "tables")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(snapshot: dict[str, Any], key: Any) -> dict[str, Any]:
    """The snapshot with its MAC under the audit key (`key`: an `auditkey.AuditKey`)."""
    body = {k: v for k, v in snapshot.items() if k != "mac"}
    return {**body, "key_id": key.key_id, "mac": key.mac(_mac_body(body), MAC_PURPOSE)}


def trust_problem(snapshot: dict[str, Any], key: Any, *, accept_unsigned: bool = False) -> str:
    """Why a (checked) snapshot cannot be trusted under `key` ('' when it can)."""
    if snapshot.get("format") == UNSIGNED_FORMAT:
        if accept_unsigned:
            return ""
        return (
            "it carries no MAC (saved by an earlier release, or stripped): restore it only if you trust "
            "where it came from, with --accept-unsigned"
        )
    if snapshot.get("key_id") != key.key_id:
        return (
            f"it was saved under audit key id {snapshot.get('key_id')!r}, not this key ({key.key_id}): use "
            "the same MARKETPLACE_AUDIT_KEY where it was saved and where it is restored"
        )
    if not key.matches(_mac_body(snapshot), snapshot.get("mac", ""), MAC_PURPOSE):
        return "its MAC does not match its content (the checkpoint was changed after it was saved)"
    return ""


def seats_with_role(snapshot: dict[str, Any], role: str) -> set[tuple[int, str]]:
    """(account id, join-code digest) of every seat the snapshot keeps whose account holds `role`: a restore
    must not lock the trainer out."""
    data = snapshot["tables"]

    def rows(name: str) -> list[dict[str, Any]]:
        t = data.get(name) or {"columns": [], "rows": []}
        return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]

    holders = {r.get("account_id") for r in rows("accountrole") if r.get("role") == role}
    return {
        (p["account_id"], p["join_code_hash"]) for p in rows("participant") if p.get("account_id") in holders
    }


def _decoded_rows(table: sa.Table, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one table decoded by its column types; a value that does not decode names its place."""
    cols = [table.columns[name] for name in data["columns"]]
    dec = [_decoder(c) for c in cols]
    out = []
    for i, row in enumerate(data["rows"]):
        decoded = {}
        for col, f, value in zip(cols, dec, row, strict=True):
            try:
                decoded[col.name] = f(value)
            except (TypeError, ValueError, InvalidOperation) as exc:
                shown = value if len(repr(value)) <= 80 else f"{repr(value)[:77]}..."
                raise InvalidInput(
                    f"snapshot.tables.{table.name}.rows[{i}].{col.name}", shown, f"a {col.type} value ({exc})"
                ) from exc
        out.append(decoded)
    return out


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    try:
        for start in range(0, len(rows), 1000):
            conn.execute(table.insert(), rows[start : start + 1000])
    except (sa.exc.StatementError, LookupError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise InvalidInput(f"snapshot.tables.{table.name}", reason, "rows the schema accepts") from exc


def upgrade_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of an older revision, brought to head by the sandbox's own migrations.

    Its rows go into a scratch in-memory SQLite database built at the snapshot's revision; the migrations run;
    the result is read back as a snapshot of this version.
    """
    from alembic import command

    from marketplace import migrations

    check(snapshot)
    revision = revision_of(snapshot)
    if revision == migrations.head():
        return snapshot
    scratch = sa.create_engine("sqlite://", poolclass=StaticPool)  # foreign keys off: any load order
    try:
        with scratch.begin() as conn:
            command.upgrade(migrations.config(conn), revision)
            then = sa.MetaData()
            then.reflect(conn)
            for name, data in snapshot["tables"].items():
                table = then.tables.get(name)
                if name in EXCLUDED and snapshot["format"] == UNSIGNED_FORMAT:
                    continue  # an earlier release saved the log too: it is not restored
                if table is None or name in EXCLUDED or name == migrations.VERSION_TABLE:
                    raise InvalidInput("snapshot.tables", name, f"a table of schema revision {revision}")
                unknown = sorted(set(data["columns"]) - set(table.columns.keys()))
                if unknown:
                    names = ", ".join(table.columns.keys())
                    raise InvalidInput(
                        f"snapshot.tables.{name}.columns",
                        unknown,
                        f"columns of schema revision {revision}: {names}",
                    )
                _insert(conn, table, _decoded_rows(table, data))
            command.upgrade(migrations.config(conn), "head")
            return take_snapshot(conn)
    finally:
        scratch.dispose()


def _lock_all(conn: Connection, covered: list[sa.Table]) -> None:
    """On PostgreSQL, keep every other session out while the tables are swapped (SQLite: the write lock
    does)."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in covered)
        conn.execute(sa.text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))


def _reset_sequences(conn: Connection, covered: list[sa.Table]) -> None:
    """PostgreSQL serial columns must continue after the restored ids, or the next insert collides."""
    if conn.dialect.name != "postgresql":
        return
    for table in covered:
        for col in table.primary_key.columns:
            if not (isinstance(col.type, sa.Integer) and col.autoincrement in (True, "auto")):
                continue
            seq = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}
            ).scalar()
            if seq:
                top = conn.execute(sa.select(sa.func.max(col))).scalar()
                conn.execute(
                    sa.text("SELECT setval(:s, :v, :called)"),
                    {"s": seq, "v": top or 1, "called": top is not None},
                )


def restore_snapshot(conn: Connection, snapshot: dict[str, Any]) -> dict[str, int]:
    """Replace the content of every covered table by the snapshot's rows (inside the caller's transaction).

    Every row is decoded first, so a bad snapshot is refused before any table is touched. Tables the snapshot
    does not mention are emptied too, so the marketplace is exactly what was saved; the audit log and its
    head are left as they are. A snapshot of an older schema revision is upgraded first
    (`upgrade_snapshot`); a newer one is refused with nothing changed.
    """
    snapshot = upgrade_snapshot(check(snapshot))
    covered = [t for t in tables() if sa.inspect(conn).has_table(t.name)]
    decoded: dict[str, list[dict[str, Any]]] = {}
    for table in covered:
        data = snapshot["tables"].get(table.name)
        rows = _decoded_rows(table, data) if data and data["rows"] else []
        if table.name == "sandboxsetting":
            rows = [r for r in rows if r.get("key") not in KEPT_SETTINGS]
        decoded[table.name] = rows
    _lock_all(conn, covered)
    for table in reversed(covered):
        statement = table.delete()
        if table.name == "sandboxsetting":
            statement = statement.where(table.c.key.not_in(KEPT_SETTINGS))
        conn.execute(statement)
    restored: dict[str, int] = {}
    for table in covered:
        rows = decoded[table.name]
        if rows:
            _insert(conn, table, rows)
        restored[table.name] = len(rows)
    _reset_sequences(conn, covered)
    return restored


def snapshot_engine(engine: Engine) -> dict[str, Any]:
    """A consistent snapshot of the database behind `engine` (one read transaction)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        return take_snapshot(conn)


def write_file(snapshot: dict[str, Any], path: str | Path) -> Path:
    """Save a snapshot as JSON (gzip-compressed when the name ends in .gz)."""
    path = Path(path)
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def read_file(path: str | Path, *, limit: int = MAX_FILE_BYTES) -> dict[str, Any]:
    """A snapshot file (JSON, or gzip-compressed JSON), at most `limit` bytes once decompressed, checked."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", str(path), "an existing snapshot file")
    try:
        with path.open("rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
            stream: Any = gzip.GzipFile(fileobj=fh) if compressed else fh
            raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise InvalidInput("path", str(path), f"a snapshot of at most {limit // 2**20} MB uncompressed")
        data = json.load(io.BytesIO(raw))
    except (OSError, EOFError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput("path", str(path), f"a JSON snapshot file ({exc})") from exc
    return check(data)
