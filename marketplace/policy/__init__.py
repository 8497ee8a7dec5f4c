"""Policy as code: the marketplace's rules as pure functions over a validated policy file.

Workflows, widgets and the simulator all call these functions, so a rule lives here and nowhere else.
No database, no widgets, no network: inputs are the plain facts of `types.py`, outputs are values.
"""

from marketplace.policy.compiled import working_calendar
from marketplace.policy.loader import (
    PolicyFileError,
    PolicyProblem,
    diff_policies,
    list_policies,
    load_policy,
    policy_dir,
    summarize_policy,
)
from marketplace.policy.mar import MarLedger, max_allowed_revenue
from marketplace.policy.pricing import check_actual_price, effective_cap, quote, split
from marketplace.policy.products import TRANSFORMATIONS, SourceFacts, product_target
from marketplace.policy.routing import (
    add_working_days,
    calendar_warning,
    deadline_outcome,
    extend_stage,
    holidays_of,
    raise_if_refused,
    route,
    working_day_after,
)
from marketplace.policy.schema import BREACH_OUTCOMES, Policy
from marketplace.policy.types import (
    ConditionSpec,
    MarPeriod,
    Quote,
    QuoteLine,
    Refusal,
    Requester,
    RequestFacts,
    Routing,
    Split,
    StagePlan,
    Target,
    refusal_error,
)
from marketplace.policy.workdays import WorkingCalendar, official_years, schedule_source

__all__ = [
    "BREACH_OUTCOMES",
    "TRANSFORMATIONS",
    "ConditionSpec",
    "MarLedger",
    "MarPeriod",
    "Policy",
    "PolicyFileError",
    "PolicyProblem",
    "Quote",
    "QuoteLine",
    "Refusal",
    "RequestFacts",
    "Requester",
    "Routing",
    "SourceFacts",
    "Split",
    "StagePlan",
    "Target",
    "WorkingCalendar",
    "add_working_days",
    "calendar_warning",
    "check_actual_price",
    "deadline_outcome",
    "diff_policies",
    "effective_cap",
    "extend_stage",
    "holidays_of",
    "list_policies",
    "load_policy",
    "max_allowed_revenue",
    "official_years",
    "policy_dir",
    "product_target",
    "quote",
    "raise_if_refused",
    "refusal_error",
    "route",
    "schedule_source",
    "split",
    "summarize_policy",
    "working_calendar",
    "working_day_after",
]
