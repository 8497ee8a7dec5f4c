"""Who may do what. Enforced here, never in the UI: every refusal raises PermissionDenied and is logged.

Rules: a requester files requests and cannot review their own; a steward reviews and
delivers only for their organization's resources; a security_reviewer takes the security stage; an operator
acts only on its own organization's products; the registrar registers (and checks compliance where the policy
says so); the regulator reads everything and sets caps; the trainer administers the sandbox (clock, reset,
policy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from marketplace.errors import NotFound, PermissionDenied
from marketplace.models import Account, AccountRole
from marketplace.vocabulary import Role
from marketplace.workflows import audit

__all__ = [
    "account",
    "accounts_with_role",
    "has_role",
    "label",
    "require",
    "require_org",
    "require_role",
    "roles_of",
    "supplies",
]


def label(actor: Account | None) -> str:
    return "the system" if actor is None else f"{actor.username}"


def roles_of(actor: Account) -> set[Role]:
    """The account's roles as stored now (read every time: a role granted or taken away counts at once)."""
    session = object_session(actor)
    if session is None or actor.id is None:
        return actor.role_names
    return set(session.exec(select(AccountRole.role).where(AccountRole.account_id == actor.id)).all())


def has_role(actor: Account | None, role: Role | str) -> bool:
    return actor is not None and actor.active and Role(role) in roles_of(actor)


def supplies(actor: Account | None, request: Any) -> bool:
    """Whether `actor` supplies `request`: the product's operator, or a steward of the resource's holder."""
    if actor is None:
        return False
    if request.product_id is not None:
        return has_role(actor, Role.operator) and actor.organization_id == request.product.operator_id
    return has_role(actor, Role.steward) and actor.organization_id == request.resource.holder_id


def require(
    session: Session,
    actor: Account | None,
    ok: bool,
    action: str,
    subject: Any,
    reason: str,
    *,
    audit_action: str = "",
    reason_key: str = "",
    reason_params: dict[str, Any] | None = None,
    action_key: str = "",
    action_params: dict[str, Any] | None = None,
) -> None:
    """Raise (and log) PermissionDenied with `reason` unless `ok`.

    `reason_key`/`reason_params` say the reason language-neutrally (a message id of the panels), so the
    panels can word it in another language; they ride on the error as attributes of the same names, and
    `action_key`/`action_params` do the same for an `action` given as a phrase ("decide the holder stage of
    request REQ-…").
    """
    if ok:
        return
    if actor is not None and not actor.active:
        reason, reason_key, reason_params = "the account is inactive", "permission.inactive", {}
    kind = audit.subject_of(subject)[0] or "sandbox"
    error = PermissionDenied(label(actor), action, reason)
    error.reason_key, error.reason_params = reason_key, reason_params  # type: ignore[attr-defined]
    error.action_key, error.action_params = action_key, action_params  # type: ignore[attr-defined]
    raise audit.refuse(session, actor, audit_action or f"{kind}.{action.split()[0]}", subject, error)


def require_role(
    session: Session,
    actor: Account | None,
    role: Role | str,
    action: str,
    subject: Any = None,
    *,
    audit_action: str = "",
    action_key: str = "",
    action_params: dict[str, Any] | None = None,
) -> None:
    if has_role(actor, role):
        return
    require(
        session,
        actor,
        False,
        action,
        subject,
        f"needs the {Role(role).value} role (has: {_role_list(actor)})"
        if actor is not None
        else f"needs the {Role(role).value} role",
        audit_action=audit_action,
        reason_key="permission.needs_role_has" if actor is not None else "permission.needs_role",
        reason_params={"role": Role(role).value, "has": _roles(actor)}
        if actor is not None
        else {"role": Role(role).value},
        action_key=action_key,
        action_params=action_params,
    )


def require_org(
    session: Session,
    actor: Account | None,
    role: Role | str,
    org_id: int | None,
    action: str,
    subject: Any = None,
    *,
    what: str = "organization",
    audit_action: str = "",
    action_key: str = "",
    action_params: dict[str, Any] | None = None,
) -> None:
    """The actor must hold `role` and act for organization `org_id`."""
    worded = {"action_key": action_key, "action_params": action_params}
    require_role(session, actor, role, action, subject, audit_action=audit_action, **worded)
    assert actor is not None
    require(
        session,
        actor,
        actor.organization_id == org_id,
        action,
        subject,
        f"acts for another {what} than the one responsible",
        audit_action=audit_action,
        reason_key="permission.other_org",
        reason_params={"what": what},
        **worded,
    )


def _role_list(actor: Account) -> str:
    return ", ".join(sorted(r.value for r in roles_of(actor))) or "none"


def _roles(actor: Account) -> tuple[str, ...]:
    """The actor's roles as a list for `reason_params` (spelled like `_role_list`)."""
    return tuple(sorted(r.value for r in roles_of(actor)))


def account(session: Session, username: str) -> Account:
    """The account with this username, or NotFound."""
    acc = session.exec(select(Account).where(Account.username == username)).first()
    if acc is None:
        raise NotFound("account", username)
    return acc


def accounts_with_role(session: Session, role: Role | str, *, org_id: int | None = None) -> list[Account]:
    query = select(Account).join(AccountRole).where(AccountRole.role == Role(role), Account.active)
    if org_id is not None:
        query = query.where(Account.organization_id == org_id)
    return list(session.exec(query.order_by(Account.id)).all())
