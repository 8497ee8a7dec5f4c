"""A participant's session: bound by a join code to ONE account, acting only through the workflows.

The binding is the code itself: the session keeps only the code's digest and resolves the account from the
`participant` table at every action, so there is nothing to re-point at another account, and the API has no
method that takes an acting account, changes it, or grants a role (roles are granted by trainer operations in
`marketplace.workshop.facilitator`).

Every action runs in one transaction. Reads are retried when the connection drops (a restarted server); writes
carry an idempotency key whose receipt (`ActionReceipt`) is written in the same transaction, so after a lost
connection a retry first looks for the receipt: an action that landed is never performed twice, and one
that did not is performed once.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from marketplace import db
from marketplace.errors import ConflictError, DatabaseUnavailable, InvalidInput, PermissionDenied
from marketplace.models import Account, ActionReceipt, Organization, Participant
from marketplace.vocabulary import Role
from marketplace.workflows import audit
from marketplace.workshop import actions, roster

T = TypeVar("T")

RECEIPT_PENDING = "marketplace.workshop.receipt"
RETRY_ATTEMPTS = 40
RETRY_BASE_S = 0.05
RETRY_MAX_S = 1.0
_RETRYABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)


def _retryable(exc: BaseException) -> bool:
    """Connection lost / server restarting / deadlock or serialization failure: the transaction rolled
    back."""
    if isinstance(exc, _RETRYABLE):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


RETRIES: Counter[str] = Counter()  # retried failures by kind, for the load report


def run_retrying(engine: Engine, fn: Callable[[Session], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Run `fn` in one transaction, again after a dropped connection (only for reads and idempotent
    writes)."""
    delay = RETRY_BASE_S
    for attempt in range(attempts):
        try:
            with db.session_scope(engine) as session:
                return fn(session)
        except sa.exc.DBAPIError as exc:
            if not _retryable(exc) or attempt == attempts - 1:
                if _retryable(exc):
                    raise DatabaseUnavailable(
                        f"database unreachable after {attempts} attempts: "
                        f"{str(exc.orig or exc).strip().splitlines()[0]}"
                    ) from exc
                raise
            RETRIES[type(exc.orig or exc).__name__] += 1
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
    raise AssertionError("unreachable")


BOUND = "workshop.bound"  # session.info: the (participant, account) a transaction acts as


@dataclass(frozen=True)
class Identity:
    """Who a session acts as (for display; changing it changes nothing)."""

    account_id: int
    username: str
    display_name: str
    organization_id: int
    organization: str
    organization_kind: str
    roles: frozenset[Role]
    group: str
    seat: int


@dataclass(frozen=True)
class Receipt:
    """An acknowledged action: what was done to which subject, and its result."""

    key: str
    action: str
    subject_type: str
    subject_id: int | None
    result: dict[str, Any]
    replayed: bool = False  # True when the action had already landed before a lost connection


