"""`marketplace simulate | compare | sweep` end to end (on the hand-built world, short horizons)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from marketplace.cli import run as cli


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_simulate_prints_table_and_writes_identical_json(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code, out, _ = _cli(
        ["simulate", "national-2025", "--seed", "3", "--days", "30", "--json", str(a)], capsys
    )
    assert code == 0 and "waiting_days_p90" in out and "budget: payments" in out
    _cli(["simulate", "national-2025", "--seed", "3", "--days", "30", "--json", str(b)], capsys)
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["seed"] == 3 and doc["days"] == 30 and doc["metrics"]["arrivals"] > 0


def test_compare_prints_intervals_and_plots(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "diff.png"
    code, out, _ = _cli(
        ["compare", "national-2025", "sme-discount", "--seeds", "2", "--days", "20", "--plot", str(png)],
        capsys,
    )
    assert code == 0 and "B - A" in out and "±" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_sweep_writes_parquet(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "s.parquet"
    code, out, _ = _cli(
        [
            "sweep",
            "national-2025",
            "--param",
            "review.capacity.holder=30,60",
            "--seeds",
            "2",
            "--days",
            "20",
            "--workers",
            "2",
            "--out",
            str(out_file),
        ],
        capsys,
    )
    assert code == 0, out
    df = pd.read_parquet(out_file)
    assert len(df) == 4 and set(df["review.capacity.holder"]) == {"30", "60"}


def test_sweep_on_a_dask_scheduler(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster

    out_file = tmp_path / "d.parquet"
    with LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as cluster:
        code, out, _ = _cli(
            [
                "sweep",
                "national-2025",
                "--param",
                "review.capacity.holder=30,60",
                "--seeds",
                "2",
                "--days",
                "20",
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(out_file),
            ],
            capsys,
        )
    assert code == 0, out
    from marketplace.sim import apply_overrides, load_scenario, run

    got = pd.read_parquet(out_file)
    sc = load_scenario("national-2025")
    want = [
        run(apply_overrides(sc, {"review.capacity.holder": v}), s, 20).metrics["filed"]
        for v in (30, 60)
        for s in (1, 2)
    ]
    assert got["filed"].tolist() == want


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["simulate", "no-such"], "no-such"),
        (["simulate", "national-2025", "--days", "0"], "--days"),
        (["sweep", "national-2025", "--param", "nonsense", "--out", "x.parquet"], "--param"),
        (
            ["sweep", "national-2025", "--param", "review.capacty.holder=1,2", "--out", "x.parquet"],
            "review.capacty",
        ),
    ],
)
def test_user_errors_are_one_clear_line_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(argv, capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err


def test_a_scheduler_without_the_distributed_extra_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dask is the optional [distributed] extra: without it, --scheduler is refused in one line saying so."""
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: importing it raises
    out = tmp_path / "x.parquet"
    argv = ["sweep", "national-2025", "--param", "review.capacity.holder=1,2", "--scheduler", "tcp://x:1"]
    code, _, err = _cli([*argv, "--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--scheduler" in err and "public-data-marketplace[distributed]" in err
    assert not out.exists()


def test_sweep_writes_csv_plots_and_reports_small_firms_with_intervals(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file, svg = tmp_path / "s.csv", tmp_path / "s.svg"
    argv = ["sweep", "national-2025", "--param", "policy.overrides.pricing.caps.per_product=2500,20000"]
    code, out, err = _cli(
        [*argv, "--seeds", "2", "--days", "20", "--workers", "1", "--out", str(out_file), "--plot", str(svg)],
        capsys,
    )
    assert code == 0, err
    df = pd.read_csv(out_file)
    assert len(df) == 4 and "filed.enterprise_small" in df.columns
    assert "Small firms' access, mean over 2 seeds [95 % interval]" in out
    assert out.count("Mean price paid · small") == 2 and out.count("[") >= 12
    assert "<svg" in svg.read_text(encoding="utf-8")[:400]


@pytest.mark.parametrize(
    ("option", "value"), [("--out", "runs.xlsx"), ("--out", "runs"), ("--plot", "chart.pdf")]
)
def test_sweep_file_formats_follow_the_suffix_else_one_line_exit_2(
    tmp_path: Path, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sweep", "national-2025", "--param", "review.capacity.holder=1,2"]
    argv += ["--out", str(tmp_path / "x.csv")]
    if option == "--out":
        argv[-1] = str(tmp_path / value)
    else:
        argv += ["--plot", str(tmp_path / value)]
    code, _, err = _cli(argv, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and option in err and value in err, err
    assert ".csv / .parquet" in err or ".png / .svg" in err
    assert list(tmp_path.iterdir()) == []


def test_compare_plots_svg_and_refuses_other_formats(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = tmp_path / "diff.svg"
    argv = ["compare", "national-2025", "sme-discount", "--seeds", "1", "--days", "10", "--plot"]
    code, _, err = _cli([*argv, str(svg)], capsys)
    assert code == 0, err
    assert "<svg" in svg.read_text(encoding="utf-8")[:400]
    code, _, err = _cli([*argv, str(tmp_path / "d.jpg")], capsys)
    assert code == 2 and "--plot" in err and len(err.strip().splitlines()) == 1


def _free_loopback_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)  # a hang guard: the command itself must give up after its 10 s timeout
def test_a_scheduler_on_an_unused_port_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.parquet"
    address = f"tcp://127.0.0.1:{_free_loopback_port()}"
    argv = ["sweep", "national-2025", "--param", "review.capacity.holder=1,2", "--scheduler", address]
    code, _, err = _cli([*argv, "--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--scheduler" in err and address in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.timeout(60)
def test_a_scheduler_address_that_never_answers_fails_within_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listener that accepts and stays silent (what hung for 24 minutes): refused after the timeout."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        out = tmp_path / "x.parquet"
        argv = ["sweep", "national-2025", "--param", "review.capacity.holder=1,2", "--scheduler", address]
        code, _, err = _cli([*argv, "--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--scheduler" in err and address in err and "within 10 s" in err
    assert not out.exists()


def test_simulate_writes_its_events_as_parquet_chunks(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str]
) -> None:
    events, metrics = tmp_path / "events", tmp_path / "m.json"
    events.mkdir()
    argv = ["simulate", "national-2025", "--seed", "3", "--days", "30"]
    code, out, err = _cli([*argv, "--events", str(events), "--json", str(metrics)], capsys)
    assert code == 0, err
    assert str(events) in out
    doc = json.loads(metrics.read_text())["metrics"]
    req = pd.concat(pd.read_parquet(p) for p in sorted((events / "requests").glob("part-*.parquet")))
    rv = pd.concat(pd.read_parquet(p) for p in sorted((events / "reviews").glob("part-*.parquet")))
    assert len(req) == doc["arrivals"] and len(rv) == doc["reviews"]
    assert int((req["filed_day"] >= 0).sum()) == doc["filed"]


def test_simulate_events_need_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative name: a long value is shortened in the message
    missing = tmp_path / "no-such-folder"
    code, _, err = _cli(["simulate", "national-2025", "--days", "5", "--events", "no-such-folder"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--events" in err and "no-such-folder" in err and "Traceback" not in err
    assert not missing.exists()


def test_sweep_in_chinese_names_the_parameter_in_words_and_lines_up_its_table(
    tmp_path: Path, patched_world: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketplace import i18n
    from marketplace.cli import columns

    monkeypatch.setenv("MARKETPLACE_LANG", "zh")
    i18n.reset_language()
    try:
        argv = ["sweep", "national-2025", "--param", "policy.overrides.pricing.caps.per_product=2500,20000"]
        code, out, err = _cli([*argv, "--seeds", "2", "--days", "10", "--workers", "1",
                               "--out", str(tmp_path / "s.csv")], capsys)
    finally:
        monkeypatch.delenv("MARKETPLACE_LANG")
        i18n.reset_language()
    assert code == 0, err
    assert "policy.overrides" not in out and "定价 › 价格上限" in out, out
    table = out.splitlines()[1:4]  # heading and one row per point
    assert len({columns(line) for line in table}) == 1, table  # every column ends where its heading ends
    assert table[1].startswith("定价 › 价格上限") and "= 2500" in table[1]


@pytest.mark.parametrize(("lang", "day", "run_word"), [("en", "day", "run"), ("zh", "天", "次")])
def test_progress_bars_count_in_the_session_language(
    lang: str, day: str, run_word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar's unit is a word of the language in force (it used to follow the English label's first word,
    so a Chinese run counted days as 'run')."""
    import tqdm

    from marketplace import i18n
    from marketplace.cli.sim_cmd import _progress

    made: list[dict[str, object]] = []
    monkeypatch.setattr(tqdm, "tqdm", lambda **kw: made.append(kw))  # what the terminal bar is given
    monkeypatch.setenv("MARKETPLACE_LANG", lang)
    i18n.reset_language()
    try:
        _progress(3, i18n.t("cli.sim.progress", scenario="x"))
        _progress(3, "y", "run")
        assert [kw["unit"] for kw in made] == [day, run_word]
    finally:
        monkeypatch.delenv("MARKETPLACE_LANG")
        i18n.reset_language()
