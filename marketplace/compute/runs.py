"""The four computation products, run inside a holder's environment; only results leave.

Every function takes the session (the caller's transaction: one workflow step), the grant's terms
(`marketplace.policy.compute.ComputeGrant`), the environment and the computation, and returns the result with
its recorded `ComputeRun` event (a fingerprint of the computation, never of the result). A refused computation
raises PolicyRefusal (a rule) or PrivacyError (a budget) and adds nothing, so the caller's rollback is exact.

- aggregate SQL: checked by `marketplace.privacy.sqlcheck`, run on DuckDB; each counts against a daily cap;
- DP releases: OpenDP measurements (Laplace for counts, sums and histograms, the exponential mechanism for
  quantiles; a mean is a noisy sum over a noisy count); ε is charged at what OpenDP's privacy map reports,
  against the grant's and the requester's budgets. OpenDP draws noise from the operating system and cannot
  be seeded (a seed would make the noise guessable), so DP results alone are not reproducible;
- model training: scikit-learn, coefficients, held-out metrics and a model card; refused when there are
  fewer than `min_rows_per_parameter` rows per parameter or more parameters than the policy allows;
- verification: does a record with these values exist? yes or no, rate-limited per grant and day.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import opendp.prelude as dp
import pandas as pd
import sqlglot
from sqlglot import exp
from sqlmodel import Session

from marketplace.compute.environment import Environment
from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models.compute import ComputeRun
from marketplace.policy.compute import ComputeGrant
from marketplace.privacy.budget import consume
from marketplace.privacy.differencing import Release, check_differencing, release_of
from marketplace.privacy.ledger import spend_epsilon
from marketplace.privacy.sqlcheck import check_query, fingerprint
from marketplace.vocabulary import ComputeKind

__all__ = [
    "DP_MEASURES",
    "ComputeResult",
    "dp_by_groups",
    "dp_value",
    "record_refusal",
    "run_dp",
    "run_query",
    "train_model",
    "verify_record",
]

dp.enable_features("contrib")  # OpenDP gates its non-vetted measurements (all used here) behind "contrib"

DP_MEASURES = ("count", "sum", "mean", "quantile", "histogram")
MAX_VERIFY_FIELDS = 8
MAX_VALUE_CHARS = 200
QUANTILE_CANDIDATES = 201


@dataclass
class ComputeResult:
    """What leaves the environment: the result, and the event that records it."""

    value: Any
    run: ComputeRun
    detail: dict[str, Any] = field(default_factory=dict)


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.utcoffset() is None:
        raise InvalidInput("at", at, "a timezone-aware datetime")
    return at


def _allowed(grant: ComputeGrant, kind: ComputeKind, env: Environment) -> None:
    if not grant.allows(kind):
        raise PolicyRefusal("compute.kind", f"this grant does not include {kind.value} computations")
    if env.resource_id != grant.resource_id:
        raise InvalidInput("environment", env.resource_id, f"the environment of resource {grant.resource_id}")


def _record(session: Session, grant: ComputeGrant, kind: ComputeKind, text: str, at: datetime,
            **fields: Any) -> ComputeRun:
    run = ComputeRun(grant_id=grant.grant_id, requester_id=grant.requester_id, resource_id=grant.resource_id,
                     kind=kind, fingerprint=fingerprint(text), accepted=True, at=at,
                     unit=grant.units.get(kind), units=1, **fields)
    session.add(run)
    session.flush()
    return run


def record_refusal(session: Session, grant: ComputeGrant, kind: ComputeKind, computation: str, rule: str, *,
                   at: datetime | None = None) -> ComputeRun:
    """Record a refused computation (after the caller rolled back the step that raised): who asked what, which
    rule refused it; nothing is billed. Refusals in a row are how a differencing or tracker attempt shows."""
    run = ComputeRun(grant_id=grant.grant_id, requester_id=grant.requester_id, resource_id=grant.resource_id,
                     kind=ComputeKind(kind), fingerprint=fingerprint(computation), accepted=False,
                     rule=str(rule)[:64], at=_now(at), units=0)
    session.add(run)
    session.flush()
    return run


# ---------------------------------------------------------------- aggregate SQL


CELL_N = "mp_cell_n"


def run_query(session: Session, grant: ComputeGrant, env: Environment, sql: str, *,
              at: datetime | None = None, released: Sequence[Release] | None = None) -> ComputeResult:
    """Check and run an aggregate SQL query; small cells are suppressed in the engine, big results refused.

    `released` are the grant's earlier releases (kept by the caller): a query whose cells, subtracted from
    or by theirs, would single out a cell below the minimum is refused (`privacy.check_differencing`). The
    cells this query releases are recorded in `run.detail["release"]` for the next check.
    """
    _allowed(grant, ComputeKind.aggregate_query, env)
    when = _now(at)
    checked = check_query(
        sql, columns=grant.columns, dimensions=grant.dimensions, identifiers=grant.identifiers,
        near_unique=env.near_unique(grant.near_unique_ratio), min_cell=grant.min_cell,
        max_rows=grant.max_result_rows,
    )
    table, release = _released_cells(env, checked)
    if len(table) > grant.max_result_rows:
        raise PolicyRefusal("sql.result_rows", f"query refused: the result has more than "
                            f"{grant.max_result_rows} rows; group more coarsely")
    if released is not None:
        check_differencing(released, release, grant.min_cell)
    groups = _cell_count(env, checked) if checked.group_by else None
    suppressed = max(groups - len(table), 0) if groups is not None else int(table.empty)
    consume(session, "queries", str(grant.grant_id), 1, grant.queries_per_day,
            period=when.date().isoformat(), what="daily query limit")
    run = _record(session, grant, ComputeKind.aggregate_query, checked.sql, when,
                  cells_suppressed=suppressed, detail={"rows": len(table), "release": release.as_dict()})
    return ComputeResult(table, run, {"cells_suppressed": suppressed, "sql": checked.sql})


def _released_cells(env: Environment, checked: Any) -> tuple[pd.DataFrame, Release]:
    """Run the checked query with each cell's group values and count alongside (one pass), then drop them:
    the requester gets its own columns; the holder keeps which cells left and how many people each holds."""
    tree = sqlglot.parse_one(checked.sql, read="duckdb")
    group = tree.args.get("group")
    keys = [f"mp_key_{i}" for i in range(len(group.expressions) if group is not None else 0)]
    extra = [exp.alias_(g.copy(), k) for g, k in zip(group.expressions if group is not None else (), keys,
                                                     strict=True)]
    tree.set("expressions", [*tree.expressions, *extra, exp.alias_(exp.Count(this=exp.Star()), CELL_N)])
    full = env.connection.execute(tree.sql(dialect="duckdb")).df()
    rows = zip(full[keys].itertuples(index=False, name=None), full[CELL_N].tolist(), strict=True)
    release = release_of(checked.filters, checked.group_keys, rows)
    return full.drop(columns=[*keys, CELL_N]), release


def _cell_count(env: Environment, checked: Any) -> int:
    """How many groups the query had before suppression (reported; the groups themselves stay inside)."""
    tree = sqlglot.parse_one(checked.sql, read="duckdb")
    tree.set("expressions", [exp.Literal.number(1)])  # groups only (GROUP BY names real columns)
    tree.set("having", None)
    tree.set("limit", None)
    tree.set("order", None)
    counted = exp.select(exp.Count(this=exp.Star())).from_(tree.subquery("cells"))
    return int(env.connection.execute(counted.sql(dialect="duckdb")).fetchone()[0])


# ---------------------------------------------------------------- differential privacy


def _bounds(bounds: Sequence[float] | None) -> tuple[float, float]:
    if bounds is None or len(bounds) != 2:
        raise InvalidInput("bounds", bounds, "(lower, upper): the clamping range, which sets the sensitivity")
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InvalidInput("bounds", bounds, "finite lower < upper")
    return lo, hi


def _numeric(env: Environment, column: str | None, grant: ComputeGrant) -> np.ndarray:
    if column is None or column not in grant.columns:
        raise PolicyRefusal("dp.column", f"column {column!r} is not readable under this grant "
                            f"({', '.join(grant.columns)})")
    values = env.frame[column]
    if pd.api.types.is_datetime64_any_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise InvalidInput("column", column, "a numeric column")
    return values.astype(float).to_numpy()


@lru_cache(maxsize=256)
def _laplace_measurement(kind: str, epsilon: float, bounds: tuple[float, float]) -> Any:
    """The OpenDP measurement for a count or a clamped sum at ε (built once per setting, then reused)."""
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    metric = dp.symmetric_distance()
    if kind == "count":
        return dp.t.make_count(domain, metric) >> dp.m.then_laplace(1.0 / epsilon)
    lo, hi = bounds
    sensitivity = max(abs(lo), abs(hi))
    clamp = dp.t.make_clamp(domain, metric, bounds)
    return clamp >> dp.t.then_sum() >> dp.m.then_laplace(sensitivity / epsilon)


def _laplace_value(
    data: np.ndarray, kind: str, epsilon: float, bounds: tuple[float, float]
) -> tuple[float, float]:
    """One OpenDP Laplace release over `data`: (value, ε its privacy map reports for one record)."""
    meas = _laplace_measurement(kind, float(epsilon), (float(bounds[0]), float(bounds[1])))
    return float(meas(data)), float(meas.map(1))


def _quantile(data: np.ndarray, q: float, epsilon: float, bounds: tuple[float, float]) -> tuple[float, float]:
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    metric = dp.symmetric_distance()
    candidates = [float(c) for c in np.linspace(bounds[0], bounds[1], QUANTILE_CANDIDATES)]

    def make(scale: float) -> Any:
        return dp.t.make_clamp(domain, metric, bounds) >> dp.m.then_private_quantile(
            dp.max_divergence(), candidates, q, scale)

    meas = dp.binary_search_chain(make, d_in=1, d_out=epsilon)
    return float(meas(data)), float(meas.map(1))


def dp_value(values: np.ndarray, measure: str, *, epsilon: float, bounds: tuple[float, float] = (0.0, 1.0),
             quantile: float = 0.5) -> tuple[float, float]:
    """One release over `values` with OpenDP: (value, ε its privacy map reports for one record).

    A mean is a noisy sum over a noisy count, ε split evenly (post-processing of two Laplace releases).
    """
    # OpenDP reads the values into its own memory and refuses a read-only array (copy-on-write columns)
    values = np.array(values, dtype=float, copy=True)
    if measure in ("count", "histogram"):
        return _laplace_value(values, "count", epsilon, bounds)
    if measure == "sum":
        return _laplace_value(values, "sum", epsilon, bounds)
    if measure == "quantile":
        return _quantile(values, quantile, epsilon, bounds)
    if measure != "mean":
        raise InvalidInput("measure", measure, "one of " + ", ".join(DP_MEASURES))
    total, e1 = _laplace_value(values, "sum", epsilon / 2, bounds)
    count, e2 = _laplace_value(values, "count", epsilon / 2, bounds)
    return float(np.clip(total / max(count, 1.0), *bounds)), e1 + e2


def dp_by_groups(frame: pd.DataFrame, values: np.ndarray, categories: Mapping[str, Sequence[Any]],
                 measure: str, *, epsilon: float, bounds: tuple[float, float] = (0.0, 1.0),
                 quantile: float = 0.5) -> tuple[pd.DataFrame, float]:
    """`dp_value` in every group of the public code lists `categories` (empty groups too): (table, ε).

    Each record is in exactly one group, so the groups compose in parallel: the release costs the largest ε
    of one group, not the sum.
    """
    by = list(categories)
    keys = pd.MultiIndex.from_product([list(categories[c]) for c in by], names=by)
    members = frame.groupby(by, sort=True, observed=True).indices
    out, spent = [], 0.0
    for key in keys:
        index = members.get(key if len(by) > 1 else key[0], np.empty(0, dtype=np.int64))
        value, eps = dp_value(values[index], measure, epsilon=epsilon, bounds=bounds, quantile=quantile)
        out.append(value)
        spent = max(spent, eps)
    return pd.DataFrame({measure: out}, index=keys).reset_index(), spent


def run_dp(
    session: Session,
    grant: ComputeGrant,
    env: Environment,
    measure: str,
    *,
    epsilon: float,
    column: str | None = None,
    bounds: Sequence[float] | None = None,
    by: Sequence[str] = (),
    quantile: float = 0.5,
    at: datetime | None = None,
) -> ComputeResult:
    """A differentially private count, sum, mean, quantile or histogram, charged against the ε budgets.

    `by` splits the release over groups of the grant's dimensions; every record is in one group, so the groups
    compose in parallel and cost ε once. The groups are the dimensions' code lists, read from the environment
    (the synthetic world draws every dimension from a fixed code list); with real data the published code list
    must be passed instead, since a key seen only in the data would disclose that someone has it.
    """
    _allowed(grant, ComputeKind.dp_release, env)
    when = _now(at)
    if measure not in DP_MEASURES:
        raise InvalidInput("measure", measure, "one of " + ", ".join(DP_MEASURES))
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not math.isfinite(epsilon) \
            or epsilon <= 0:
        raise InvalidInput("epsilon", epsilon, "a positive finite number")
    if epsilon > grant.epsilon_per_query_max + 1e-12:
        raise PolicyRefusal("dp.epsilon_per_query", f"ε {epsilon:g} is above the policy's "
                            f"{grant.epsilon_per_query_max:g} per release")
    if not 0 < quantile < 1:
        raise InvalidInput("quantile", quantile, "a number strictly between 0 and 1")
    by = list(by)
    if measure == "histogram":
        if column is None or column not in grant.dimensions:
            raise PolicyRefusal("dp.column", f"a histogram counts one of the grant's dimensions "
                                f"({', '.join(grant.dimensions)}), not {column!r}")
        by = [column]
    for name in by:
        if name not in grant.dimensions:
            raise PolicyRefusal("dp.group_by", f"groups only by the grant's dimensions "
                                f"({', '.join(grant.dimensions)}), not {name!r}")
    numeric = measure in ("sum", "mean", "quantile")
    values = _numeric(env, column, grant) if numeric else np.zeros(env.rows)
    lo_hi = _bounds(bounds) if numeric else (0.0, 1.0)
    if by:
        value, spent = dp_by_groups(env.frame, values, {c: env.categories(c) for c in by}, measure,
                                    epsilon=epsilon, bounds=lo_hi, quantile=quantile)
    else:
        value, spent = dp_value(values, measure, epsilon=epsilon, bounds=lo_hi, quantile=quantile)
    _charge(session, grant, spent)
    text = json.dumps({"measure": measure, "column": column, "by": by, "epsilon": epsilon,
                       "bounds": list(lo_hi) if numeric else None, "q": quantile}, sort_keys=True)
    run = _record(session, grant, ComputeKind.dp_release, text, when, epsilon=spent,
                  detail={"measure": measure, "column": column, "by": by})
    return ComputeResult(value, run, {"epsilon": spent, "mechanism": "laplace" if measure != "quantile"
                                      else "exponential"})


def _charge(session: Session, grant: ComputeGrant, epsilon: float) -> None:
    """ε against the resource's, the grant's and the requester's budgets (the one ε ledger), all or none."""
    spend_epsilon(
        session,
        resource_id=grant.resource_id,
        epsilon=epsilon,
        resource_budget=grant.epsilon_per_resource,
        grant_id=grant.grant_id,
        grant_budget=grant.epsilon_per_grant,
        requester_id=grant.requester_id,
        requester_budget=grant.epsilon_per_requester,
    )


