"""In-domain computation ("usable but not visible"): computations run where the data lives; results leave.

env = resource_environment(resource, rows=100_000, seed=1)
grant = compute_grant(policy, grant_id=7, requester_id=3, resource_id=resource.id, fields=[...])
result = run_query(session, grant, env, "SELECT district, AVG(age) FROM data GROUP BY district")
result.value, result.run   # the table, and the recorded event (fingerprint, cost)

The rules live in `marketplace.policy.compute` (what a grant allows) and `marketplace.privacy.sqlcheck`
(which SQL may run); this package executes (DuckDB, OpenDP, scikit-learn) and records.
"""

from marketplace.compute.environment import Environment, open_environment, resource_environment
from marketplace.compute.runs import (
    DP_MEASURES,
    ComputeResult,
    record_refusal,
    run_dp,
    run_query,
    train_model,
    verify_record,
)
from marketplace.privacy.budget import consume, remaining

__all__ = [
    "DP_MEASURES",
    "ComputeResult",
    "Environment",
    "consume",
    "open_environment",
    "record_refusal",
    "remaining",
    "resource_environment",
    "run_dp",
    "run_query",
    "train_model",
    "verify_record",
]
