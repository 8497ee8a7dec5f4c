"""The policy file schema (docs/policy-sources.md#policy-files) as pydantic v2 models.

Every section forbids unknown keys, so a typo in a policy file is an error and not a silently ignored rule.
Validation is pydantic's strict mode: nothing is coerced (`caps_apply = "yes"` or `0` is not a boolean,
`k = "7"` not a number), because a silently converted value is a rule nobody wrote. Three kinds of value are
read from what TOML gives: vocabulary words by name (`PurposeName`, ...), amounts and rates as exact decimals
from a TOML number or decimal text (`Amount`: "0.30" is how the shipped files write money), and calendar
dates from TOML dates. Every number has an upper bound and every text a length limit.
The models are frozen: a loaded policy is a value that the simulator can share between runs. The hot path
(`route`, `quote`) never reads these models directly; it reads lookup tables compiled once per policy
(see `compiled.py`).
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from marketplace.vocabulary import (
    MAX_K,
    MAX_L,
    BillingUnit,
    Channel,
    ComputeKind,
    ComputeUnit,
    DeliveryMode,
    EnterpriseSize,
    Grade,
    OrganizationKind,
    ProductKind,
    Purpose,
    ReviewStage,
    Role,
)

__all__ = ["AWARD_GROUNDS", "BREACH_OUTCOMES", "MAX_TEXT_CHARS", "SELECTION_CRITERIA", "Policy"]

BREACH_OUTCOMES = ("escalate", "deemed_approval", "deemed_rejection")
Breach = Literal["escalate", "deemed_approval", "deemed_rejection"]

#: Longest free text of a policy (a description, a source note).
MAX_TEXT_CHARS = 4000
#: Largest count a policy may give (days, volumes, years, rows): a bound that keeps date and money arithmetic
#: finite, far above any real rule.
MAX_COUNT = 1_000_000_000


#: How an exact amount is written as text: digits, one point at most, a sign and an exponent ("0.30", "1E-7").
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?")


def _exact_decimal(value: Any) -> Any:
    """An amount from a TOML number (int, float) or decimal text ("0.30": how the shipped policies write
    money, exact to the cent); booleans and other text are left for the strict Decimal check to refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a finite number")
        return Decimal(repr(value))
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value.strip()):
            raise ValueError('a decimal number such as 0.45 or "0.45"')
        return Decimal(value.strip())
    return value


#: An exact decimal read from a TOML number (see `_exact_decimal`).
Amount = Annotated[Decimal, BeforeValidator(_exact_decimal)]
Money = Annotated[Amount, Field(ge=0, max_digits=14, decimal_places=2)]
Rate = Annotated[Amount, Field(ge=0, le=1)]
PosInt = Annotated[int, Field(ge=1, le=MAX_COUNT)]
NonNegInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
#: Working days of one review stage: at most a year.
StageDays = Annotated[int, Field(ge=0, le=366)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
#: Calendar days and years a rule may span: a century at most, so dates stay within the calendar.
Days = Annotated[int, Field(ge=1, le=36_600)]
Years = Annotated[int, Field(ge=1, le=100)]

# Vocabulary words, given by name in a file (strict mode would want the enum object itself).
PurposeName = Annotated[Purpose, Strict(False)]
ChannelName = Annotated[Channel, Strict(False)]
OrganizationKindName = Annotated[OrganizationKind, Strict(False)]
ReviewStageName = Annotated[ReviewStage, Strict(False)]
RoleName = Annotated[Role, Strict(False)]
GradeName = Annotated[Grade, Strict(False)]
DeliveryModeName = Annotated[DeliveryMode, Strict(False)]
ComputeKindName = Annotated[ComputeKind, Strict(False)]
ComputeUnitName = Annotated[ComputeUnit, Strict(False)]
# MAX_K, MAX_L: the largest k and ℓ a policy may ask for, defined with the other input bounds in vocabulary.
#: At most this many dates in each `[calendar]` list (a yearly notice changes about 40 days).
MAX_CALENDAR_DAYS = 2000


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, strict=True)


# ---------------------------------------------------------------- purposes


class ChannelPurposes(_Section):
    """Purposes a request may state on each channel."""

    sharing: list[PurposeName]
    opening: list[PurposeName]
    authorized_operation: list[PurposeName]


FreeCondition = Literal["no_commercial_use", "no_onward_transfer", "report_usage", "publish_results"]


