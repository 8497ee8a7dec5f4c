"""Checkpoints record their schema revision; a newer one is refused in one line with nothing changed; a
snapshot file is bounded in size and checked strictly before anything reaches the database."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace import migrations
from marketplace.errors import InvalidInput
from marketplace.synth import canonical_dump
from marketplace.workshop import snapshot

from .conftest import Workshop

PREVIOUS = Path(__file__).resolve().parents[1] / "data" / "previous-release"


def test_a_checkpoint_records_its_schema_revision(workshop: Workshop, tmp_path: Path) -> None:
    workshop.fac.checkpoint("start")
    path = workshop.fac.export_checkpoint("start", tmp_path / "start.json.gz")
    saved = json.loads(gzip.decompress(path.read_bytes()))
    assert saved["revision"] == migrations.head()
    assert snapshot.revision_of(snapshot.read_file(path)) == migrations.head()


def newer_file(tmp_path: Path) -> Path:
    saved = snapshot.read_file(PREVIOUS / "start.json.gz")
    return snapshot.write_file({**saved, "revision": "9999"}, tmp_path / "newer.json.gz")


def test_a_checkpoint_from_a_newer_release_is_refused_and_nothing_changes(workshop: Workshop,
                                                                           tmp_path: Path) -> None:
    path = newer_file(tmp_path)
    before = canonical_dump(workshop.engine)
    expected = rf"snapshot\.revision: got '9999'; expected revision '{migrations.head()}' or"
    with pytest.raises(InvalidInput, match=expected):
        workshop.fac.import_checkpoint(path, "from-newer")
    newer = {**snapshot.read_file(PREVIOUS / "start.json.gz"), "revision": "9999"}
    with pytest.raises(InvalidInput, match="newer release"), workshop.engine.begin() as conn:
        snapshot.restore_snapshot(conn, newer)
    assert canonical_dump(workshop.engine) == before
    assert workshop.fac.checkpoints().empty


def test_restore_from_a_newer_file_on_the_command_line_is_one_line_and_exit_2(workshop: Workshop,
                                                                                tmp_path: Path) -> None:
    path = newer_file(tmp_path)
    before = canonical_dump(workshop.engine)
    env = {**os.environ, "MARKETPLACE_DB_URL": str(workshop.engine.url), "MARKETPLACE_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from marketplace.cli import run; run()", "workshop", "restore", "x",
         "--from-file", str(path), "--trainer-code", workshop.trainer.join_code],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "snapshot.revision" in lines[0] and "9999" in lines[0]
    assert f"'{migrations.head()}' or older" in lines[0]
    assert canonical_dump(workshop.engine) == before  # not even the trainer's last-seen time


def test_a_checkpoint_file_of_the_previous_release_restores(workshop: Workshop) -> None:
    with pytest.raises(InvalidInput, match="no MAC"):  # saved before checkpoints carried a MAC
        workshop.fac.import_checkpoint(PREVIOUS / "start.json.gz", "previous")
    workshop.fac.import_checkpoint(PREVIOUS / "start.json.gz", "previous", accept_unsigned=True)
    # its trainer is the previous release's: this trainer hands the workshop over explicitly
    restored = workshop.fac.restore("previous", accept_unsigned=True, hand_over=True)
    assert restored["organization"] > 0 and restored["participant"] == 4


def test_a_snapshot_file_is_bounded_in_size(tmp_path: Path) -> None:
    big = tmp_path / "big.json.gz"
    big.write_bytes(gzip.compress(b" " * (3 * 2**20) + b"{}"))  # small on disk, large once decompressed
    with pytest.raises(InvalidInput, match="at most 2 MB uncompressed"):
        snapshot.read_file(big, limit=2 * 2**20)
    with pytest.raises(InvalidInput, match="an existing snapshot file"):
        snapshot.read_file(tmp_path)


def test_a_snapshot_missing_a_column_of_this_version_is_refused() -> None:
    saved = snapshot.read_file(PREVIOUS / "start.json.gz")
    org = saved["tables"]["organization"]
    i = org["columns"].index("region")
    cut = {"columns": org["columns"][:i] + org["columns"][i + 1:],
           "rows": [r[:i] + r[i + 1:] for r in org["rows"]]}
    with pytest.raises(InvalidInput, match=r"snapshot.tables.organization.columns: got \['region'\]"):
        at_head = {**saved, "revision": migrations.head()}  # older revisions are checked when upgraded
        snapshot.check({**at_head, "tables": {**saved["tables"], "organization": cut}})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    revision=st.none() | st.sampled_from(["0001", "9999", ""]) | json_values,
    tables=st.dictionaries(st.sampled_from(["organization", "account", "nope"]),
                           st.fixed_dictionaries({"columns": json_values, "rows": json_values}) | json_values,
                           max_size=3) | json_values,
)
def test_any_malformed_snapshot_is_refused_as_bad_input(revision, tables) -> None:
    """Whatever a file holds, checking it either accepts it or names the field: never another error."""
    data = {"format": snapshot.FORMAT, "revision": revision, "tables": tables}
    try:
        snapshot.check(data)
    except InvalidInput as exc:
        assert str(exc).startswith("snapshot")
