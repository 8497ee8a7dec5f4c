"""The domain vocabulary (docs/vocabulary.md) as string enums.

A leaf module (no imports of ours) so that the pure `policy` layer, the tables in `models` and the
simulator can all share one spelling of every kind, status and purpose. Values are the exact words of
docs/vocabulary.md, so they read the same in code, in the database, in TOML policy files and in the UI.
"""

from __future__ import annotations

from enum import StrEnum


class OrganizationKind(StrEnum):
    department = "department"
    institution = "institution"
    enterprise = "enterprise"
    research = "research"
    nonprofit = "nonprofit"
    operator = "operator"
    regulator = "regulator"
    government = "government"


class EnterpriseSize(StrEnum):
    micro = "micro"
    small = "small"
    medium = "medium"
    large = "large"


class Role(StrEnum):
    requester = "requester"
    steward = "steward"
    security_reviewer = "security_reviewer"
    operator = "operator"
    registrar = "registrar"
    regulator = "regulator"
    trainer = "trainer"
    authorizer = "authorizer"


class Grade(StrEnum):
    """Data grade after GB/T 43697-2024."""

    general = "general"
    important = "important"
    core = "core"


class SharingAttribute(StrEnum):
    unconditional = "unconditional"
    conditional = "conditional"
    not_shared = "not_shared"


class OpeningAttribute(StrEnum):
    unconditional = "unconditional"
    conditional = "conditional"
    not_open = "not_open"


class FieldMarking(StrEnum):
    identifier = "identifier"
    quasi_identifier = "quasi_identifier"
    sensitive = "sensitive"
    other = "other"


class FieldType(StrEnum):
    string = "string"
    integer = "integer"
    number = "number"
    date = "date"
    category = "category"
    boolean = "boolean"


class Channel(StrEnum):
    sharing = "sharing"
    opening = "opening"
    authorized_operation = "authorized_operation"


class Purpose(StrEnum):
    public_governance = "public_governance"
    public_welfare = "public_welfare"
    industry_development = "industry_development"
    sector_development = "sector_development"
    research = "research"


class RegistrationType(StrEnum):
    initial = "initial"
    change = "change"
    correction = "correction"
    deregistration = "deregistration"
    renewal = "renewal"


class RegistrationStatus(StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    under_review = "under_review"
    public_notice = "public_notice"
    registered = "registered"
    rejected = "rejected"
    changed = "changed"
    corrected = "corrected"
    deregistered = "deregistered"
    expired = "expired"
    renewed = "renewed"


class RegistrationSubject(StrEnum):
    resource = "resource"
    product = "product"


class AuthorizationModel(StrEnum):
    overall = "overall"
    by_sector = "by_sector"
    by_scenario = "by_scenario"


class AuthorizationStatus(StrEnum):
    proposed = "proposed"
    agreed = "agreed"
    active = "active"
    expired = "expired"
    terminated = "terminated"


class PlanStatus(StrEnum):
    """An implementation plan: drafted by the implementing institution, decided by the government."""

    drafted = "drafted"
    approved = "approved"
    rejected = "rejected"


class SelectionMethod(StrEnum):
    """How an operator is chosen: an open competition, or a direct award where the policy allows one."""

    competitive = "competitive"
    direct_award = "direct_award"


class SelectionStatus(StrEnum):
    """A selection round: open for applications, decided (a winner), or failed (too few qualified)."""

    open = "open"
    decided = "decided"
    failed = "failed"


class ObjectionStatus(StrEnum):
    """An objection filed during a registration's public notice, decided by the registrar."""

    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class ProductKind(StrEnum):
    dataset = "dataset"
    api = "api"
    report = "report"


class BillingUnit(StrEnum):
    per_product = "per_product"
    per_call = "per_call"
    per_month = "per_month"
    per_record = "per_record"


class ComputeKind(StrEnum):
    """Computation products: the requester's computation runs where the data lives; only its result leaves."""

    aggregate_query = "aggregate_query"
    dp_release = "dp_release"
    model_training = "model_training"
    verification = "verification"


class ComputeUnit(StrEnum):
    """Billing units of computation products (priced under `compute.caps` of the policy)."""

    per_query = "per_query"
    per_call = "per_call"
    per_model = "per_model"


class DeliveryMode(StrEnum):
    """How a grant is delivered: records (de-identified rows), computation results only, or either."""

    rows = "rows"
    compute = "compute"
    either = "either"


class ProductStatus(StrEnum):
    draft = "draft"
    registered = "registered"
    priced = "priced"
    listed = "listed"
    withdrawn = "withdrawn"


class RequestStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    returned = "returned"
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"
    withdrawn = "withdrawn"
    granted = "granted"
    delivered = "delivered"
    expired = "expired"
    revoked = "revoked"


class ReviewStage(StrEnum):
    """Review stages a policy can route a request through."""

    compliance = "compliance"
    holder = "holder"
    security = "security"


class ReviewStatus(StrEnum):
    pending = "pending"
    decided = "decided"
    deemed = "deemed"
    escalated = "escalated"
    cancelled = "cancelled"


class Decision(StrEnum):
    approve = "approve"
    approve_with_conditions = "approve_with_conditions"
    reject = "reject"
    return_for_revision = "return_for_revision"


class ConditionKind(StrEnum):
    deidentify = "deidentify"
    aggregate = "aggregate"
    fields = "fields"
    no_onward_transfer = "no_onward_transfer"
    expires_after = "expires_after"
    report_usage = "report_usage"
    no_commercial_use = "no_commercial_use"
    publish_results = "publish_results"


class QuoteStatus(StrEnum):
    offered = "offered"
    accepted = "accepted"
    superseded = "superseded"
    metered = "metered"  # computations run under a grant, paid as they run (not the request's quote)


class GrantStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    expired = "expired"
    revoked = "revoked"


class ExitDutyStatus(StrEnum):
    """The operator's duty to return or destroy the data of an authorization that has ended."""

    open = "open"
    completed = "completed"


class DeliveryKind(StrEnum):
    rows = "rows"
    aggregate = "aggregate"


class AuditOutcome(StrEnum):
    ok = "ok"
    refused = "refused"


# Bounds on user input that several layers check (policy schema, workflows, command-line options). They live
# in this leaf module so that declaring a command-line option does not import the layer that enforces it.
#: Largest k and ℓ a policy may ask for: far above any published guidance, small enough to be deliverable.
MAX_K = 1000
MAX_L = 100
#: Most units one request may ask for.
MAX_VOLUME = 10_000_000