class FreeUseRule(_Section):
    """Who may claim a free purpose, with what evidence, under which conditions and limits.

    `enterprises`: "never", or "named_public_project" (an enterprise only for a named public project with a
    sponsoring department). `paid_as`: the paid purpose a refused claim is quoted as when the requester asks
    to pay instead. Limits count the requester organization's free grants in the last `period_days`.
    """

    requester_kinds: list[OrganizationKindName]
    enterprises: Literal["never", "named_public_project"] = "never"
    min_statement_chars: NonNegInt = 0
    project_reference: bool = False
    sponsoring_department: bool = False
    conditions: list[FreeCondition] = []
    max_free_requests: PosInt | None = None
    max_free_volume: PosInt | None = None
    period_days: Days = 365
    paid_as: PurposeName = Purpose.industry_development


class FreeUse(_Section):
    public_governance: FreeUseRule | None = None
    public_welfare: FreeUseRule | None = None
    industry_development: FreeUseRule | None = None
    sector_development: FreeUseRule | None = None
    research: FreeUseRule | None = None

    def get(self, purpose: Purpose) -> FreeUseRule | None:
        return getattr(self, purpose.value)


class Purposes(_Section):
    free: list[PurposeName]
    paid: list[PurposeName]
    allowed: ChannelPurposes
    free_use: FreeUse = FreeUse()


# ---------------------------------------------------------------- pricing


class UnitPrices(_Section):
    """A price (or cost) per billing unit; a missing unit means "no value set"."""

    per_product: Money | None = None
    per_call: Money | None = None
    per_month: Money | None = None
    per_record: Money | None = None

    def get(self, unit: BillingUnit) -> Decimal | None:
        return getattr(self, unit.value)


class CapsByKind(_Section):
    dataset: UnitPrices = UnitPrices()
    api: UnitPrices = UnitPrices()
    report: UnitPrices = UnitPrices()

    def get(self, kind: ProductKind) -> UnitPrices:
        return getattr(self, kind.value)


class Tier(_Section):
    """Units from `from_volume` on (1-based, marginal) cost `multiplier` times the unit price."""

    from_volume: PosInt
    multiplier: Rate


class DiscountsByKind(_Section):
    department: Rate = Decimal("0")
    institution: Rate = Decimal("0")
    enterprise: Rate = Decimal("0")
    research: Rate = Decimal("0")
    nonprofit: Rate = Decimal("0")
    operator: Rate = Decimal("0")
    regulator: Rate = Decimal("0")
    government: Rate = Decimal("0")


class DiscountsBySize(_Section):
    micro: Rate = Decimal("0")
    small: Rate = Decimal("0")
    medium: Rate = Decimal("0")
    large: Rate = Decimal("0")


class Discounts(_Section):
    """Discount rates by requester kind and (for enterprises) size; the larger applicable rate wins."""

    by_kind: DiscountsByKind = DiscountsByKind()
    by_size: DiscountsBySize = DiscountsBySize()
    purposes: list[PurposeName] = []


class Tax(_Section):
    rate: Rate
    included_in_price: bool


class Pricing(_Section):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    caps_apply: bool
    forbid_cap_below_cost: bool
    rounding: Literal["half_up", "up"]
    holder_share: Rate
    caps: UnitPrices
    caps_by_kind: CapsByKind = CapsByKind()
    reference_costs: UnitPrices = UnitPrices()
    tiers: list[Tier] = []
    discounts: Discounts = Discounts()
    tax: Tax


# ---------------------------------------------------------------- MAR


class Mar(_Section):
    """Maximum allowed revenue = operating cost + allowed profit + taxes, set in advance for a period.

    `profit_rule`: "treasury_plus_margin" (rate = treasury yield + margin) or "fixed" (`fixed_profit_rate`).
    `cost_categories`: what an operator's cost filing may name. `trial_caps`: without a MAR determined for the
    period (no full year of operation yet) the authorizing body may file a provisional cap.
    `reset_caps_on_close`: closing a period with revenue above MAR supersedes the operator's cap filings of
    the next period: the caps keep their value, unfiled, until the authorizing body files them again within
    the reduced MAR.
    """

    treasury_yield: Rate
    profit_margin_over_yield: Rate
    over_mar: Literal["deduct_next_period", "none"]
    period_months: Annotated[int, Field(ge=1, le=120)]
    profit_rule: Literal["treasury_plus_margin", "fixed"] = "treasury_plus_margin"
    fixed_profit_rate: Rate = Decimal("0")
    cost_categories: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=["platform", "data_processing", "staff", "security", "other"], min_length=1, max_length=50
    )
    trial_caps: bool = True
    reset_caps_on_close: bool = False