class ParticipantSession:
    """The only handle a participant gets. Created by `join(code)`; see the module docstring."""

    __slots__ = ("__weakref__", "_code_hash", "_engine", "_gate")

    def __init__(self, *_: Any, **__: Any) -> None:
        raise TypeError("use marketplace.workshop.join(code) to start a participant session")

    @classmethod
    def _bind(
        cls,
        engine: Engine,
        code_digest: str,
        gate: Callable[[Session], tuple[Participant, Account] | None] | None = None,
    ) -> ParticipantSession:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_engine", engine)
        object.__setattr__(obj, "_code_hash", code_digest)
        object.__setattr__(obj, "_gate", gate)
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a participant session is bound to one account; {name!r} cannot be set")

    def __repr__(self) -> str:
        return f"<ParticipantSession account_id={self.account_id}>"

    # ------------------------------------------------------------ binding

    def _bound(self, session: Session) -> tuple[Participant, Account]:
        """The seat and account this session acts as, read once per transaction (with the gate, if any) and
        kept in `session.info`: the identity map holds no row alive, so `session.get(Account, …)` later in
        the transaction then finds it without another query."""
        held = session.info.get(BOUND)
        if held is None:
            if self._gate is not None:
                held = self._gate(session)
            else:
                row = session.exec(_select_bound(self._code_hash)).first()
                held = None if row is None else (row[0], row[1])
            if held is None:
                raise PermissionDenied(
                    "this session",
                    "act",
                    "its join code is no longer valid (the seat was removed "
                    "or the marketplace was restored to before it existed)",
                )
            session.info[BOUND] = held
        return held

    def _participant(self, session: Session) -> Participant:
        return self._bound(session)[0]

    def _actor(self, session: Session) -> Account:
        """The bound account, loaded in `session` (for the workflows calls of this package)."""
        return self._bound(session)[1]

    @property
    def account_id(self) -> int:
        return run_retrying(self._engine, lambda s: self._participant(s).account_id)

    def whoami(self) -> Identity:
        def read(s: Session) -> Identity:
            p = self._participant(s)
            acc = s.get(Account, p.account_id)
            org = s.get(Organization, acc.organization_id)
            return Identity(
                acc.id,
                acc.username,
                acc.display_name,
                org.id,
                org.name,
                org.kind.value,
                roster.role_names(s, acc.id),
                p.group,
                p.seat,
            )

        return run_retrying(self._engine, read)

    @property
    def roles(self) -> frozenset[Role]:
        return self.whoami().roles

    # ------------------------------------------------------------ running actions

    def _read(self, fn: Callable[[Session, Account], T]) -> T:
        """Run a read-only `fn(session, actor)`; retried after a dropped connection."""
        return run_retrying(self._engine, lambda s: fn(s, self._actor(s)))

    def _write(
        self,
        action: str,
        fn: Callable[[Session, Account], tuple[Any, dict[str, Any]]],
        *,
        key: str | None = None,
        given: dict[str, Any] | None = None,
    ) -> Receipt:
        """Run the state change `fn(session, actor) -> (subject, result)` exactly once under idempotency
        `key`.

        The receipt is written in the same transaction as the change. After a dropped connection the
        receipt is looked up first: present means the change landed (returned with `replayed=True`), absent
        means it did not, and it is tried again. Domain errors (refused, conflict, invalid) propagate
        unchanged.
        """
        key = key or uuid.uuid4().hex
        if not isinstance(key, str) or not 8 <= len(key) <= 64:
            raise InvalidInput("key", key, "an idempotency key of 8 to 64 characters")

        def attempt(s: Session) -> Receipt:
            try:
                return _attempt(s)
            except (StaleDataError, sa.exc.PendingRollbackError) as exc:
                # A concurrent change won the optimistic version check. (Workflows normally raise
                # ConflictError
                # itself; a stale flush outside its `flush` helper surfaces here.) Nothing was saved.
                if isinstance(exc, sa.exc.PendingRollbackError) and "expected to update" not in str(exc):
                    raise
                raise ConflictError(
                    f"{action}: the record was changed by someone else at the same time; "
                    "nothing was saved — reload it and try again"
                ) from exc

        def _attempt(s: Session) -> Receipt:
            actor = self._actor(s)  # first: a gated session authenticates before anything is read
            found = s.get(ActionReceipt, key)
            if found is not None:
                if found.account_id != actor.id:
                    # Keys are scoped to the account: another account's key never returns its receipt.
                    err = PermissionDenied(
                        actor.username, action, "this idempotency key belongs to another account's action"
                    )
                    raise audit.refuse(s, actor, f"workshop.{action}", ("workshop", None), err, {"key": key})
                return _receipt(found, replayed=True)
            # A refusal names what was asked for (the rows a refused step made are rolled back).
            audit.attempting(s, f"workshop.{action}", given or {})
            subject, result = fn(s, actor)
            kind, ident, _ = audit.subject_of(subject)
            row = ActionReceipt(
                key=key,
                account_id=actor.id,
                action=action,
                subject_type=kind,
                subject_id=ident,
                result=audit.jsonable(result),
                at=datetime.now(UTC),
            )
            s.add(row)
            s.flush()
            s.info[RECEIPT_PENDING] = key  # the write is flushed, not yet committed (fault tests hook here)
            return _receipt(row, replayed=False)

        try:
            return run_retrying(self._engine, attempt)
        except ConflictError as exc:
            if isinstance(exc.__cause__, (StaleDataError, sa.exc.PendingRollbackError)):
                self._record_refusal(action, exc)
            raise

    def _record_refusal(self, action: str, exc: Exception) -> None:
        """Audit a refused attempt whose own transaction could not record it."""

        def rec(s: Session) -> None:
            raise audit.refuse(s, self._actor(s), f"workshop.{action}", ("workshop", None), exc)

        with contextlib.suppress(ConflictError):
            run_retrying(self._engine, rec)

    # ------------------------------------------------------------ what this account may do

    def allowed_actions(self) -> list[str]:
        """The actions the bound account's roles allow (what the participant panel shows)."""
        me = self.whoami()
        roles = me.roles
        out = ["whoami", "exercises"]
        if Role.requester in roles:
            out += ["catalog", "file_request", "my_requests", "accept_quote", "withdraw", "report_usage"]
        if roles & {Role.steward, Role.security_reviewer, Role.registrar}:
            out += ["review_queue", "decide"]
        if roles & {Role.steward, Role.operator}:
            out += ["deliver"]
        if Role.operator in roles:
            out += ["my_products", "set_price", "list_product", "selection_rounds", "apply_for_selection"]
        if roles & {Role.steward, Role.registrar}:  # an implementing institution acts through these
            out += ["selection_rounds", "score_application", "decide_selection"]
        if Role.requester in roles and me.organization_kind == "department":
            out += ["citable_entries"]  # only departments cite a sharing responsibility list
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------ requester

    def catalog(self, *, limit: int = 200) -> list[dict[str, Any]]:
        """Resources (with the channels the policy in force opens for them) and listed products."""
        return self._read(lambda s, _a: actions.catalog(s, limit=limit))

    def file_request(
        self,
        *,
        purpose: str,
        resource: str | int | None = None,
        product: str | int | None = None,
        channel: str | None = None,
        use_statement: str = "",
        fields: Iterable[str] = (),
        volume: int = 1,
        duration_days: int = 365,
        project_reference: str = "",
        sponsor: str | int | None = None,
        list_entry: str | int | None = None,
        key: str | None = None,
    ) -> Receipt:
        """Create and submit a request (one action): routed, quoted and put in review by the workflows.

        `project_reference` and `sponsor` (a department's code or id) are the evidence of a free-use claim;
        `list_entry` (a sharing responsibility list entry's code or id) cites the holder's list, so the
        holder shares without discretion (a department only; the workflows check the entry covers it).
        """
        fields = tuple(fields)
        return self._write(
            "file_request",
            lambda s, a: actions.file_request(
                s,
                a,
                purpose=purpose,
                resource=resource,
                product=product,
                channel=channel,
                use_statement=use_statement,
                fields=fields,
                volume=volume,
                duration_days=duration_days,
                project_reference=project_reference,
                sponsor=sponsor,
                list_entry=list_entry,
            ),
            key=key,
            given={
                "list_entry": list_entry,
                "purpose": purpose,
                "resource": resource,
                "product": product,
                "channel": channel,
                "fields": list(fields),
                "volume": volume,
                "duration_days": duration_days,
                "project_reference": project_reference,
                "sponsor": sponsor,
            },
        )

    def my_requests(self) -> list[dict[str, Any]]:
        return self._read(actions.my_requests)

    def accept_quote(self, request: str | int, *, key: str | None = None) -> Receipt:
        return self._write(
            "accept_quote",
            lambda s, a: actions.accept_quote(s, a, request),
            key=key,
            given={"request": request},
        )

    def withdraw(self, request: str | int, *, reason: str = "", key: str | None = None) -> Receipt:
        return self._write(
            "withdraw",
            lambda s, a: actions.withdraw(s, a, request, reason),
            key=key,
            given={"request": request, "reason": reason},
        )

    def report_usage(self, request: str | int, summary: str, *, key: str | None = None) -> Receipt:
        """The usage report a grant asks for, for its current period (late ones are kept, marked late)."""
        return self._write(
            "report_usage",
            lambda s, a: actions.report_usage(s, a, request, summary),
            key=key,
            given={"request": request, "summary": summary},
        )

    # ------------------------------------------------------------ reviewer

    def review_queue(self, *, limit: int = 100, after: int | None = None) -> list[dict[str, Any]]:
        """The review stages this account may decide now, earliest due first (at most `limit`); the next page
        is `review_queue(after=<review_id of the last row>)`."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("limit", limit, "a whole number from 1 to 1000")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 1):
            raise InvalidInput("after", after, "the review id of a row of the page before (a whole number)")
        return self._read(lambda s, a: actions.review_queue(s, a, limit=limit, after=after))

    def decide(
        self,
        review: int,
        decision: str,
        *,
        conditions: Iterable[Any] = (),
        reason: str = "",
        key: str | None = None,
    ) -> Receipt:
        conditions = tuple(conditions)
        return self._write(
            "decide",
            lambda s, a: actions.decide(s, a, review, decision, conditions, reason),
            key=key,
            given={"review": review, "decision": decision, "conditions": list(conditions), "reason": reason},
        )

    # ------------------------------------------------------------ supplier

    def deliver(self, request: str | int, *, rows: int | None = None, key: str | None = None) -> Receipt:
        return self._write(
            "deliver",
            lambda s, a: actions.deliver(s, a, request, rows),
            key=key,
            given={"request": request, "rows": rows},
        )

    def my_products(self) -> list[dict[str, Any]]:
        return self._read(actions.my_products)

    def set_price(self, product: str | int, price: Any, *, key: str | None = None) -> Receipt:
        """The operator's actual price for its own product (refused above the cap, naming it)."""
        return self._write(
            "set_price",
            lambda s, a: actions.price_product(s, a, product, price),
            key=key,
            given={"product": product, "price": price},
        )

    def list_product(self, product: str | int, *, key: str | None = None) -> Receipt:
        return self._write(
            "list_product",
            lambda s, a: actions.list_product(s, a, product),
            key=key,
            given={"product": product},
        )

    # ------------------------------------------------------------ sharing lists and operator selection

    def citable_entries(self) -> list[dict[str, Any]]:
        """The sharing responsibility list entries in force this account's department may cite."""
        return self._read(actions.citable_entries)

    def selection_rounds(self) -> list[dict[str, Any]]:
        """Selection rounds, open ones first, in words (with the applications of this account's own
        institution's rounds)."""
        return self._read(actions.selection_rounds)

    def apply_for_selection(
        self,
        selection: str | int,
        *,
        security_level: int,
        registered_capital: Any,
        statement: str = "",
        key: str | None = None,
    ) -> Receipt:
        """The operator applies to an open round with the qualification facts the policy asks for."""
        return self._write(
            "apply_for_selection",
            lambda s, a: actions.apply_for_selection(
                s,
                a,
                selection,
                security_level=security_level,
                registered_capital=registered_capital,
                statement=statement,
            ),
            key=key,
            given={
                "selection": selection,
                "security_level": security_level,
                "registered_capital": registered_capital,
                "statement": statement,
            },
        )

    def score_application(
        self, application: int, scores: dict[str, Any], *, key: str | None = None
    ) -> Receipt:
        """The implementing institution records the evaluation panel's scores of one application."""
        return self._write(
            "score_application",
            lambda s, a: actions.score_application(s, a, application, scores),
            key=key,
            given={"application": application, "scores": scores},
        )

    def decide_selection(self, selection: str | int, *, note: str = "", key: str | None = None) -> Receipt:
        """The implementing institution records the round's decision (ranked by the policy's weights)."""
        return self._write(
            "decide_selection",
            lambda s, a: actions.decide_selection(s, a, selection, note),
            key=key,
            given={"selection": selection, "note": note},
        )

    # ------------------------------------------------------------ exercises

    def exercises(self, lang: str = "en") -> list[dict[str, Any]]:
        """Released exercises meant for this account's roles, with their text in `lang` and whether done."""
        from marketplace.workshop.exercises import evaluate
        from marketplace.workshop.facilitator import released_exercises

        released = released_exercises(self._engine)

        def read(s: Session, actor: Account) -> list[dict[str, Any]]:
            roles = roster.role_names(s, actor.id)
            out = []
            group = self._participant(s).group
            for ex in released:
                if not ex.applies_to(roles, group):
                    continue
                title, text = ex.text(lang)
                res = evaluate(s.connection(), ex, actor.id)
                out.append(
                    {
                        "id": ex.id,
                        "title": title,
                        "instructions": text,
                        "done": res.done,
                        "progress": f"{min(res.count, res.needed)}/{res.needed}",
                    }
                )
            return out

        return self._read(read)


