"""One shape for every workflow step: load, check, change, record.

    def withdraw_product(session, actor, product, reason=""):
        with step(session, actor, "product.withdraw", product) as st:     # load (the chain lock first)
            st.require_org(Role.operator, product.operator_id, what="operator")   # check: who
            product.status = st.allow(product, "withdraw")                  # check: the lifecycle
            st.save(product.code)                                           # change (version-checked)
            st.record({"reason": reason})                                   # record
        return product

Checks raise the errors of `marketplace.errors` (PermissionDenied, TransitionError, PolicyRefusal,
PrivacyError, ConflictError). When one leaves the `with` block, the step queues exactly one `refused` event
for its action and subject (the innermost step, when steps call steps) and re-raises; the audit hook writes
it even though the caller rolls back. `record` queues the step's `ok` event; the hook writes both kinds
with the commit (`workflows.audit`). Rules come from `marketplace.policy`; a step only describes rows to it
(`facts`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from marketplace.codes import make_code
from marketplace.errors import (
    ConflictError,
    PermissionDenied,
    PolicyRefusal,
    PrivacyError,
    TransitionError,
)
from marketplace.models import Account
from marketplace.policy import Policy
from marketplace.vocabulary import Role
from marketplace.workflows import audit, clock, facts, roles
from marketplace.workflows.lifecycles import allowed_actions, kind_of, next_state

REFUSALS = (PermissionDenied, TransitionError, PolicyRefusal, PrivacyError, ConflictError)

__all__ = ["REFUSALS", "Step", "step"]


@dataclass
class Step:
    """The step in progress: who acts, what it is called in the log, and what it acts on."""

    session: Session
    actor: Account | None
    action: str
    subject: Any = None

    def __post_init__(self) -> None:
        # Who and what, read now: after a failed flush the rows cannot be read until the rollback.
        kind, ident, self.label = audit.subject_of(self.subject)
        self.logged_as: Any = (kind, ident) if kind else None
        self.actor_id = None if self.actor is None else self.actor.id
        self.read_clock()
        self.policy: Policy = facts.current_policy(self.session)

    # ------------------------------------------------------------ load

    def read_clock(self) -> None:
        """The sandbox time of this step (read again by a step that moves the clock)."""
        self.now: datetime = clock.now(self.session)
        self.today: date = self.now.date()

    @property
    def verb(self) -> str:
        return self.action.rsplit(".", 1)[-1]

    # ------------------------------------------------------------ check

    def allow(self, obj: Any = None, action: str | None = None) -> Any:
        """The state `action` (default: this step's verb) leads to from `obj`'s status, or TransitionError."""
        obj = self.subject if obj is None else obj
        action = action or self.verb
        kind = kind_of(obj)
        nxt = next_state(kind, obj.status, action)
        if nxt is None:
            raise TransitionError(
                audit.subject_of(obj)[2], str(obj.status), action, allowed_actions(kind, obj.status)
            )
        return nxt

    def refuse_unless(self, ok: bool, doing: str, why: str, obj: Any = None) -> None:
        """A timing or precondition rule of a lifecycle (e.g. the notice period is not over)."""
        if not ok:
            obj = self.subject if obj is None else obj
            raise TransitionError(audit.subject_of(obj)[2], str(obj.status), f"{doing} ({why})")

    def require(
        self,
        ok: bool,
        reason: str,
        *,
        doing: str = "",
        key: str = "",
        params: dict[str, Any] | None = None,
        doing_key: str = "",
        doing_params: dict[str, Any] | None = None,
    ) -> None:
        """PermissionDenied with `reason` unless `ok` (`key`/`params` word the reason in any language,
        `doing_key`/`doing_params` the action when `doing` is a phrase)."""
        roles.require(
            self.session,
            self.actor,
            ok,
            doing or self.doing(),
            self.subject,
            reason,
            audit_action=self.action,
            reason_key=key,
            reason_params=params,
            action_key=doing_key,
            action_params=doing_params,
        )

    def require_role(
        self,
        role: Role | str,
        *,
        doing: str = "",
        doing_key: str = "",
        doing_params: dict[str, Any] | None = None,
    ) -> None:
        """PermissionDenied unless the actor holds `role` (`doing_key`/`doing_params` as in `require`)."""
        roles.require_role(
            self.session, self.actor, role, doing or self.doing(), self.subject, audit_action=self.action,
            action_key=doing_key, action_params=doing_params,
        )  # fmt: skip

    def require_org(
        self,
        role: Role | str,
        org_id: int | None,
        *,
        what: str = "organization",
        doing: str = "",
        doing_key: str = "",
        doing_params: dict[str, Any] | None = None,
    ) -> None:
        roles.require_org(
            self.session,
            self.actor,
            role,
            org_id,
            doing or self.doing(),
            self.subject,
            what=what,
            audit_action=self.action,
            action_key=doing_key,
            action_params=doing_params,
        )

    def refuse(self, error: BaseException, payload: dict[str, Any] | None = None) -> BaseException:
        """Queue the refused event for `error` now (once), with what was attempted, and return it to raise."""
        if not getattr(error, "audited", False):
            audit.refuse(self.session, self.actor_id, self.action, self.logged_as, error, payload)
        return error

    def doing(self) -> str:
        return f"{self.verb.replace('_', ' ')} {self.label}"

    def acting_on(self, kind: str, code: str) -> dict[str, Any]:
        """The `doing` of a refusal of this step on `kind` `code` ("withdraw request REQ-…"), with the key
        and parameters that word its verb, kind and code apart in any language (`require*(**acting_on)`)."""
        params = {"verb": self.verb, "kind": kind, "code": code}
        return {"doing": f"{self.verb} {kind} {code}", "doing_key": "doing.step", "doing_params": params}

    # ------------------------------------------------------------ change

    def save(self, what: str = "the record") -> None:
        """Write the changes so far; a stale version (someone changed the row first) is a ConflictError."""
        try:
            self.session.flush()
        except StaleDataError as exc:
            raise self.refuse(
                ConflictError(
                    f"{what} was changed by someone else at the same time; nothing was saved — "
                    "reload it and try again"
                )
            ) from exc

    def add(self, row: Any, *, code: tuple[str, int] | None = None, tag: str = "") -> Any:
        """Insert a new row; with `code=(kind, year)` it gets its code, derived from its id."""
        self.session.add(row)
        self.save()
        if code is not None:
            row.code = make_code(code[0], row.id, year=code[1], tag=tag)
        return row

    # ------------------------------------------------------------ record

    def record(self, payload: dict[str, Any] | None = None, *, action: str = "", subject: Any = None) -> None:
        """Queue this step's `ok` event (the audit hook writes it with the commit)."""
        audit.record(
            self.session,
            self.actor,
            action or self.action,
            self.subject if subject is None else subject,
            payload,
            at=self.now,
        )


@contextmanager
def step(session: Session, actor: Account | None, action: str, subject: Any = None) -> Iterator[Step]:
    """Run one step (see the module docstring); refusals leaving it are logged once and re-raised."""
    audit.lock(session)
    st = Step(session, actor, action, subject)
    try:
        yield st
    except StaleDataError as exc:
        raise st.refuse(
            ConflictError("the record was changed by someone else at the same time; nothing was saved")
        ) from exc
    except REFUSALS as err:
        st.refuse(err)
        raise


def temp_code() -> str:
    """A unique placeholder until a row has an id (codes are derived from ids, so they never collide)."""
    import uuid

    return f"tmp-{uuid.uuid4().hex}"