# ---------------------------------------------------------------- model training


def train_model(
    session: Session,
    grant: ComputeGrant,
    env: Environment,
    *,
    target: str,
    features: Sequence[str],
    task: str = "regression",
    seed: int = 0,
    at: datetime | None = None,
) -> ComputeResult:
    """Train a linear or logistic model inside; coefficients, held-out metrics and a model card leave."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split

    _allowed(grant, ComputeKind.model_training, env)
    when = _now(at)
    if task not in ("regression", "classification"):
        raise InvalidInput("task", task, "regression or classification")
    features = list(features)
    if not features:
        raise InvalidInput("features", features, "at least one feature column")
    for name in [target, *features]:
        if name not in grant.columns:
            raise PolicyRefusal("model.column", f"column {name!r} is not readable under this grant "
                                f"({', '.join(grant.columns)})")
    frame = env.frame[[target, *features]].dropna()
    design = pd.get_dummies(frame[features], drop_first=True, dtype=float)
    for name, dtype in design.dtypes.items():
        if not pd.api.types.is_numeric_dtype(dtype):
            design[name] = pd.to_numeric(design[name], errors="coerce")
    design = design.astype(float)
    parameters = design.shape[1] + 1
    if parameters > grant.max_model_parameters:
        raise PolicyRefusal("model.parameters", f"{parameters} parameters; at most "
                            f"{grant.max_model_parameters} (a larger model can memorise its rows)")
    if len(frame) < grant.min_rows_per_parameter * parameters:
        raise PolicyRefusal("model.rows_per_parameter", f"{len(frame)} rows for {parameters} parameters; "
                            f"at least {grant.min_rows_per_parameter} rows per parameter")
    y = frame[target]
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            raise InvalidInput("target", target, "a numeric column for a regression")
        model: Any = LinearRegression()
    else:
        model = LogisticRegression(max_iter=1000)
    x_train, x_test, y_train, y_test = train_test_split(design, y, test_size=0.25, random_state=seed)
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    if task == "regression":
        metrics = {"r2": float(r2_score(y_test, predicted)),
                   "mae": float(mean_absolute_error(y_test, predicted))}
        coefficients = dict(zip(design.columns, map(float, model.coef_), strict=True))
        intercept: Any = float(model.intercept_)
    else:
        metrics = {"accuracy": float(accuracy_score(y_test, predicted))}
        coefficients = {str(cls): dict(zip(design.columns, map(float, row), strict=True))
                        for cls, row in zip(model.classes_, np.atleast_2d(model.coef_), strict=False)}
        intercept = [float(v) for v in np.atleast_1d(model.intercept_)]
    card = {
        "model": type(model).__name__,
        "task": task,
        "target": target,
        "features": features,
        "parameters": parameters,
        "rows": len(frame),
        "rows_per_parameter": round(len(frame) / parameters, 1),
        "held_out": len(x_test),
        "seed": seed,
        "metrics": metrics,
        "privacy": "trained inside the holder's environment; no rows leave; no differential privacy "
                   "(scikit-learn offers no DP training)",
    }
    text = json.dumps({"target": target, "features": features, "task": task, "seed": seed}, sort_keys=True)
    run = _record(session, grant, ComputeKind.model_training, text, when, detail={"card": card})
    value = {"coefficients": coefficients, "intercept": intercept, "metrics": metrics, "card": card}
    return ComputeResult(value, run)


# ---------------------------------------------------------------- verification


def _clean_record(grant: ComputeGrant, record: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(record, Mapping) or not record:
        raise InvalidInput("record", record, "a mapping of column to value")
    if len(record) > MAX_VERIFY_FIELDS:
        raise InvalidInput("record", f"{len(record)} fields", f"at most {MAX_VERIFY_FIELDS} fields")
    out = {}
    for name, value in record.items():
        if name not in grant.verify_columns:
            raise PolicyRefusal("verify.column", f"{name!r} cannot be verified under this grant "
                                f"({', '.join(grant.verify_columns)})")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidInput(f"record[{name}]", value, "a text or a number")
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            raise InvalidInput(f"record[{name}]", value[:20] + "…", f"at most {MAX_VALUE_CHARS} characters")
        out[str(name)] = value
    return out


def verify_record(session: Session, grant: ComputeGrant, env: Environment, record: Mapping[str, Any], *,
                  at: datetime | None = None) -> ComputeResult:
    """Yes or no: does a record with exactly these values exist? Each answer is recorded with its question."""
    _allowed(grant, ComputeKind.verification, env)
    when = _now(at)
    clean = _clean_record(grant, record)
    mask = np.ones(env.rows, dtype=bool)
    for name, value in clean.items():
        column = env.frame[name]
        mask &= (column.astype(str) == str(value)).to_numpy()
    answer = bool(mask.any())
    consume(session, "verifications", str(grant.grant_id), 1, grant.verifications_per_day,
            period=when.date().isoformat(), what="daily verification limit")
    text = json.dumps(clean, sort_keys=True, default=str)
    run = _record(session, grant, ComputeKind.verification, text, when, answer=answer,
                  detail={"fields": sorted(clean)})
    return ComputeResult(answer, run)