# ---------------------------------------------------------------- registration & authorization


class Registration(_Section):
    mandatory_scopes: list[ChannelName]
    products_mandatory: bool
    validity_years: Years
    public_notice_working_days: StageDays
    # A renewal may be filed this many days before the registration's validity ends (not after).
    renewal_window_days: Annotated[int, Field(ge=1, le=3660)] = 90
    # The registrar decides an objection within this many working days of its filing ...
    objection_working_days: Annotated[int, Field(ge=1, le=366)] = 10
    # ... else it is escalated (flagged, nothing decided) or deemed dismissed.
    objection_breach: Literal["escalate", "deemed_dismissed"] = "escalate"
    # A product whose registration expires leaves the shelf until it is registered again.
    expiry_withdraws_listing: bool = True


class Authorization(_Section):
    max_term_years: Years
    # Who may propose: only an implementing institution its government designated (True), or any agency staff.
    implementing_institution_only: bool = True
    # Whose resources: those held in the designating government's region (and domain, when designated per
    # sector), or any.
    jurisdiction: Literal["holder_region", "any"] = "holder_region"
    # An implementation plan approved by the government must cover the scope before an operator is authorized.
    plan_required: bool = True
    # Working days the operator has to return or destroy the data once its authorization ends.
    exit_duty_working_days: Annotated[int, Field(ge=1, le=366)] = 20
    # Grants resting on an ended authorization: suspended (no delivery) or left to run.
    suspend_grants_on_end: bool = True


# ---------------------------------------------------------------- operator selection

#: The criteria a competitive selection scores (0-100 each), weighted by `[selection.weights]`.
SELECTION_CRITERIA = ("technical", "security", "service_plan", "fee_proposal")
#: Grounds a direct award may name (Government Procurement Law art. 31, single-source procurement).
AWARD_GROUNDS = ("sole_supplier", "emergency", "continuity")


class Qualification(_Section):
    """What an applicant must show to be qualified: declared (security protection level, registered capital)
    and recorded (sanctions, major security incidents)."""

    # Level of China's classified protection of cybersecurity (MLPS, GB/T 22239-2019) of the platform, 1-5.
    min_security_level: Annotated[int, Field(ge=1, le=5)] = 3
    min_registered_capital: Money = Decimal("10000000.00")
    # No suspension or termination from an evaluation within this many years, and no rectification order open.
    sanction_free_years: Annotated[int, Field(ge=0, le=50)] = 3
    # No major security incident recorded within this many years.
    incident_free_years: Annotated[int, Field(ge=0, le=50)] = 3


class SelectionWeights(_Section):
    """Weight (percent) of each criterion in a competitive selection's total; they add up to 100."""

    technical: Annotated[int, Field(ge=0, le=100)] = 30
    security: Annotated[int, Field(ge=0, le=100)] = 30
    service_plan: Annotated[int, Field(ge=0, le=100)] = 20
    fee_proposal: Annotated[int, Field(ge=0, le=100)] = 20


class Selection(_Section):
    """How the implementing institution chooses the operator before an authorization comes into force."""

    # An authorization is activated only for an operator chosen by a decided round or an allowed direct award.
    required: bool = True
    # Direct award (no competition): never, only on the grounds listed, or on any recorded justification.
    direct_award: Literal["never", "grounds", "any"] = "grounds"
    direct_award_grounds: list[Literal["sole_supplier", "emergency", "continuity"]] = list(AWARD_GROUNDS)
    min_justification_chars: Annotated[int, Field(ge=1, le=2000)] = 40
    # A competitive round with fewer qualified, scored applicants fails (then a new round or a direct award).
    min_qualified_applicants: Annotated[int, Field(ge=1, le=100)] = 1
    # Working days the result stays on public notice.
    notice_working_days: Annotated[int, Field(ge=0, le=366)] = 5
    qualification: Qualification = Qualification()
    weights: SelectionWeights = SelectionWeights()


# ---------------------------------------------------------------- deadlines


