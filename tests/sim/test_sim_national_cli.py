"""`marketplace simulate --world national`: runs, says where its results are, resumes, refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace.cli import run as cli


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.timeout(300)
def test_national_run_prints_where_results_are_and_resumes(
    small_country: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code, out, err = _cli(
        ["simulate", str(small_country), "--days", "28", "--workers", "2", "--json", str(a)], capsys
    )
    assert code == 0, err
    assert "3 regions" in out and f"metrics written to {a}" in out
    ck = tmp_path / "ck"
    argv = ["simulate", str(small_country), "--days", "28", "--checkpoint", str(ck), "--json", str(b)]
    code, out, err = _cli(argv, capsys)
    assert code == 0, err
    assert f"checkpoints in {ck}" in out
    assert a.read_bytes() == b.read_bytes()
    code, out, err = _cli(argv, capsys)  # resumes from the last boundary: the same bytes again
    assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["regions"] == 3 and doc["metrics"]["cross_region_sent"] > 0
    code, out, err = _cli(["simulate", str(small_country), "--days", "7", "--executor", "inline"], capsys)
    assert code == 0 and "metrics written to " in out


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["simulate", "national-2025", "--workers", "2"], "--workers"),
        (["simulate", "national-2025", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
        (["simulate", "national-2025", "--world", "national", "--events", "."], "--events"),
        (["simulate", "national-2025", "--world", "national", "--db"], "--db"),
        (["simulate", "national-2025", "--world", "national", "--workers", "0"], "--workers"),
        (["simulate", "national-2025", "--world", "national", "--regions", "65"], "--regions"),
        (["simulate", "national-2025", "--world", "nation"], "--world"),
        (
            ["simulate", "national-2025", "--world", "national", "--executor", "inline", "--scheduler", "x"],
            "--executor",
        ),
        (
            ["simulate", "national-2025", "--world", "national", "--checkpoint", "/no/such/dir/ck"],
            "checkpoint",
        ),
    ],
)
def test_bad_national_input_is_one_line_and_exit_2(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(argv, capsys)
    assert code == 2
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and option in lines[0], err
    assert "Traceback" not in err


@pytest.mark.timeout(60)
def test_a_wrong_scheduler_address_fails_within_the_timeout(
    small_country: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(["simulate", str(small_country), "--scheduler", "tcp://127.0.0.1:9"], capsys)
    assert code == 2 and "--scheduler" in err and len(err.strip().splitlines()) == 1


@pytest.mark.timeout(300)
def test_national_run_on_an_existing_dask_cluster(
    small_country: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code, _, err = _cli(["simulate", str(small_country), "--days", "14", "--json", str(a)], capsys)
    assert code == 0, err
    with LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as cluster:
        code, out, err = _cli(
            ["simulate", str(small_country), "--days", "14", "--workers", "3", "--json", str(b),
             "--scheduler", cluster.scheduler_address],
            capsys,
        )  # fmt: skip
    assert code == 0, err
    assert "Dask dashboard:" in out and "on dask" in out
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(("lang", "words"), [("en", "optional Dask support"), ("zh", "可选的 Dask 支持")])
def test_the_dask_executor_without_the_distributed_extra_names_the_extra(
    lang: str,
    words: str,
    small_country: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without Dask installed, `--executor dask` is refused in one line, in the session's language, naming
    the option the user gave (not a --scheduler they did not) and the extra to install."""
    import sys

    from marketplace import i18n

    monkeypatch.setenv("MARKETPLACE_LANG", lang)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: importing it raises
    out = tmp_path / "m.json"
    argv = ["simulate", str(small_country), "--executor", "dask", "--days", "7", "--json", str(out)]
    i18n.reset_language()
    try:
        code, _, err = _cli(argv, capsys)
    finally:
        monkeypatch.delenv("MARKETPLACE_LANG")
        i18n.reset_language()
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--executor" in err and "--scheduler" not in err and "None" not in err
    assert words in err and "public-data-marketplace[distributed]" in err
    assert not out.exists()


@pytest.mark.timeout(300)
def test_a_checkpoint_of_another_version_is_refused_before_anything_starts(
    small_country: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checkpoints written by another version (another format) are refused in one line saying so, before the
    run prints its plan or writes anything."""
    ck, out = tmp_path / "ck", tmp_path / "m.json"
    argv = ["simulate", str(small_country), "--days", "56", "--checkpoint", str(ck)]
    code, _, err = _cli([*argv, "--json", str(tmp_path / "first.json")], capsys)
    assert code == 0, err
    victim = sorted(ck.iterdir())[0]
    data = victim.read_bytes()
    magic, header, payload = data.split(b"\n", 2)
    doc = json.loads(header)
    doc["format"] = 1
    victim.write_bytes(magic + b"\n" + json.dumps(doc).encode() + b"\n" + payload)
    code, stdout, err = _cli([*argv, "--json", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "format 1, from another version" in err and victim.name in err
    assert stdout == "" and not out.exists()
