"""Attacks on the computation products: each is refused, suppressed or charged against the budget."""

from __future__ import annotations

import duckdb
import pytest
from sqlmodel import Session

from marketplace.compute import Environment, run_dp, run_query
from marketplace.errors import PolicyRefusal, PrivacyError
from marketplace.privacy.differencing import Release

# Two overlapping queries whose difference is one patient's length of stay: everyone in East, and everyone in
# East except the oldest patient there (identified by age, which an attacker may know).
WHOLE = "SELECT COUNT(*) AS n, SUM(length_of_stay) AS s FROM data WHERE district = 'East'"


def _target(env: Environment) -> tuple[int, float]:
    east = env.frame[env.frame.district == "East"]
    oldest = east[east.age == east.age.max()]
    return int(oldest.age.iloc[0]), float(oldest.length_of_stay.sum())


def test_differencing_succeeds_against_a_naive_endpoint(env: Environment) -> None:
    age, secret = _target(env)
    naive = duckdb.connect()
    naive.register("data", env.frame)
    whole = naive.execute(WHOLE).fetchone()
    rest = naive.execute(WHOLE + f" AND age <> {age}").fetchone()
    assert whole[1] - rest[1] == secret  # the naive aggregate endpoint discloses the patient's stay


def test_differencing_fails_against_ours(session: Session, grant, env: Environment) -> None:
    age, _ = _target(env)
    assert not run_query(session, grant, env, WHOLE).value.empty
    for second in (f" AND age <> {age}", f" AND age < {age}", f" AND NOT age = {age}",
                   " AND patient_id <> 'P000001'"):
        with pytest.raises(PolicyRefusal) as info:
            run_query(session, grant, env, WHOLE + second)
        assert info.value.rule in {"sql.filter", "sql.identifier"}


def test_differencing_through_dp_is_noisy_and_charged(session: Session, grant_factory,
                                                      env: Environment) -> None:
    """Against the DP endpoint, repeating a query to average the noise away costs ε each time until refused.

    The Laplace scale of a sum clamped to [0, 60] at ε = 0.5 is 120 days, twice the longest possible stay.
    """
    grant = grant_factory(epsilon_per_grant=3.1, epsilon_per_requester=5.0, epsilon_per_query_max=1.0)
    values = [run_dp(session, grant, env, "sum", column="length_of_stay", bounds=(0, 60), epsilon=0.5).value
              for _ in range(6)]
    assert len(set(values)) == 6  # fresh noise on every release
    with pytest.raises(PrivacyError, match="exhausted"):
        run_dp(session, grant, env, "sum", column="length_of_stay", bounds=(0, 60), epsilon=0.5)


def test_select_star_and_group_by_id(session: Session, grant, env: Environment) -> None:
    for sql, rule in (("SELECT * FROM data", "sql.star"),
                      ("SELECT patient_id, COUNT(*) FROM data GROUP BY patient_id", "sql.identifier")):
        with pytest.raises(PolicyRefusal) as info:
            run_query(session, grant, env, sql)
        assert info.value.rule == rule


def test_many_small_epsilon_queries_exhaust_the_budget(session: Session, grant_factory,
                                                      env: Environment) -> None:
    grant = grant_factory(epsilon_per_grant=1.0, epsilon_per_requester=2.0)
    answered = 0
    with pytest.raises(PrivacyError, match="exhausted"):
        for _ in range(1000):
            run_dp(session, grant, env, "count", epsilon=0.01)
            answered += 1
    assert answered == 100


