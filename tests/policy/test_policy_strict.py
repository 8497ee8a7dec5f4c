"""Policy and scenario files are validated strictly (issue #19, point 2): nothing coerced, real dates, bounded
numbers and texts, files read safely, `extends` only inside the policies folder. Each finding is a test."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace import configfile
from marketplace.policy import PolicyFileError, load_policy, policy_dir
from marketplace.policy.schema import MAX_K
from marketplace.sim import ScenarioFileError, load_scenario

BASE = 'extends = "national-2025"\nname = "t"\nversion = "1"\n'


def write(tmp_path: Path, body: str | bytes, name: str = "p.toml") -> Path:
    path = tmp_path / name
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    return path


def one_line(path: Path, loader=load_policy, error=PolicyFileError) -> configfile.FileProblem:
    with pytest.raises(error) as info:
        loader(path)
    assert len(info.value.problems) == 1, str(info.value)
    assert "\n" not in str(info.value)
    return info.value.problems[0]


# ---------------------------------------------------------------- no coercion


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('[pricing]\ncaps_apply = "yes"\n', "pricing.caps_apply", "true or false"),
        ("[pricing]\ncaps_apply = 0\n", "pricing.caps_apply", "true or false"),
        ("[pricing]\ncaps_apply = 1\n", "pricing.caps_apply", "true or false"),
        ('[privacy]\nk = "7"\n', "privacy.k", "a whole number"),
        ("[privacy]\nk = 7.0\n", "privacy.k", "a whole number"),
        ("[privacy]\nk = true\n", "privacy.k", "a whole number"),
        ('[pricing.tax]\nrate = "six percent"\n', "pricing.tax.rate", "a decimal number"),
        ("[pricing.tax]\nrate = true\n", "pricing.tax.rate", "a number"),
        ('[purposes]\nfree = "research"\n', "purposes.free", "a list"),
        ("[disclosure]\ndeadline = 330\n", "disclosure.deadline", "text"),
        ('[calendar]\nextra_holidays = ["2025-10-09"]\n', "calendar.extra_holidays[0]", "a TOML date"),
    ],
)
def test_values_are_not_coerced(tmp_path: Path, body: str, key: str, expected: str) -> None:
    problem = one_line(write(tmp_path, BASE + body))
    assert problem.key == key and expected in problem.expected, problem


def test_overrides_are_strict_too() -> None:
    for overrides, key in (({"privacy.k": "7"}, "privacy.k"),
                           ({"pricing.caps_apply": 0}, "pricing.caps_apply")):
        with pytest.raises(PolicyFileError) as info:
            load_policy("national-2025", overrides)
        assert [p.key for p in info.value.problems] == [key]
    # amounts may be written as decimal text, as the shipped files do
    caps = load_policy("national-2025", {"pricing.caps.per_call": "0.45"}).pricing.caps
    assert str(caps.per_call) == "0.45"


@pytest.mark.parametrize("deadline", ["02-30", "02-31", "04-31", "06-31", "02-29", "13-01", "00-10"])
def test_deadline_is_a_day_of_every_year(tmp_path: Path, deadline: str) -> None:
    problem = one_line(write(tmp_path, BASE + f'[disclosure]\ndeadline = "{deadline}"\n'))
    assert problem.key == "disclosure.deadline" and problem.value == deadline


def test_a_real_deadline_is_kept(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, BASE + '[disclosure]\ndeadline = "03-31"\n'))
    assert policy.disclosure.deadline == "03-31"


# ---------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (f"[privacy]\nk = {MAX_K + 1}\n", "privacy.k"),
        ("[privacy]\nk = 100000000000000000000000\n", "privacy.k"),
        ("[privacy]\nl = 1000000\n", "privacy.l"),
        ("[conditions]\nmax_grant_days = 99999999999999\n", "conditions.max_grant_days"),
        ("[deadlines]\ncompliance = 100000\n", "deadlines.compliance"),
        ("[authorization]\nmax_term_years = 10000\n", "authorization.max_term_years"),
        ('[pricing.caps]\nper_call = "1e30"\n', "pricing.caps.per_call"),
        ("[pricing.caps]\nper_call = inf\n", "pricing.caps.per_call"),
        ("[pricing.caps]\nper_call = nan\n", "pricing.caps.per_call"),
        ("[compute]\nepsilon_per_query_max = 1e300\n", "compute.epsilon_per_query_max"),
        (f'description = "{"x" * 5000}"\n', "description"),
        (f'[sources]\n"privacy.k" = "{"x" * 5000}"\n', "sources.privacy.k"),
        ("[registration]\nvalidity_years = 101\n", "registration.validity_years"),
    ],
)
def test_every_number_and_text_is_bounded(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(PolicyFileError) as info:
        load_policy(write(tmp_path, BASE + body))
    assert key in [p.key for p in info.value.problems], str(info.value)[:500]


# ---------------------------------------------------------------- reading the file


@pytest.mark.parametrize(
    ("raw", "key", "needle"),
    [
        ('name = "caf\xe9"\n'.encode("latin-1"), "(encoding)", "UTF-8"),
        (bytes(range(256)) * 4, "(encoding)", "UTF-8"),
        (b"\x00\x01\x02binary", "(syntax)", "valid TOML"),
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "(syntax)", "nested at most"),
        (b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000 + b"\n", "(syntax)", "nested at most"),
        (b"x = 1\n" * 200_000, "(file)", "at most"),
    ],
)
@pytest.mark.timeout(60)
def test_bad_files_are_one_line(tmp_path: Path, raw: bytes, key: str, needle: str) -> None:
    problem = one_line(write(tmp_path, raw))
    assert problem.key == key and needle in problem.expected, problem


def test_devices_are_not_read(tmp_path: Path) -> None:
    problem = one_line(Path("/dev/zero"))
    assert problem.key == "(file)"


def test_brackets_in_strings_and_comments_do_not_count(tmp_path: Path) -> None:
    body = BASE + 'description = "' + "[" * 100 + '"\n# ' + "{" * 100 + "\n"
    assert load_policy(write(tmp_path, body)).description == "[" * 100


# ---------------------------------------------------------------- extends


@pytest.mark.parametrize(
    "base", ["/etc/passwd", "/etc/hostname", "../../../../etc/passwd", "../outside", "/dev/zero", "x" * 300]
)
def test_extends_stays_inside_the_policies_folders(tmp_path: Path, base: str) -> None:
    (tmp_path / "outside.toml").write_text(BASE, encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    problem = one_line(write(folder, f'extends = "{base}"\nname = "t"\nversion = "1"\n'))
    assert problem.key == "extends" and "may not leave" in problem.expected


def test_extends_by_name_or_inside_the_folder(tmp_path: Path) -> None:
    write(tmp_path, BASE + "[privacy]\nk = 9\n", "mid.toml")
    assert load_policy(write(tmp_path, 'extends = "mid"\nname = "c"\nversion = "1"\n')).privacy.k == 9
    assert load_policy(write(tmp_path, 'extends = "mid.toml"\nname = "c"\nversion = "1"\n')).privacy.k == 9
    shipped = policy_dir() / "national-2025.toml"
    assert load_policy(write(tmp_path, f'extends = "{shipped}"\nname = "c"\nversion = "1"\n')).name == "c"


# ---------------------------------------------------------------- scenarios


SC = 'extends = "national-2025"\nname = "s"\n'


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[horizon]\ndays = "30"\n', "horizon.days"),
        ("[horizon]\ndays = 30.0\n", "horizon.days"),
        ('[horizon]\nstart = "2025-02-30"\n', "horizon.start"),
        ("[seeds]\ndefault = true\n", "seeds.default"),
        ("[seeds]\ndefault = 99999999999999999999\n", "seeds.default"),
        ('[demand.arrivals]\ndepartment = "3"\n', "demand.arrivals.department"),
        ("[demand.arrivals]\ndepartment = inf\n", "demand.arrivals.department"),
        ('[operators]\nprice_markup = "2"\n', "operators.price_markup"),
        (f'description = "{"d" * 5000}"\n', "description"),
        ('[policy]\nname = "national-2025"\noverrides = {"privacy.k" = "7"}\n', "policy.overrides.privacy.k"),
    ],
)
def test_scenarios_are_strict(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(write(tmp_path, SC + body, "s.toml"))
    assert key in [p.key for p in info.value.problems], str(info.value)[:500]


def test_scenario_extends_stays_inside(tmp_path: Path) -> None:
    problem = one_line(write(tmp_path, 'extends = "/etc/passwd"\nname = "s"\n', "s.toml"), load_scenario,
                       ScenarioFileError)
    assert problem.key == "extends"


def test_scenario_overrides_from_the_command_line_are_read_as_values() -> None:
    sc = load_scenario("national-2025", {"policy.overrides.privacy.k": "7",
                                         "policy.overrides.pricing.caps.per_call": "0.4"})
    assert sc.policy_obj.privacy.k == 7 and str(sc.policy_obj.pricing.caps.per_call) == "0.4"


# ---------------------------------------------------------------- anything at all


TOML_VALUES = st.one_of(
    st.booleans().map(lambda b: "true" if b else "false"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).lower()),
    st.text(max_size=30).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.dates().map(lambda d: d.isoformat()),
)
KEYS = ["privacy.k", "privacy.l", "pricing.caps_apply", "pricing.caps.per_call", "pricing.tax.rate",
        "disclosure.deadline", "conditions.max_grant_days", "deadlines.compliance", "mar.period_months",
        "compute.epsilon_per_grant", "purposes.free", "description", "calendar.extra_holidays"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=TOML_VALUES)
def test_any_value_is_loaded_or_refused_by_key(tmp_path: Path, key: str, value: str) -> None:
    table, _, leaf = key.rpartition(".")
    body = BASE + (f"[{table}]\n" if table else "") + f"{leaf} = {value}\n"
    try:
        load_policy(write(tmp_path, body))
    except PolicyFileError as exc:
        assert all(p.key and p.expected for p in exc.problems)
