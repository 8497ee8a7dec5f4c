"""Baseline: the schema of the first release, exactly as its models created it.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-06

A database made before revisions existed has these tables and no `alembic_version`: this revision is run on
it, and because every table and index is created only if it does not exist yet, that adds what a sandbox from
an even earlier release lacks, keeps every row, and records the database as this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "actionreceipt",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_actionreceipt_account_id"), "actionreceipt", ["account_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_checkpoint_name"), "checkpoint", ["name"], unique=True, if_not_exists=True)

    op.create_table(
        "organization",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "department",
                "institution",
                "enterprise",
                "research",
                "nonprofit",
                "operator",
                "regulator",
                name="organizationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "size",
            sa.Enum("micro", "small", "medium", "large", name="enterprisesize", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_organization_code"), "organization", ["code"], unique=True, if_not_exists=True)
    op.create_index(op.f("ix_organization_kind"), "organization", ["kind"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_organization_region"), "organization", ["region"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_organization_size"), "organization", ["size"], unique=False, if_not_exists=True)

    op.create_table(
        "sandboxsetting",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        if_not_exists=True,
    )
    op.create_table(
        "account",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_account_organization_id"), "account", ["organization_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_account_username"), "account", ["username"], unique=True, if_not_exists=True)

    op.create_table(
        "authorization",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column(
            "model",
            sa.Enum(
                "overall", "by_sector", "by_scenario", name="authorizationmodel", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "agreed",
                "active",
                "expired",
                "terminated",
                name="authorizationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_authorization_agency_id"), "authorization", ["agency_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_authorization_code"), "authorization", ["code"], unique=True, if_not_exists=True)
    op.create_index(
        op.f("ix_authorization_model"), "authorization", ["model"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_authorization_operator_id"),
        "authorization",
        ["operator_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_authorization_status"), "authorization", ["status"], unique=False, if_not_exists=True
    )

    op.create_table(
        "resource",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum("general", "important", "core", name="grade", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "sharing_attribute",
            sa.Enum(
                "unconditional",
                "conditional",
                "not_shared",
                name="sharingattribute",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "opening_attribute",
            sa.Enum(
                "unconditional",
                "conditional",
                "not_open",
                name="openingattribute",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("update_frequency", sa.String(length=32), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("cost_basis", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("epsilon_budget", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_resource_code"), "resource", ["code"], unique=True, if_not_exists=True)
    op.create_index(op.f("ix_resource_domain"), "resource", ["domain"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_resource_grade"), "resource", ["grade"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_resource_holder_id"), "resource", ["holder_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_resource_opening_attribute"),
        "resource",
        ["opening_attribute"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_resource_sharing_attribute"),
        "resource",
        ["sharing_attribute"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "revenueperiod",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("operating_cost", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("profit_rate", sa.Numeric(precision=8, scale=5), nullable=False),
        sa.Column("taxes", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("mar", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("deduction", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operator_id", "year"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_revenueperiod_operator_id"),
        "revenueperiod",
        ["operator_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_revenueperiod_year"), "revenueperiod", ["year"], unique=False, if_not_exists=True
    )

    op.create_table(
        "accountrole",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "requester",
                "steward",
                "security_reviewer",
                "operator",
                "registrar",
                "regulator",
                "trainer",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "role"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_accountrole_account_id"), "accountrole", ["account_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_accountrole_role"), "accountrole", ["role"], unique=False, if_not_exists=True)

    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum("ok", "refused", name="auditoutcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_auditevent_action"), "auditevent", ["action"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_auditevent_actor_id"), "auditevent", ["actor_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_auditevent_outcome"), "auditevent", ["outcome"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_auditevent_seq"), "auditevent", ["seq"], unique=True, if_not_exists=True)
    op.create_index(
        op.f("ix_auditevent_subject_id"), "auditevent", ["subject_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "authorizationresource",
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["authorization_id"], ["authorization.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.PrimaryKeyConstraint("authorization_id", "resource_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_authorizationresource_resource_id"),
        "authorizationresource",
        ["resource_id"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "exerciserelease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_exerciserelease_exercise_id"),
        "exerciserelease",
        ["exercise_id"],
        unique=True,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_exerciserelease_released_by_id"),
        "exerciserelease",
        ["released_by_id"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("join_code_hash", sa.String(length=64), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_participant_account_id"), "participant", ["account_id"], unique=True, if_not_exists=True
    )
    op.create_index(op.f("ix_participant_group"), "participant", ["group"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_participant_join_code_hash"),
        "participant",
        ["join_code_hash"],
        unique=True,
        if_not_exists=True,
    )

    op.create_table(
        "product",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("dataset", "api", "report", name="productkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("transformation", sa.String(length=32), nullable=False),
        sa.Column(
            "billing_unit",
            sa.Enum(
                "per_product",
                "per_call",
                "per_month",
                "per_record",
                name="billingunit",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("unit_cost", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("price_cap", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("actual_price", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "registered",
                "priced",
                "listed",
                "withdrawn",
                name="productstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_product_authorization_id"), "product", ["authorization_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_product_billing_unit"), "product", ["billing_unit"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_product_code"), "product", ["code"], unique=True, if_not_exists=True)
    op.create_index(op.f("ix_product_kind"), "product", ["kind"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_product_operator_id"), "product", ["operator_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_product_status"), "product", ["status"], unique=False, if_not_exists=True)

    op.create_table(
        "resourcefield",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "dtype",
            sa.Enum(
                "string",
                "integer",
                "number",
                "date",
                "category",
                "boolean",
                name="fieldtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "marking",
            sa.Enum(
                "identifier",
                "quasi_identifier",
                "sensitive",
                "other",
                name="fieldmarking",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("generator", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "name"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_resourcefield_marking"), "resourcefield", ["marking"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_resourcefield_resource_id"),
        "resourcefield",
        ["resource_id"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "accessrequest",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("requester_org_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "sharing", "opening", "authorized_operation", name="channel", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum(
                "public_governance",
                "public_welfare",
                "industry_development",
                "sector_development",
                "research",
                name="purpose",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("use_statement", sa.String(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "in_review",
                "returned",
                "approved",
                "approved_with_conditions",
                "rejected",
                "withdrawn",
                "granted",
                "delivered",
                "expired",
                "revoked",
                name="requeststatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_org_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_accessrequest_channel"), "accessrequest", ["channel"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_accessrequest_code"), "accessrequest", ["code"], unique=True, if_not_exists=True)
    op.create_index(
        op.f("ix_accessrequest_product_id"), "accessrequest", ["product_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_accessrequest_purpose"), "accessrequest", ["purpose"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_accessrequest_requester_id"),
        "accessrequest",
        ["requester_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_accessrequest_requester_org_id"),
        "accessrequest",
        ["requester_org_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_accessrequest_resource_id"),
        "accessrequest",
        ["resource_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_accessrequest_status"), "accessrequest", ["status"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_accessrequest_submitted_at"),
        "accessrequest",
        ["submitted_at"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "productresource",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.PrimaryKeyConstraint("product_id", "resource_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_productresource_resource_id"),
        "productresource",
        ["resource_id"],
        unique=False,
        if_not_exists=True,
    )

    op.create_table(
        "registration",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column(
            "subject",
            sa.Enum("resource", "product", name="registrationsubject", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column(
            "type",
            sa.Enum(
                "initial",
                "change",
                "correction",
                "deregistration",
                name="registrationtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "accepted",
                "under_review",
                "public_notice",
                "registered",
                "rejected",
                "changed",
                "corrected",
                "deregistered",
                "expired",
                name="registrationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column("registrar_id", sa.Integer(), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_until", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["registration.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registrar_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_registration_applicant_id"),
        "registration",
        ["applicant_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(op.f("ix_registration_code"), "registration", ["code"], unique=True, if_not_exists=True)
    op.create_index(
        op.f("ix_registration_previous_id"), "registration", ["previous_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_registration_product_id"), "registration", ["product_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_registration_registrar_id"),
        "registration",
        ["registrar_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_registration_resource_id"), "registration", ["resource_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_registration_status"), "registration", ["status"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_registration_subject"), "registration", ["subject"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_registration_type"), "registration", ["type"], unique=False, if_not_exists=True)

    op.create_table(
        "grant",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "expired", "revoked", name="grantstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("revoked_reason", sa.String(), nullable=False),
        sa.Column("usage_report_due", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_grant_code"), "grant", ["code"], unique=True, if_not_exists=True)
    op.create_index(op.f("ix_grant_request_id"), "grant", ["request_id"], unique=True, if_not_exists=True)
    op.create_index(op.f("ix_grant_status"), "grant", ["status"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_grant_valid_until"), "grant", ["valid_until"], unique=False, if_not_exists=True)

    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("offered", "accepted", "superseded", name="quotestatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_quote_request_id"), "quote", ["request_id"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_quote_status"), "quote", ["status"], unique=False, if_not_exists=True)

    op.create_table(
        "review",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("compliance", "holder", "security", name="reviewstage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "reviewer_role",
            sa.Enum(
                "requester",
                "steward",
                "security_reviewer",
                "operator",
                "registrar",
                "regulator",
                "trainer",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reviewer_org_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "decided",
                "deemed",
                "escalated",
                "cancelled",
                name="reviewstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "approve",
                "approve_with_conditions",
                "reject",
                "return_for_revision",
                name="decision",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_org_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "sequence"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_review_breached"), "review", ["breached"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_review_due_on"), "review", ["due_on"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_review_request_id"), "review", ["request_id"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_review_reviewer_id"), "review", ["reviewer_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_review_reviewer_org_id"), "review", ["reviewer_org_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_review_stage"), "review", ["stage"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_review_status"), "review", ["status"], unique=False, if_not_exists=True)

    op.create_table(
        "condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "deidentify",
                "aggregate",
                "fields",
                "no_onward_transfer",
                "expires_after",
                "report_usage",
                name="conditionkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_condition_kind"), "condition", ["kind"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_condition_request_id"), "condition", ["request_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_condition_review_id"), "condition", ["review_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("rows", "aggregate", name="deliverykind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("privacy_report", sa.JSON(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_delivery_grant_id"), "delivery", ["grant_id"], unique=False, if_not_exists=True)
    op.create_index(op.f("ix_delivery_kind"), "delivery", ["kind"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_delivery_request_id"), "delivery", ["request_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("operator_revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("holder_share", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("taxes", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quote.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quote_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_payment_operator_id"), "payment", ["operator_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_payment_quote_id"), "payment", ["quote_id"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_payment_request_id"), "payment", ["request_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "usagereport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=False),
        sa.Column("period_due", sa.Date(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["filed_by_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["accessrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_usagereport_filed_by_id"), "usagereport", ["filed_by_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_usagereport_grant_id"), "usagereport", ["grant_id"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_usagereport_request_id"), "usagereport", ["request_id"], unique=False, if_not_exists=True
    )

    op.create_table(
        "noiseledgerentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("mechanism", sa.String(length=32), nullable=False),
        sa.Column("query", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_noiseledgerentry_delivery_id"),
        "noiseledgerentry",
        ["delivery_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_noiseledgerentry_resource_id"),
        "noiseledgerentry",
        ["resource_id"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    with op.batch_alter_table("noiseledgerentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_noiseledgerentry_resource_id"))
        batch_op.drop_index(batch_op.f("ix_noiseledgerentry_delivery_id"))

    op.drop_table("noiseledgerentry")
    with op.batch_alter_table("usagereport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usagereport_request_id"))
        batch_op.drop_index(batch_op.f("ix_usagereport_grant_id"))
        batch_op.drop_index(batch_op.f("ix_usagereport_filed_by_id"))

    op.drop_table("usagereport")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_request_id"))
        batch_op.drop_index(batch_op.f("ix_payment_quote_id"))
        batch_op.drop_index(batch_op.f("ix_payment_operator_id"))

    op.drop_table("payment")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_request_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_kind"))
        batch_op.drop_index(batch_op.f("ix_delivery_grant_id"))

    op.drop_table("delivery")
    with op.batch_alter_table("condition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_condition_review_id"))
        batch_op.drop_index(batch_op.f("ix_condition_request_id"))
        batch_op.drop_index(batch_op.f("ix_condition_kind"))

    op.drop_table("condition")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_status"))
        batch_op.drop_index(batch_op.f("ix_review_stage"))
        batch_op.drop_index(batch_op.f("ix_review_reviewer_org_id"))
        batch_op.drop_index(batch_op.f("ix_review_reviewer_id"))
        batch_op.drop_index(batch_op.f("ix_review_request_id"))
        batch_op.drop_index(batch_op.f("ix_review_due_on"))
        batch_op.drop_index(batch_op.f("ix_review_breached"))

    op.drop_table("review")
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_status"))
        batch_op.drop_index(batch_op.f("ix_quote_request_id"))

    op.drop_table("quote")
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_valid_until"))
        batch_op.drop_index(batch_op.f("ix_grant_status"))
        batch_op.drop_index(batch_op.f("ix_grant_request_id"))
        batch_op.drop_index(batch_op.f("ix_grant_code"))

    op.drop_table("grant")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_type"))
        batch_op.drop_index(batch_op.f("ix_registration_subject"))
        batch_op.drop_index(batch_op.f("ix_registration_status"))
        batch_op.drop_index(batch_op.f("ix_registration_resource_id"))
        batch_op.drop_index(batch_op.f("ix_registration_registrar_id"))
        batch_op.drop_index(batch_op.f("ix_registration_product_id"))
        batch_op.drop_index(batch_op.f("ix_registration_previous_id"))
        batch_op.drop_index(batch_op.f("ix_registration_code"))
        batch_op.drop_index(batch_op.f("ix_registration_applicant_id"))

    op.drop_table("registration")
    with op.batch_alter_table("productresource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_productresource_resource_id"))

    op.drop_table("productresource")
    with op.batch_alter_table("accessrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accessrequest_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_status"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_resource_id"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_requester_org_id"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_requester_id"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_purpose"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_product_id"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_code"))
        batch_op.drop_index(batch_op.f("ix_accessrequest_channel"))

    op.drop_table("accessrequest")
    with op.batch_alter_table("resourcefield", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resourcefield_resource_id"))
        batch_op.drop_index(batch_op.f("ix_resourcefield_marking"))

    op.drop_table("resourcefield")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_status"))
        batch_op.drop_index(batch_op.f("ix_product_operator_id"))
        batch_op.drop_index(batch_op.f("ix_product_kind"))
        batch_op.drop_index(batch_op.f("ix_product_code"))
        batch_op.drop_index(batch_op.f("ix_product_billing_unit"))
        batch_op.drop_index(batch_op.f("ix_product_authorization_id"))

    op.drop_table("product")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_join_code_hash"))
        batch_op.drop_index(batch_op.f("ix_participant_group"))
        batch_op.drop_index(batch_op.f("ix_participant_account_id"))

    op.drop_table("participant")
    with op.batch_alter_table("exerciserelease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exerciserelease_released_by_id"))
        batch_op.drop_index(batch_op.f("ix_exerciserelease_exercise_id"))

    op.drop_table("exerciserelease")
    with op.batch_alter_table("authorizationresource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorizationresource_resource_id"))

    op.drop_table("authorizationresource")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_subject_id"))
        batch_op.drop_index(batch_op.f("ix_auditevent_seq"))
        batch_op.drop_index(batch_op.f("ix_auditevent_outcome"))
        batch_op.drop_index(batch_op.f("ix_auditevent_actor_id"))
        batch_op.drop_index(batch_op.f("ix_auditevent_action"))

    op.drop_table("auditevent")
    with op.batch_alter_table("accountrole", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accountrole_role"))
        batch_op.drop_index(batch_op.f("ix_accountrole_account_id"))

    op.drop_table("accountrole")
    with op.batch_alter_table("revenueperiod", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revenueperiod_year"))
        batch_op.drop_index(batch_op.f("ix_revenueperiod_operator_id"))

    op.drop_table("revenueperiod")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_sharing_attribute"))
        batch_op.drop_index(batch_op.f("ix_resource_opening_attribute"))
        batch_op.drop_index(batch_op.f("ix_resource_holder_id"))
        batch_op.drop_index(batch_op.f("ix_resource_grade"))
        batch_op.drop_index(batch_op.f("ix_resource_domain"))
        batch_op.drop_index(batch_op.f("ix_resource_code"))

    op.drop_table("resource")
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_status"))
        batch_op.drop_index(batch_op.f("ix_authorization_operator_id"))
        batch_op.drop_index(batch_op.f("ix_authorization_model"))
        batch_op.drop_index(batch_op.f("ix_authorization_code"))
        batch_op.drop_index(batch_op.f("ix_authorization_agency_id"))

    op.drop_table("authorization")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_username"))
        batch_op.drop_index(batch_op.f("ix_account_organization_id"))

    op.drop_table("account")
    op.drop_table("sandboxsetting")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_size"))
        batch_op.drop_index(batch_op.f("ix_organization_region"))
        batch_op.drop_index(batch_op.f("ix_organization_kind"))
        batch_op.drop_index(batch_op.f("ix_organization_code"))

    op.drop_table("organization")
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoint_name"))

    op.drop_table("checkpoint")
    with op.batch_alter_table("actionreceipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actionreceipt_account_id"))

    op.drop_table("actionreceipt")
