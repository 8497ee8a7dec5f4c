"""Privacy-preserving delivery (docs/architecture.md#privacy): de-identified rows, aggregates, the ε ledger.

release = deidentify(df, resource.fields, k=5, l=2)
release.table, release.report.to_dict()
agg = aggregate(df, ["district"], sums=["income"], min_cell=10, epsilon=0.5, clip=1e5, seed=1)
"""

from marketplace.privacy.aggregate import AggregateRelease, AggregateReport, aggregate
from marketplace.privacy.hierarchies import Hierarchy, default_hierarchy
from marketplace.privacy.pipeline import Release, deidentify, pseudonym
from marketplace.privacy.report import PrivacyReport
from marketplace.privacy.rules import (
    MarkingChange,
    check_releasable,
    check_release_targets,
    is_personal,
    review_markings,
    reviewed_schema,
)
from marketplace.privacy.schema import Roles, resolve_roles

__all__ = [
    "AggregateRelease",
    "AggregateReport",
    "Hierarchy",
    "MarkingChange",
    "PrivacyReport",
    "Release",
    "Roles",
    "aggregate",
    "check_releasable",
    "check_release_targets",
    "default_hierarchy",
    "deidentify",
    "is_personal",
    "pseudonym",
    "resolve_roles",
    "review_markings",
    "reviewed_schema",
]
