"""Schema revisions: the models agree with head, new databases start at head, a database made by the previous
release (no revision recorded) is upgraded on start and keeps working, a newer one is refused in one line.

The previous release's sandbox is `tests/data/previous-release/sandbox.sql.gz`: a SQL dump of the database
that release made with `marketplace seed --seed 7 --size small`, `marketplace workshop create -n 3 --roles
department=1,enterprise=1,steward=1`, `marketplace clock advance --days 3`, `marketplace workshop checkpoint
start --export start.json.gz` and `marketplace workshop release` (roster.csv holds the join codes it printed).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from marketplace import db, migrations
from marketplace.errors import SchemaError

PREVIOUS = Path(__file__).resolve().parents[1] / "data" / "previous-release"
NEWER = "9999"
# tables a later revision retires, with where their content went: not expected to survive an upgrade
RETIRED = {"noiseledgerentry": "0004: the ε it recorded is carried into computeallowance (epsilon_resource)"}


def stored_rows(engine: sa.Engine, like: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Every row of every table as stored, read through the database's own schema (not the models, which may
    be newer): {table: sorted rows}. With `like` (another result), only its tables and columns are read."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        for name, table in meta.tables.items():
            if name == "alembic_version" or name in RETIRED or (like is not None and name not in like):
                continue
            columns = [c for c in table.columns if like is None or c.name in like[name]]
            rows = conn.execute(sa.select(*columns)).all()
            out[name] = [json.dumps([c.name for c in columns]), *sorted(map(repr, rows))]
    return out


def columns_of(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: json.loads(values[0]) for name, values in rows.items()}  # the header stored_rows writes


def previous_release_sandbox(path: Path) -> str:
    """The previous release's sandbox as a SQLite file; returns its URL."""
    conn = sqlite3.connect(path)
    conn.executescript(gzip.decompress((PREVIOUS / "sandbox.sql.gz").read_bytes()).decode())
    conn.close()
    return f"sqlite:///{path}"


def seats() -> dict[str, str]:
    with (PREVIOUS / "roster.csv").open(encoding="utf-8") as fh:
        return {row["group"]: row["join_code"] for row in csv.DictReader(fh)}