class OnBreachByStage(_Section):
    compliance: Breach | None = None
    holder: Breach | None = None
    security: Breach | None = None


class Deadlines(_Section):
    """Working days per review stage; stages run in sequence."""

    compliance: StageDays
    holder_published: StageDays
    holder_unpublished: StageDays
    conditional_open: StageDays
    conditional_open_extension: StageDays
    security: StageDays
    on_breach: Breach
    on_breach_by_stage: OnBreachByStage = OnBreachByStage()


CalendarDays = Annotated[list[date], Field(max_length=MAX_CALENDAR_DAYS)]


class Calendar(_Section):
    """Changes to China's official holiday schedule (which comes from the `holidays` package).

    Empty lists mean the official schedule as it is. See docs/policy-sources.md#working-days.
    """

    extra_holidays: CalendarDays = []   # weekdays off that the official schedule does not have
    not_holidays: CalendarDays = []     # official days off (weekdays) that are working days here
    extra_workdays: CalendarDays = []   # Saturdays/Sundays worked that the official schedule does not have
    not_workdays: CalendarDays = []     # official make-up days (Saturdays/Sundays) that are off here
    # years whose notice the lists supply
    notice_years: Annotated[list[Annotated[int, Field(ge=1, le=9999)]], Field(max_length=50)] = []


# ---------------------------------------------------------------- routing


class AttributeStages(_Section):
    unconditional: list[ReviewStageName]
    conditional: list[ReviewStageName]


class StagesByKind(_Section):
    """Review stages of a product sale for one product kind; a kind left out uses the channel's list."""

    dataset: list[ReviewStageName] | None = None
    api: list[ReviewStageName] | None = None
    report: list[ReviewStageName] | None = None

    def get(self, kind: ProductKind) -> list[ReviewStage] | None:
        return getattr(self, kind.value)


class Stages(_Section):
    sharing: AttributeStages
    opening: AttributeStages
    authorized_operation: list[ReviewStageName]
    authorized_operation_by_kind: StagesByKind = StagesByKind()


class StageSources(_Section):
    """Where each review stage comes from: a document by name and number, or "assumption: <why>"."""

    compliance: Text = ""
    holder: Text = ""
    security: Text = ""


class ReviewerRoles(_Section):
    compliance: RoleName
    holder: RoleName
    security: RoleName


class GradeChannels(_Section):
    general: list[ChannelName]
    important: list[ChannelName]
    core: list[ChannelName]


class RequesterKinds(_Section):
    sharing: list[OrganizationKindName]
    opening: list[OrganizationKindName]
    authorized_operation: list[OrganizationKindName]


class RoutingRules(_Section):
    grade_channels: GradeChannels
    important_products_processed_only: bool
    raw_data_to_market: bool
    personal_info_forces_conditional_open: bool
    open_by_default_grades: list[GradeName] = []
    requester_kinds: RequesterKinds
    stages: Stages
    stage_sources: StageSources = StageSources()
    reviewer_roles: ReviewerRoles


# ---------------------------------------------------------------- conditions & privacy


class Conditions(_Section):
    max_grant_days: Days
    no_onward_transfer: list[ChannelName] = []
    report_usage: list[ChannelName] = []


class Privacy(_Section):
    k: Annotated[int, Field(ge=2, le=MAX_K)]
    l: Annotated[int, Field(ge=1, le=MAX_L)]  # noqa: E741 - the literature's name for l-diversity
    suppression_budget: Rate
    epsilon_budget_per_resource: Annotated[Amount, Field(ge=0, le=1000)]
    min_cell_size: PosInt
    aggregate_only_grades: list[GradeName] = []


# ---------------------------------------------------------------- in-domain computation


class ChannelModes(_Section):
    """The delivery mode on each channel for one grade."""

    sharing: DeliveryModeName
    opening: DeliveryModeName
    authorized_operation: DeliveryModeName


class DeliveryModes(_Section):
    general: ChannelModes
    important: ChannelModes
    core: ChannelModes


class ComputeBilling(_Section):
    """The billing unit of each computation product kind."""

    aggregate_query: ComputeUnitName
    dp_release: ComputeUnitName
    model_training: ComputeUnitName
    verification: ComputeUnitName

    def get(self, kind: ComputeKind) -> ComputeUnit:
        return getattr(self, kind.value)


class ComputeCaps(_Section):
    per_query: Money
    per_call: Money
    per_model: Money

    def get(self, unit: ComputeUnit) -> Decimal:
        return getattr(self, unit.value)