def test_trackers_around_the_minimum_cell(session: Session, grant, env: Environment) -> None:
    """A small cell is suppressed; the padded queries that would recover it are refused."""
    small = "SELECT COUNT(*) AS n FROM data WHERE district = 'West' AND sex = 'F' AND age = 40"
    assert run_query(session, grant, env, small).value.empty
    for tracker in ("SELECT COUNT(*) FROM data WHERE district = 'West' OR age <> 40",
                    "SELECT COUNT(*) FROM data WHERE district IN ('West', 'East') AND age = 40",
                    "SELECT COUNT(*) FROM data WHERE age BETWEEN 40 AND 41",
                    "SELECT COUNT(*) + 0 * SUM(CASE WHEN age = 40 THEN 1 ELSE 0 END) FROM data "
                    "WHERE district = 'West' AND age <> 41"):
        with pytest.raises(PolicyRefusal) as info:
            run_query(session, grant, env, tracker)
        assert info.value.rule == "sql.filter"


def test_no_released_cell_is_below_the_minimum(session: Session, grant, env: Environment) -> None:
    for by in ("district", "district, sex", "district, sex, age", "age", "diagnosis, age"):
        dims = by.replace("diagnosis, ", "")
        sql = f"SELECT {dims}, COUNT(*) AS n, AVG(cost) AS c FROM data GROUP BY {dims}"
        table = run_query(session, grant, env, sql).value
        assert (table["n"] >= grant.min_cell).all()


# Differencing across detail levels (the `west_env` fixture: one man among 25 people in West).
COARSE = "SELECT district, COUNT(*) AS n, SUM(cost) AS c FROM data GROUP BY district"
FINE = "SELECT district, sex, COUNT(*) AS n, SUM(cost) AS c FROM data GROUP BY district, sex"
WEST = "SELECT COUNT(*) AS n, SUM(cost) AS c FROM data WHERE district = 'West'"
WEST_F = WEST + " AND sex = 'F'"


def test_differencing_across_detail_levels_succeeds_against_a_naive_endpoint(west_env: Environment) -> None:
    frame = west_env.frame
    secret = float(frame[(frame.district == "West") & (frame.sex == "M")].cost.sum())
    naive = duckdb.connect()
    naive.register("data", frame)
    coarse = naive.execute(COARSE + " HAVING COUNT(*) >= 10").df().set_index("district")
    fine = naive.execute(FINE + " HAVING COUNT(*) >= 10").df().set_index(["district", "sex"])
    assert ("West", "M") not in fine.index  # the man's cell is suppressed in each result alone ...
    assert coarse.loc["West", "c"] - fine.loc[("West", "F"), "c"] == pytest.approx(secret)  # ... not together
    whole = naive.execute(WEST).fetchone()
    women = naive.execute(WEST_F).fetchone()
    assert whole[0] - women[0] == 1 and whole[1] - women[1] == pytest.approx(secret)


@pytest.mark.parametrize("first, second", [(COARSE, FINE), (FINE, COARSE), (WEST, WEST_F), (WEST_F, WEST),
                                           (WEST, FINE), (COARSE, WEST_F)])
def test_differencing_across_detail_levels_is_refused_by_ours(session: Session, grant, west_env: Environment,
                                                              first: str, second: str) -> None:
    released = [run_query(session, grant, west_env, first, released=[]).run]
    earlier = [Release.from_dict(r.detail["release"]) for r in released]
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, west_env, second, released=earlier)
    assert info.value.rule == "sql.differencing"
    assert "West" in str(info.value) or "the whole table" in str(info.value)


def test_queries_at_one_detail_level_or_with_big_remainders_still_run(session: Session, grant,
                                                                      west_env: Environment) -> None:
    earlier: list[Release] = []
    for sql in (COARSE, COARSE, "SELECT district, COUNT(*) AS n FROM data WHERE district = 'East' "
                "GROUP BY district", "SELECT sex, COUNT(*) AS n FROM data GROUP BY sex"):
        earlier.append(Release.from_dict(run_query(session, grant, west_env, sql, released=earlier)
                                         .run.detail["release"]))
    # East minus East's women is East's men: hundreds of people, nothing singled out
    men_in_east = "SELECT COUNT(*) AS n FROM data WHERE district = 'East' AND sex = 'M'"
    run_query(session, grant, west_env, men_in_east, released=earlier)