def _select_participant(digest: str) -> Any:
    return select(Participant).where(Participant.join_code_hash == digest)


def _select_bound(digest: str) -> Any:
    return (
        select(Participant, Account)
        .join(Account, Account.id == Participant.account_id)  # type: ignore[arg-type]
        .where(Participant.join_code_hash == digest)
    )


def _receipt(row: ActionReceipt, *, replayed: bool) -> Receipt:
    return Receipt(row.key, row.action, row.subject_type, row.subject_id, dict(row.result or {}), replayed)


def join(code: str, engine: Engine | None = None) -> ParticipantSession:
    """Start a session bound to the account of join `code`; a wrong code is refused (and audited)."""
    engine = engine or db.get_engine()
    if not isinstance(code, str) or not roster.normalize_code(code):
        raise InvalidInput(
            "join code", code, "the code on your roster card, e.g. K7QM-3XTA-9PRD-W2HF",
            "expected.roster_code",
        )  # fmt: skip
    digest = roster.code_hash(code)

    def find(s: Session) -> int | None:
        p = s.exec(_select_participant(digest)).first()
        if p is None:
            err = PermissionDenied("anyone", "join the workshop", "unknown join code").worded(
                "workshop.refused.unknown_code"
            )
            audit.refuse(s, None, "workshop.join", ("participant", None), err)
            raise err
        roster.touch(s, p.id, datetime.now(UTC))
        return p.id

    run_retrying(engine, find)
    return ParticipantSession._bind(engine, digest)


def resume(engine: Engine, code_digest: str) -> ParticipantSession:
    """The session for a join code the caller has already checked (the workshop server, for a token it issued
    against that code). It still resolves the account at every action, so a reissued code ends it."""
    return ParticipantSession._bind(engine, code_digest)


def gated(
    engine: Engine, gate: Callable[[Session], tuple[Participant, Account] | None]
) -> ParticipantSession:
    """A session whose every transaction starts with `gate(session)`, which authenticates the caller (raising
    to refuse) and returns its seat and account, or None when the seat is gone (the workshop server: the
    token is checked in the same transaction as the action it allows, so a request costs one transaction,
    not two)."""
    return ParticipantSession._bind(engine, "", gate)


def engine_of(session: ParticipantSession) -> Engine:
    """The database a participant session is bound to (for the trainer's console in this package)."""
    return session._engine


def account_in(participant: ParticipantSession, session: Session) -> Account:
    """The bound account, loaded in `session`; refused when its join code is no longer valid."""
    return participant._actor(session)
