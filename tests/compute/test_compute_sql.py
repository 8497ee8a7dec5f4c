"""Aggregate SQL inside the environment: what runs, what is refused (with its rule), what is suppressed."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.compute import Environment, record_refusal, run_query
from marketplace.errors import PolicyRefusal, PrivacyError
from marketplace.models.compute import ComputeRun
from marketplace.policy.compute import ComputeGrant
from marketplace.vocabulary import ComputeKind, ComputeUnit

REFUSED = [
    ("SELECT * FROM data", "sql.star"),
    ("SELECT patient_id, COUNT(*) FROM data GROUP BY patient_id", "sql.identifier"),
    ("SELECT COUNT(*) FROM data WHERE patient_id = 'P000001'", "sql.identifier"),
    ("SELECT length_of_stay FROM data", "sql.row_level"),
    ("SELECT district, length_of_stay FROM data GROUP BY district", "sql.row_level"),
    ("SELECT DISTINCT district, COUNT(*) FROM data GROUP BY district", "sql.row_level"),
    ("SELECT MAX(cost) FROM data", "sql.function"),
    ("SELECT SUM(cost) OVER () FROM data", "sql.row_level"),
    ("SELECT COUNT(*) FROM data a JOIN data b ON a.age = b.age", "sql.table"),
    ("SELECT COUNT(*) FROM other", "sql.table"),
    ("SELECT COUNT(*) FROM read_csv('/etc/passwd')", "sql.table"),
    ("SELECT COUNT(*) FROM (SELECT * FROM data) t", "sql.table"),
    ("SELECT cost, COUNT(*) FROM data GROUP BY cost", "sql.group_by"),
    ("SELECT COUNT(*) FROM data WHERE age < 90", "sql.filter"),
    ("SELECT COUNT(*) FROM data WHERE NOT district = 'East'", "sql.filter"),
    ("SELECT COUNT(*) FROM data WHERE district IN ('East', 'West')", "sql.filter"),
    ("SELECT COUNT(*) FROM data WHERE district = 'East' OR sex = 'F'", "sql.filter"),
    ("DELETE FROM data", "sql.statement"),
    ("SELECT COUNT(*) FROM data; SELECT 1", "sql.statement"),
    ("SELEC COUNT(*) FROM data", "sql.statement"),
    ("SELECT " + "1 + " * 2000 + "COUNT(*) FROM data", "sql.statement"),
]


@pytest.mark.parametrize(("sql", "rule"), REFUSED)
def test_refused_with_the_rule_named(session: Session, grant: ComputeGrant, env: Environment, sql: str,
                                     rule: str) -> None:
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, sql)
    assert info.value.rule == rule
    assert session.exec(select(ComputeRun)).all() == []  # nothing recorded, nothing spent


def test_group_by_a_near_unique_column_is_refused(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(dimensions=(*grant_factory().dimensions, "cost"))
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, "SELECT cost, COUNT(*) FROM data GROUP BY cost")
    assert info.value.rule == "sql.near_unique"


def test_a_column_the_grant_excludes_is_refused(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(columns=("sex", "age", "district", "length_of_stay"))
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, "SELECT district, AVG(cost) FROM data GROUP BY district")
    assert info.value.rule == "sql.column"


def test_aggregate_runs_and_small_cells_are_suppressed(session: Session, grant: ComputeGrant,
                                                       env: Environment) -> None:
    sql = ("SELECT district, FLOOR(age / 10) * 10 AS band, COUNT(*) AS n, AVG(length_of_stay) AS los "
           "FROM data WHERE sex = 'F' GROUP BY district, FLOOR(age / 10) * 10 ORDER BY district, band")
    result = run_query(session, grant, env, sql)
    frame = env.frame[env.frame.sex == "F"].assign(band=lambda d: d.age // 10 * 10)
    exact = frame.groupby(["district", "band"]).size()
    released = result.value.set_index(["district", "band"])["n"]
    assert (released >= grant.min_cell).all()
    assert released.to_dict() == {k: v for k, v in exact.items() if v >= grant.min_cell}
    assert result.run.cells_suppressed == int((exact < grant.min_cell).sum()) > 0
    assert result.run.accepted and len(result.run.fingerprint) == 64
    assert (result.run.unit, result.run.units) == (ComputeUnit.per_query, 1)


def test_a_refusal_is_recorded_after_the_rollback(session: Session, grant: ComputeGrant,
                                                  env: Environment) -> None:
    sql = "SELECT * FROM data"
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, sql)
    session.rollback()
    run = record_refusal(session, grant, ComputeKind.aggregate_query, sql, info.value.rule)
    assert (run.accepted, run.rule, run.units, run.unit) == (False, "sql.star", 0, None)


def test_a_global_aggregate_below_the_minimum_is_empty(session: Session, grant: ComputeGrant,
                                                        env: Environment) -> None:
    result = run_query(session, grant, env,
                       "SELECT COUNT(*), AVG(cost) FROM data "
                       "WHERE district = 'West' AND age = 40 AND sex = 'F'")
    assert result.value.empty and result.run.cells_suppressed == 1


def test_result_row_cap(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(max_result_rows=5, min_cell=1)
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, "SELECT age, COUNT(*) FROM data GROUP BY age")
    assert info.value.rule == "sql.result_rows"


def test_daily_query_limit(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(queries_per_day=2)
    for _ in range(2):
        run_query(session, grant, env, "SELECT COUNT(*) FROM data")
    with pytest.raises(PrivacyError, match="daily query limit"):
        run_query(session, grant, env, "SELECT COUNT(*) FROM data")


def test_same_query_same_result_and_fingerprint(session: Session, grant: ComputeGrant,
                                                env: Environment) -> None:
    sql = "SELECT district, AVG(cost) AS c FROM data GROUP BY district ORDER BY district"
    a, b = run_query(session, grant, env, sql), run_query(session, grant, env, sql.lower())
    assert a.value.equals(b.value) and a.run.fingerprint == b.run.fingerprint


def test_a_kind_outside_the_grant_is_refused(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(kinds=frozenset())
    with pytest.raises(PolicyRefusal) as info:
        run_query(session, grant, env, "SELECT COUNT(*) FROM data")
    assert info.value.rule == "compute.kind"