Epsilon = Annotated[Amount, Field(gt=0, le=100)]


class Compute(_Section):
    """The controlled processing environment: delivery modes, what a computation may do, budgets, prices."""

    delivery: DeliveryModes
    domains: list[Annotated[str, Field(max_length=64)]] = Field(min_length=0, max_length=100)
    kinds: list[ComputeKindName] = Field(min_length=1)
    max_result_rows: PosInt
    near_unique_ratio: Rate
    queries_per_day: PosInt
    epsilon_per_query_max: Epsilon
    epsilon_per_grant: Epsilon
    epsilon_per_requester: Epsilon
    delta: Annotated[Amount, Field(ge=0, lt=Decimal("0.001"))]
    min_rows_per_parameter: PosInt
    max_model_parameters: PosInt
    verifications_per_day: PosInt
    billing: ComputeBilling
    caps: ComputeCaps


# ---------------------------------------------------------------- supervision


class Supervision(_Section):
    """The yearly evaluation of each operator: points per recorded fact, and the score each outcome starts at
    (warning < rectification order < suspension < termination)."""

    complaint: NonNegInt = 1
    incident_minor: NonNegInt = 2
    incident_major: NonNegInt = 6
    exit_duty_overdue: NonNegInt = 2
    usage_report_overdue: NonNegInt = 1
    over_mar: NonNegInt = 3
    disclosure_breach: NonNegInt = 2
    warning_from: PosInt = 1
    rectification_from: PosInt = 3
    suspension_from: PosInt = 6
    termination_from: PosInt = 10
    rectification_days: PosInt = 30


# ---------------------------------------------------------------- sharing responsibility lists


class SharingLists(_Section):
    """Sharing responsibility lists (共享责任清单): a department's resources it must share.

    `binds_holder`: a sharing request citing an entry leaves the holder no discretion (deadline only).
    `publisher`: who publishes and maintains a department's list, its region's data authority or the
    department itself.
    """

    enabled: bool = True
    binds_holder: bool = True
    publisher: Literal["data_authority", "holder"] = "data_authority"


# ---------------------------------------------------------------- disclosure


class Publish(_Section):
    caps: bool
    product_lists: bool
    prices: bool
    use_statements: bool
    mar_compliance: bool


def _day_of_every_year(value: str) -> str:
    """A yearly deadline "MM-DD" must be a real day in every year: "02-30" and "04-31" never come, and
    "02-29" comes only in leap years."""
    month, day = int(value[:2]), int(value[3:])
    try:
        date(2001, month, day)  # a common year
    except ValueError:
        raise ValueError(f"a day that exists in every year (MM-DD); {value} does not") from None
    return value


class Disclosure(_Section):
    frequency: Literal["yearly"]
    deadline: Annotated[
        str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"), AfterValidator(_day_of_every_year)
    ]
    publish: Publish
    # The first year each party must disclose (its publication falls due by `deadline` the year after).
    first_year: PosInt = 2025


# ---------------------------------------------------------------- the policy


class Policy(_Section):
    """A complete, validated policy. Load one with `load_policy`."""

    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=50)
    description: Text = ""
    purposes: Purposes
    pricing: Pricing
    mar: Mar
    registration: Registration
    authorization: Authorization
    deadlines: Deadlines
    calendar: Calendar = Calendar()
    routing: RoutingRules
    conditions: Conditions
    privacy: Privacy
    compute: Compute
    disclosure: Disclosure
    supervision: Supervision = Supervision()
    selection: Selection = Selection()
    sharing_lists: SharingLists = SharingLists()
    sources: dict[Annotated[str, Field(max_length=200)], Text] = Field(
        default={}, description="dotted policy key -> its source (document name and number) or 'assumption'"
    )

    @property
    def allowed_profit_rate(self) -> Decimal:
        """The cap on the MAR profit rate: treasury yield + margin, or the fixed rate (`mar.profit_rule`)."""
        if self.mar.profit_rule == "fixed":
            return self.mar.fixed_profit_rate
        return self.mar.treasury_yield + self.mar.profit_margin_over_yield


# Purposes kept in a constant for the loader's cross checks.
ALL_PURPOSES = tuple(p.value for p in Purpose)
ALL_SIZES = tuple(s.value for s in EnterpriseSize)
