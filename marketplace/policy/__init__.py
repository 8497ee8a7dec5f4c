"""Policy as code: the marketplace's rules as pure functions over a validated policy file.

Workflows, widgets and the simulator all call these functions, so a rule lives here and nowhere else.
No database, no widgets, no network: inputs are the plain facts of `types.py`, outputs are values.
"""

from marketplace.policy.authorization import (
    Designated,
    ScopeResource,
    check_activation_registration,
    check_plan_covers,
    check_proposer,
    in_jurisdiction,
)
from marketplace.policy.compiled import working_calendar
from marketplace.policy.free_use import FreeClaim, check_free_claim, free_use_rule, kind_may_claim
from marketplace.policy.loader import (
    PolicyFileError,
    PolicyProblem,
    diff_policies,
    list_policies,
    load_policy,
    policy_dir,
    summarize_policy,
)
from marketplace.policy.mar import (
    MarLedger,
    MarPosition,
    cap_within_mar,
    carried_deduction,
    check_cap_filing,
    filed_operating_cost,
    mar_position,
    max_allowed_revenue,
    permitted_profit_rate,
)
from marketplace.policy.pricing import check_actual_price, effective_cap, quote, split
from marketplace.policy.products import (
    RAW_DATA_RULE,
    TRANSFORMATIONS,
    SourceFacts,
    check_market_product,
    product_target,
)
from marketplace.policy.registration import (
    check_no_open_objection,
    check_objection_period,
    check_renewal_window,
    renewed_until,
)
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
from marketplace.policy.sharing_lists import (
    ListEntry,
    check_list_decision,
    check_list_request,
    check_listable,
    list_publisher,
)
from marketplace.policy.supervision import Evaluated, evaluate_operator
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
    "RAW_DATA_RULE",
    "TRANSFORMATIONS",
    "ConditionSpec",
    "Designated",
    "Evaluated",
    "FreeClaim",
    "ListEntry",
    "MarLedger",
    "MarPeriod",
    "MarPosition",
    "Policy",
    "PolicyFileError",
    "PolicyProblem",
    "Quote",
    "QuoteLine",
    "Refusal",
    "RequestFacts",
    "Requester",
    "Routing",
    "ScopeResource",
    "SourceFacts",
    "Split",
    "StagePlan",
    "Target",
    "WorkingCalendar",
    "add_working_days",
    "calendar_warning",
    "cap_within_mar",
    "carried_deduction",
    "check_activation_registration",
    "check_actual_price",
    "check_cap_filing",
    "check_free_claim",
    "check_list_decision",
    "check_list_request",
    "check_listable",
    "check_market_product",
    "check_no_open_objection",
    "check_objection_period",
    "check_plan_covers",
    "check_proposer",
    "check_renewal_window",
    "deadline_outcome",
    "diff_policies",
    "effective_cap",
    "evaluate_operator",
    "extend_stage",
    "filed_operating_cost",
    "free_use_rule",
    "holidays_of",
    "in_jurisdiction",
    "kind_may_claim",
    "list_policies",
    "list_publisher",
    "load_policy",
    "mar_position",
    "max_allowed_revenue",
    "official_years",
    "permitted_profit_rate",
    "policy_dir",
    "product_target",
    "quote",
    "raise_if_refused",
    "refusal_error",
    "renewed_until",
    "route",
    "schedule_source",
    "split",
    "summarize_policy",
    "working_calendar",
    "working_day_after",
]
