"""SQLModel tables, one module per aggregate (docs/architecture.md#packages).

Importing this package registers every table.
"""

from marketplace.models.audit import AuditEvent
from marketplace.models.catalog import (
    DatasetCopies,
    Objection,
    Registration,
    Resource,
    ResourceField,
    SharingList,
    SharingListEntry,
)
from marketplace.models.commerce import (
    Authorization,
    AuthorizationResource,
    CapFiling,
    Complaint,
    CostFiling,
    Designation,
    Evaluation,
    ExitDuty,
    ImplementationPlan,
    Payment,
    PlanResource,
    Product,
    ProductResource,
    Publication,
    Quote,
    RevenuePeriod,
    SecurityIncident,
    SelectionApplication,
    SelectionResource,
    SelectionRound,
)
from marketplace.models.compute import ComputeAllowance, ComputeRun
from marketplace.models.parties import Account, AccountRole, Organization
from marketplace.models.requests import AccessRequest, Condition, Delivery, Grant, Review, UsageReport
from marketplace.models.sandbox import SandboxSetting
from marketplace.models.workshop import (
    ActionReceipt,
    Checkpoint,
    ExerciseRelease,
    Participant,
    SessionToken,
)

__all__ = [
    "AccessRequest",
    "Account",
    "AccountRole",
    "ActionReceipt",
    "AuditEvent",
    "Authorization",
    "AuthorizationResource",
    "CapFiling",
    "Checkpoint",
    "Complaint",
    "ComputeAllowance",
    "ComputeRun",
    "Condition",
    "CostFiling",
    "DatasetCopies",
    "Delivery",
    "Designation",
    "Evaluation",
    "ExerciseRelease",
    "ExitDuty",
    "Grant",
    "ImplementationPlan",
    "Objection",
    "Organization",
    "Participant",
    "Payment",
    "PlanResource",
    "Product",
    "ProductResource",
    "Publication",
    "Quote",
    "Registration",
    "Resource",
    "ResourceField",
    "RevenuePeriod",
    "Review",
    "SandboxSetting",
    "SecurityIncident",
    "SelectionApplication",
    "SelectionResource",
    "SelectionRound",
    "SessionToken",
    "SharingList",
    "SharingListEntry",
    "UsageReport",
]