def cli(*args: str, url: str, home: Path) -> subprocess.CompletedProcess:
    """The `marketplace` console entry point in a new process, as a user runs it."""
    env = {**os.environ, "MARKETPLACE_DB_URL": url, "MARKETPLACE_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", "from marketplace.cli import run; run()", *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """The same entry point in this process (exit status, stdout, stderr), for the many-command tests."""
    from marketplace.cli import run

    def invoke(*args: str, url: str, home: Path) -> subprocess.CompletedProcess:
        monkeypatch.setenv("MARKETPLACE_DB_URL", url)
        monkeypatch.setenv("MARKETPLACE_HOME", str(home))
        db.dispose_engines()
        capsys.readouterr()
        try:
            run(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - run() always exits
            code = 0
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return invoke


def revision_in(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.current(conn)


# ------------------------------------------------------------------------------------------- head and models


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_models_and_the_head_revision_agree(backend: str, request: pytest.FixtureRequest) -> None:
    """Replaying every revision gives exactly the models' schema: a model change needs a revision."""
    url = "sqlite://" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "head")
        assert migrations.current(conn) == migrations.head()
        diff = migrations.differences(conn)
    engine.dispose()
    assert diff == [], (
        f"the models differ from schema revision {migrations.head()}: {diff}; write a revision with "
        "`python -m marketplace.migrations revision -m 'what changed'` and read it before committing"
    )


def test_revisions_form_one_line_from_the_baseline() -> None:
    chain = migrations.history()
    assert chain[0].revision == migrations.BASELINE and chain[0].down_revision is None
    assert [s.down_revision for s in chain[1:]] == [s.revision for s in chain[:-1]]
    assert chain[-1].revision == migrations.head()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_new_database_is_created_at_head(backend: str, request: pytest.FixtureRequest,
                                           tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    change = db.upgrade_schema(engine)
    assert change is not None and change.created and change.after == migrations.head()
    assert db.upgrade_schema(engine) is None  # the usual start: nothing to do
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert migrations.differences(conn) == []
        assert conn.execute(sa.text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("round_", range(12))  # the journal-mode race lost about one round in four
def test_processes_opening_a_new_database_at_once_create_and_record_it_once(tmp_path: Path,
                                                                          round_: int) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    engines = [db.make_engine(url) for _ in range(4)]
    results: list[object] = []
    barrier = threading.Barrier(len(engines))

    def open_it(engine: sa.Engine) -> None:
        barrier.wait()
        try:
            results.append(migrations.upgrade(engine))
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=open_it, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r is not None and r.created) == 1
    with engines[0].connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
            migrations.head()
        ]
    for e in engines:
        e.dispose()


def test_reset_leaves_an_empty_sandbox_at_head(tmp_path: Path) -> None:
    engine = db.make_engine(previous_release_sandbox(tmp_path / "old.db"))
    db.reset(engine)
    assert revision_in(engine) == migrations.head()
    assert not db.is_seeded(engine)
    engine.dispose()


# ------------------------------------------------------------------------------- the previous release


def test_the_previous_release_sandbox_is_upgraded_on_start_and_keeps_working(tmp_path: Path, run_cli,
                                                                              monkeypatch) -> None:
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))  # one data directory, so one audit key, throughout
    url = previous_release_sandbox(tmp_path / "sandbox.db")
    engine = db.make_engine(url)
    assert revision_in(engine) is None and db.is_seeded(engine)
    before = stored_rows(engine)

    first = cli("info", url=url, home=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 1, first.stderr
    assert "made by an earlier release" in lines[0] and f"revision {migrations.head()}" in lines[0]
    assert "organization" in first.stdout
    assert revision_in(engine) == migrations.head()
    assert stored_rows(engine, columns_of(before)) == before  # every row kept
    with engine.connect() as conn:
        assert migrations.differences(conn) == []

    again = cli("audit", "verify", url=url, home=tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr  # said once, not on every start
    assert "audit chain intact" in again.stdout

    # the steps of a session go on: trainer, participants, the clock, the old checkpoint, the audit chain
    from marketplace.workflows import audit
    from marketplace.workshop import facilitate, join

    codes = seats()
    fac = facilitate(codes["trainer"], engine)
    ent = join(codes["enterprise"], engine)
    dep = join(codes["department"], engine)
    product = next(c for c in ent.catalog() if c["kind"] == "product")
    filed = ent.file_request(purpose="industry_development", product=product["code"], volume=50)
    ent.accept_quote(filed.subject_id)
    resource = next(c for c in dep.catalog() if "sharing" in c["channels"])
    dep.file_request(purpose="public_governance", resource=resource["code"], channel="sharing")
    fac.advance_clock(5)
    assert len(ent.my_requests()) == 1
    # saved by the previous release, with no revision recorded and no MAC: the trainer vouches for it
    restored = fac.restore("start", accept_unsigned=True)
    assert restored["organization"] > 0 and len(ent.my_requests()) == 0
    with db.session_scope(engine) as s:
        assert audit.verify_chain(s).ok
    done = run_cli("clock", "advance", "--days", "2", "--trainer-code", codes["trainer"], url=url,
                   home=tmp_path)
    assert done.returncode == 0, done.stderr
    verify = run_cli("audit", "verify", url=url, home=tmp_path)
    assert verify.returncode == 0 and "audit chain intact" in verify.stdout, verify.stderr
    engine.dispose()


def test_make_lab_and_the_panels_upgrade_the_previous_release_sandbox(tmp_path: Path, monkeypatch,
                                                                      caplog) -> None:
    from click.testing import CliRunner

    from marketplace.cli import main
    from marketplace.synth import ensure_seeded

    for how in ("seed --if-empty", "panels"):
        url = previous_release_sandbox(tmp_path / f"{how.split()[0]}.db")
        monkeypatch.setenv("MARKETPLACE_DB_URL", url)
        db.dispose_engines()
        engine = db.get_engine()
        before = stored_rows(engine)
        if how == "panels":
            with caplog.at_level("WARNING", logger="marketplace.db"):
                assert ensure_seeded(engine) is False
            assert [r.getMessage() for r in caplog.records if "earlier release" in r.getMessage()]
        else:
            result = CliRunner().invoke(main, ["seed", "--if-empty"])
            assert result.exit_code == 0, result.output
            assert "made by an earlier release" in result.stderr and "already seeded" in result.stdout
        assert revision_in(engine) == migrations.head()
        assert stored_rows(engine, columns_of(before)) == before


@pytest.mark.postgres
def test_a_previous_release_database_on_postgresql_is_upgraded(pg_url: str) -> None:
    """On PostgreSQL the previous release created the tables from the models, with no revision."""
    from marketplace.workflows import audit
    from marketplace.workshop import facilitate
    from marketplace.workshop.snapshot import read_file, restore_snapshot

    engine = db.make_engine(pg_url)
    SQLModel.metadata.create_all(engine)  # what the previous release did
    with engine.begin() as conn:
        restore_snapshot(conn, read_file(PREVIOUS / "start.json.gz"))
    before = stored_rows(engine)
    assert revision_in(engine) is None

    change = db.upgrade_schema(engine)
    assert change is not None and change.earlier_release and change.after == migrations.head()
    assert revision_in(engine) == migrations.head() and stored_rows(engine, columns_of(before)) == before
    with engine.connect() as conn:
        assert migrations.differences(conn) == []
    fac = facilitate(seats()["trainer"], engine)
    fac.advance_clock(1)
    with db.session_scope(engine) as s:
        assert audit.verify_chain(s).ok
    engine.dispose()


def test_the_baseline_completes_a_sandbox_from_an_even_earlier_release(tmp_path: Path) -> None:
    url = previous_release_sandbox(tmp_path / "older.db")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE usagereport")  # as before usage reports existed
    before = stored_rows(engine)
    change = db.upgrade_schema(engine)
    assert change is not None and change.earlier_release
    assert sa.inspect(engine).has_table("usagereport") and stored_rows(engine, columns_of(before)) == before
    with engine.connect() as conn:
        assert migrations.differences(conn) == []
    engine.dispose()


# ------------------------------------------------------------------------------------- newer databases


def test_a_database_from_a_newer_release_is_refused_in_one_line_and_left_alone(tmp_path: Path,
                                                                               run_cli) -> None:
    url = previous_release_sandbox(tmp_path / "newer.db")
    engine = db.make_engine(url)
    db.upgrade_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    before = stored_rows(engine)
    with pytest.raises(SchemaError, match=NEWER):
        db.upgrade_schema(engine)
    for args in (["info"], ["db", "upgrade"], ["seed", "--yes"], ["reset", "--yes"], ["audit", "verify"]):
        out = run_cli(*args, url=url, home=tmp_path)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 2 and len(lines) == 1, (args, out.stderr)
        assert NEWER in lines[0] and repr(migrations.head()) in lines[0] and "newer" in lines[0]
    assert revision_in(engine) == NEWER and stored_rows(engine, columns_of(before)) == before
    current = run_cli("db", "current", "--json", url=url, home=tmp_path)
    assert current.returncode == 0
    assert json.loads(current.stdout)["state"] == "newer than this version of marketplace"
    engine.dispose()


# ------------------------------------------------------------------------------------ the db commands


def test_db_commands_for_servers(tmp_path: Path, run_cli) -> None:
    url = previous_release_sandbox(tmp_path / "server.db")
    state = json.loads(run_cli("db", "current", "--json", url=url, home=tmp_path).stdout)
    assert state["revision"] is None and state["head"] == migrations.head()
    assert state["state"].startswith("made by an earlier release")

    sql = run_cli("db", "upgrade", "--sql", url=url, home=tmp_path)
    assert sql.returncode == 0, sql.stderr
    assert "CREATE TABLE IF NOT EXISTS organization" in sql.stdout
    assert "INSERT INTO alembic_version" in sql.stdout
    assert revision_in(db.make_engine(url)) is None  # --sql only prints

    up = run_cli("db", "upgrade", url=url, home=tmp_path)
    assert up.returncode == 0 and "made by an earlier release" in up.stdout, up.stderr
    again = run_cli("db", "upgrade", url=url, home=tmp_path)
    assert again.returncode == 0 and f"already at revision {migrations.head()}" in again.stdout
    nothing = run_cli("db", "upgrade", "--sql", url=url, home=tmp_path)
    assert "nothing to do" in nothing.stdout

    current = run_cli("db", "current", url=url, home=tmp_path)
    assert f"revision: {migrations.head()}  (current)" in current.stdout
    history = run_cli("db", "history", url=url, home=tmp_path)
    assert history.stdout.splitlines()[-1].startswith(migrations.head())
    assert "(current, head)" in history.stdout
    rows = json.loads(run_cli("db", "history", "--json", url=url, home=tmp_path).stdout)
    assert [r["revision"] for r in rows] == [s.revision for s in migrations.history()]
    assert rows[-1]["current"] and rows[-1]["head"]


# -------------------------------------------------------------------------------- a later revision


LATER = '''"""A later revision, for the tests: a table rebuilt in batch mode (SQLite cannot alter a
column's type in place) under every other table's foreign keys, a column added, and a data change."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("motto", sa.String(length=40), nullable=True))
        batch.alter_column("region", existing_type=sa.String(length=100), type_=sa.String(length=120))
    op.execute("UPDATE organization SET region = upper(region)")


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.alter_column("region", existing_type=sa.String(length=120), type_=sa.String(length=100))
        batch.drop_column("motto")
'''


@pytest.fixture
def later_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The package's revisions plus a later one, used in place of the package's."""
    location = tmp_path / "migrations"
    shutil.copytree(migrations.script_location(), location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "9999_later.py").write_text(LATER.format(head=migrations.head()))
    monkeypatch.setattr(migrations, "script_location", lambda: str(location))
    assert migrations.head() == "9999"
    return str(location)


def test_a_later_revision_upgrades_a_sandbox_with_its_rows_and_foreign_keys(tmp_path: Path,
                                                                            later_revision: str) -> None:
    url = previous_release_sandbox(tmp_path / "sandbox.db")
    engine = db.make_engine(url)
    with engine.connect() as conn:
        regions = conn.execute(sa.text("SELECT id, region FROM organization ORDER BY id")).all()
        children = conn.execute(sa.text("SELECT COUNT(*) FROM account")).scalar()
    change = db.upgrade_schema(engine)
    assert change is not None and change.earlier_release and change.after == "9999"
    assert "to revision 9999" in change.line()
    with engine.connect() as conn:
        assert migrations.current(conn) == "9999"
        columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("organization")}
        assert "motto" in columns and columns["region"].length == 120  # the table was rebuilt
        after = conn.execute(sa.text("SELECT id, region FROM organization ORDER BY id")).all()
        assert after == [(i, r.upper()) for i, r in regions]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM account")).scalar() == children
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # switched back on
    engine.dispose()

    # a database already at the baseline goes from revision to revision, and says so
    other = db.make_engine(previous_release_sandbox(tmp_path / "at-baseline.db"))
    with other.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
    change = db.upgrade_schema(other)
    assert change is not None and (change.before, change.after) == (migrations.BASELINE, "9999")
    assert change.line().endswith(f"from revision {migrations.BASELINE} to 9999")
    other.dispose()


def test_a_checkpoint_of_an_older_revision_is_upgraded_on_restore(later_revision: str) -> None:
    from marketplace.workshop.snapshot import read_file, restore_snapshot, upgrade_snapshot

    old = read_file(PREVIOUS / "start.json.gz")  # saved by the previous release: no revision
    assert "revision" not in old
    new = upgrade_snapshot(old)
    assert new["revision"] == "9999"
    regions = [r[new["tables"]["organization"]["columns"].index("region")]
               for r in new["tables"]["organization"]["rows"]]
    assert regions and all(r == r.upper() for r in regions)
    # the audit log and its head are history, not state: an upgraded snapshot leaves them out
    expected = {k: len(v["rows"]) for k, v in old["tables"].items() if v["rows"] and k != "auditevent"}
    expected["sandboxsetting"] -= 1
    assert {k: len(v["rows"]) for k, v in new["tables"].items() if v["rows"]} == expected

    target = sa.create_engine("sqlite://", poolclass=StaticPool)
    db.upgrade_schema(target)
    with target.begin() as conn:
        restore_snapshot(conn, old)
        assert conn.execute(sa.text("SELECT COUNT(*) FROM organization WHERE region != upper(region)")
                            ).scalar() == 0
    target.dispose()


def test_the_developer_command_writes_the_next_numbered_revision(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from marketplace.migrations.__main__ import main as developer

    location = tmp_path / "migrations"
    shutil.copytree(migrations.script_location(), location, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "script_location", lambda: str(location))
    head = migrations.head()
    following = f"{int(head) + 1:04d}"
    result = CliRunner().invoke(developer, ["revision", "-m", "add review notes"])
    assert result.exit_code == 0, result.output
    written = location / "versions" / f"{following}_add_review_notes.py"
    assert f"wrote {written}" in result.output
    text = written.read_text().replace("'", '"')
    assert f'revision: str = "{following}"' in text and f'down_revision: str | None = "{head}"' in text
    body = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "op." not in body  # the models equal head: nothing to change


def test_the_retired_noise_ledger_carries_its_epsilon_into_the_one_ledger(tmp_path: Path) -> None:
    """A previous-release sandbox that recorded ε in `noiseledgerentry` keeps it spent after the upgrade: the
    resource's allowance holds the sum, and the retired table is gone."""
    url = previous_release_sandbox(tmp_path / "sandbox.db")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO noiseledgerentry (resource_id, epsilon, mechanism, query, at) VALUES "
            "(1, 0.25, 'laplace', 'a', '2025-01-02 00:00:00'), "
            "(1, 0.5, 'laplace', 'b', '2025-01-03 00:00:00'), "
            "(2, 1.0, 'laplace', 'c', '2025-01-04 00:00:00')"
        )
    db.create_all(engine)  # what every entry point does with an older sandbox
    assert revision_in(engine) == migrations.head()
    assert not sa.inspect(engine).has_table("noiseledgerentry")
    from sqlmodel import Session

    from marketplace.privacy.ledger import epsilon_spent

    with Session(engine) as session:
        assert epsilon_spent(session, 1) == pytest.approx(0.75) and epsilon_spent(session, 2) == 1.0
    engine.dispose()
