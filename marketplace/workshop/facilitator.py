"""Trainer operations: seats and roles, exercises, the clock, checkpoints, the policy in force, the dashboard.

Every operation is one transaction that first checks that the session's account holds the `trainer` role
through `workflows.roles.require_role`, so a refusal raises PermissionDenied AND is written to the audit
chain (the refused event survives the rollback). Every change is recorded with `workflows.audit.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, func, select

from marketplace.auditkey import load_key
from marketplace.errors import InvalidInput, NotFound, PermissionDenied
from marketplace.models import (
    AccessRequest,
    Account,
    AccountRole,
    AuditEvent,
    Checkpoint,
    ExerciseRelease,
    Participant,
    Payment,
    Review,
)
from marketplace.paths import writable_file
from marketplace.policy import list_policies
from marketplace.policy import quote as policy_quote
from marketplace.policy import route as policy_route
from marketplace.vocabulary import Role
from marketplace.workflows import admin, audit, clock, facts
from marketplace.workflows.roles import require_role
from marketplace.workshop import roster, snapshot
from marketplace.workshop.exercises import Exercise, count_for, get_exercise, load_exercises
from marketplace.workshop.session import ParticipantSession, account_in, engine_of, join, run_retrying

T = TypeVar("T")


@dataclass
class PolicyEffect:
    """What switching the policy changes: the old and new names and sample requests re-quoted under both."""

    old: str
    new: str
    samples: pd.DataFrame

    def lines(self) -> list[str]:
        out = [f"policy in force: {self.old} -> {self.new}"]
        for row in self.samples.to_dict("records"):
            out.append(
                f"  {row['request']} ({row['purpose']}): {row['old_total']} -> {row['new_total']}"
                f"; stages {row['old_stages']} -> {row['new_stages']}"
            )
        return out


@dataclass
class Dashboard:
    """One refresh of the trainer's dashboard (figures + tables)."""

    at: datetime
    today: date
    clock_paused: bool
    policy: str
    figures: dict[str, Any]
    queues: pd.DataFrame
    requests: pd.DataFrame
    decisions: pd.DataFrame
    exercises: pd.DataFrame
    completion: pd.DataFrame
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)


class Facilitator:
    """The trainer's console logic, acting as the account of a participant session (which must be a
    trainer)."""

    def __init__(self, session: ParticipantSession) -> None:
        if not isinstance(session, ParticipantSession):
            raise InvalidInput("session", type(session).__name__, "a ParticipantSession from join(code)")
        self._session = session

    @property
    def session(self) -> ParticipantSession:
        return self._session

    @property
    def engine(self) -> sa.Engine:
        return engine_of(self._session)

    def _op(self, op: str, fn: Callable[[Session, Account], T], *, what: str = "") -> T:
        """Run trainer operation `op` in one transaction; refused (and audited) unless the actor is a
        trainer."""

        def run(s: Session) -> T:
            actor = account_in(self._session, s)
            require_role(
                s,
                actor,
                Role.trainer,
                what or f"run the workshop operation {op}",
                ("workshop", None),
                audit_action=f"workshop.{op}",
            )
            return fn(s, actor)

        return run_retrying(self.engine, run)

    def trainer_account(self, doing: str) -> int:
        """The trainer's account id, after the audited role check of every trainer operation (for operations
        that live outside the database, such as the workshop server's join lockouts)."""
        return self._op("console", lambda _s, actor: actor.id, what=doing)

    # ------------------------------------------------------------ seats and roles

    def create_participants(
        self,
        mix: dict[str, int] | str | None = None,
        *,
        participants: int | None = None,
        seed: int = 0,
        group: str | None = None,
    ) -> list[roster.RosterEntry]:
        """Create seats for a role mix; returns the roster entries (the only time plain codes are shown)."""
        if isinstance(mix, dict):
            text = ",".join(f"{k}={v}" for k, v in mix.items())
            mix = roster.parse_mix(text, sum(mix.values()))
        else:
            mix = roster.parse_mix(mix, participants if participants is not None else 0)

        def go(s: Session, actor: Account) -> list[roster.RosterEntry]:
            entries = roster.seat_participants(s, mix, seed=seed, group_label=group)
            audit.record(
                s,
                actor,
                "workshop.seat",
                ("workshop", None),
                {"mix": mix, "seats": [e.seat for e in entries], "accounts": [e.account_id for e in entries]},
            )
            return entries

        return self._op("seat", go, what="create workshop seats")

    def remove_seats(self, entries: list[roster.RosterEntry], *, reason: str) -> int:
        """Take back seats that were just created (their roster could not be written, so nobody holds their
        codes): their participant rows, roles and accounts. Returns how many were removed."""
        ids = [e.account_id for e in entries]

        def go(s: Session, actor: Account) -> int:
            for table, column in (
                (Participant, Participant.account_id),
                (AccountRole, AccountRole.account_id),
                (Account, Account.id),
            ):
                s.connection().execute(sa.delete(table.__table__).where(column.in_(ids)))
            audit.record(
                s,
                actor.id,
                "workshop.remove_seats",
                ("workshop", None),
                {"seats": [e.seat for e in entries], "accounts": ids, "reason": reason},
            )
            return len(ids)

        return self._op("remove_seats", go, what="remove workshop seats")

    def reissue_code(self, seat: int) -> str:
        """A new join code for a seat (the old one stops working at once); returns the new code."""

        def go(s: Session, actor: Account) -> str:
            p = s.exec(select(Participant).where(Participant.seat == seat)).first()
            if p is None:
                raise NotFound("seat", seat)
            code = roster.new_join_code()
            p.join_code_hash = roster.code_hash(code)
            p.join_code_kdf = roster.code_kdf(code)
            s.add(p)
            audit.record(s, actor, "workshop.reissue_code", ("participant", p.id), {"seat": seat})
            return code

        return self._op("reissue_code", go, what="reissue a join code")

    def grant_role(self, seat: int, role: Role | str) -> frozenset[Role]:
        """Give the account of `seat` another role (roles come only from trainer operations)."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput("role", role, "one of " + ", ".join(r.value for r in Role)) from None

        def go(s: Session, actor: Account) -> frozenset[Role]:
            p = s.exec(select(Participant).where(Participant.seat == seat)).first()
            if p is None:
                raise NotFound("seat", seat)
            if role not in roster.role_names(s, p.account_id):
                s.add(AccountRole(account_id=p.account_id, role=role))
                s.flush()
                audit.record(
                    s, actor, "workshop.grant_role", ("account", p.account_id), {"seat": seat, "role": role}
                )
            return roster.role_names(s, p.account_id)

        return self._op("grant_role", go, what="grant a role")

    # ------------------------------------------------------------ exercises

    def released(self) -> list[Exercise]:
        return released_exercises(self.engine)

    def release_next(self) -> Exercise | None:
        """Release the next exercise in teaching order; None when all are out."""

        def go(s: Session, actor: Account) -> Exercise | None:
            done = set(s.exec(select(ExerciseRelease.exercise_id)).all())
            pending = [e for e in load_exercises() if e.id not in done]
            if not pending:
                return None
            return _release(s, actor, pending[0], len(done))

        return self._op("release", go, what="release an exercise")

    def release(self, exercise_id: str) -> Exercise:
        ex = get_exercise(exercise_id)

        def go(s: Session, actor: Account) -> Exercise:
            done = list(s.exec(select(ExerciseRelease.exercise_id)).all())
            if ex.id in done:
                raise InvalidInput("exercise", ex.id, "an exercise not yet released")
            return _release(s, actor, ex, len(done))

        return self._op("release", go, what="release an exercise")

    # ------------------------------------------------------------ clock

    def pause_clock(self) -> clock.ClockState:
        return self._op("clock", lambda s, a: admin.set_clock(s, a, paused=True), what="pause the clock")

    def resume_clock(self) -> clock.ClockState:
        return self._op("clock", lambda s, a: admin.set_clock(s, a, paused=False), what="resume the clock")

    def advance_clock(self, days: int) -> admin.AdvanceReport:
        return self._op("clock", lambda s, a: admin.advance_clock(s, a, days), what="advance the clock")

    # ------------------------------------------------------------ checkpoints

    def checkpoint(self, name: str) -> dict[str, int]:
        """Save the whole marketplace under `name` (a Checkpoint row, MAC'd under the audit key); returns the
        row count of each table. The audit log's head is anchored outside the database at the same time
        (`last_anchor`: the anchor and the file in the data directory that holds it)."""
        name = _checkpoint_name(name)
        key = load_key()

        def go(s: Session, actor: Account) -> dict[str, int]:
            if s.exec(select(Checkpoint).where(Checkpoint.name == name)).first() is not None:
                raise InvalidInput("checkpoint", name, "a name not used by another checkpoint")
            # A consistent read of every table in its own (repeatable-read) transaction.
            snap = snapshot.seal(snapshot.snapshot_engine(s.get_bind()), key)
            counts = snapshot.counts(snap)
            audit.record(s, actor, "workshop.checkpoint", ("checkpoint", None), {"name": name})
            s.add(
                Checkpoint(
                    name=name,
                    created_by_id=actor.id,
                    counts=counts,
                    snapshot=snap,
                    created_at=datetime.now(UTC),
                )
            )
            return counts

        counts = self._op("checkpoint", go, what="checkpoint the marketplace")
        self.anchor(label=f"checkpoint-{name}")
        return counts

    def anchor(self, *, label: str = "anchor") -> tuple[dict[str, Any], Path]:
        """Anchor the audit log's head outside the database: a file in the data directory's `anchors/`
        (mode 0600), also kept as `last_anchor` for the console to show."""
        value = self._op("anchor", lambda s, _a: audit.anchor(s), what="anchor the audit log")
        path = write_anchor_file(value, label)
        self.last_anchor = (value, path)
        return value, path

    last_anchor: tuple[dict[str, Any], Path] | None = None

    def checkpoints(self) -> pd.DataFrame:
        def go(s: Session, _actor: Account) -> pd.DataFrame:
            rows = s.exec(
                select(Checkpoint.name, Checkpoint.created_at, Checkpoint.counts).order_by(
                    Checkpoint.created_at
                )
            ).all()
            return pd.DataFrame(
                [{"name": n, "created_at": c, "rows": sum(k.values())} for n, c, k in rows],
                columns=["name", "created_at", "rows"],
            )

        return self._op("checkpoints", go, what="list checkpoints")

    def restore(self, name: str, *, accept_unsigned: bool = False, hand_over: bool = False) -> dict[str, int]:
        """Put the marketplace back as it was at checkpoint `name`; the audit log keeps every event and
        gains a `workshop.restore` one. Refused (and audited, changing nothing) when the checkpoint is not
        trusted (MAC), not valid (schema, types), has no trainer seat, or would remove the restoring
        trainer's seat (unless `hand_over`: the checkpoint's trainers take over, e.g. moving to a new hub)."""
        key = load_key()

        def go(s: Session, actor: Account) -> dict[str, int]:
            cp = s.exec(select(Checkpoint).where(Checkpoint.name == name)).first()
            if cp is None:
                raise NotFound("checkpoint", name)
            return _restore(s, actor, cp.snapshot, name, cp.id, key, accept_unsigned, hand_over)

        return self._op("restore", go, what="restore a checkpoint")

    def restore_file(
        self, path: str | Path, name: str, *, accept_unsigned: bool = False, hand_over: bool = False
    ) -> dict[str, int]:
        """Import a snapshot file as checkpoint `name` and restore it, in one transaction: a file that is
        refused leaves no checkpoint behind and changes nothing."""
        snap = snapshot.read_file(path)
        name = _checkpoint_name(name)
        key = load_key()

        def go(s: Session, actor: Account) -> dict[str, int]:
            if s.exec(select(Checkpoint).where(Checkpoint.name == name)).first() is not None:
                raise InvalidInput("checkpoint", name, "a name not used by another checkpoint")
            restored = _restore(s, actor, snap, name, None, key, accept_unsigned, hand_over)
            s.add(
                Checkpoint(
                    name=name,
                    created_by_id=actor.id,
                    counts=snapshot.counts(snap),
                    snapshot=snap,
                    created_at=datetime.now(UTC),
                )
            )
            return restored

        return self._op("restore", go, what="restore a checkpoint")

    def export_checkpoint(self, name: str, path: str | Path) -> Path:
        """Write checkpoint `name` to a file (the path is checked before anything is read)."""
        target = writable_file("path", path)

        def go(s: Session, _actor: Account) -> dict[str, Any]:
            cp = s.exec(select(Checkpoint).where(Checkpoint.name == name)).first()
            if cp is None:
                raise NotFound("checkpoint", name)
            return cp.snapshot

        return snapshot.write_file(self._op("export_checkpoint", go, what="export a checkpoint"), target)

    def import_checkpoint(
        self, path: str | Path, name: str, *, accept_unsigned: bool = False
    ) -> dict[str, int]:
        """Store a snapshot file (from any backend, saved under the same audit key) as checkpoint `name`."""
        snap = snapshot.read_file(path)
        name = _checkpoint_name(name)
        key = load_key()

        def go(s: Session, actor: Account) -> dict[str, int]:
            problem = snapshot.trust_problem(snap, key, accept_unsigned=accept_unsigned)
            if problem:
                err = InvalidInput(
                    "checkpoint file", str(path), f"a checkpoint this workshop can trust: {problem}"
                )
                raise audit.refuse(
                    s,
                    actor,
                    "workshop.import_checkpoint",
                    ("checkpoint", None),
                    err,
                    {"name": name, "file": Path(path).name},
                )
            if s.exec(select(Checkpoint).where(Checkpoint.name == name)).first() is not None:
                raise InvalidInput("checkpoint", name, "a name not used by another checkpoint")
            counts = snapshot.counts(snap)
            s.add(Checkpoint(name=name, created_by_id=actor.id, counts=counts, snapshot=snap))
            audit.record(s, actor, "workshop.import_checkpoint", ("checkpoint", None), {"name": name})
            return counts

        return self._op("import_checkpoint", go, what="import a checkpoint")

    # ------------------------------------------------------------ policy

    def switch_policy(self, name: str, *, samples: int = 5) -> PolicyEffect:
        """Put policy `name` in force now and re-quote recent requests under the old and the new policy."""
        known = list_policies()
        if name not in known:
            raise InvalidInput("policy", name, "one of " + ", ".join(known))

        def go(s: Session, actor: Account) -> PolicyEffect:
            old = facts.current_policy(s)
            new = facts.policy_named(name)
            effect = PolicyEffect(old.name, new.name, _requote(s, old, new, samples))
            admin.set_policy(s, actor, name)
            return effect

        return self._op("policy", go, what="switch the policy in force")

    def compare_policies(self, other: str, *, samples: int = 5) -> pd.DataFrame:
        """Re-quote recent requests under the policy in force and `other`, without switching."""
        known = list_policies()
        if other not in known:
            raise InvalidInput("policy", other, "one of " + ", ".join(known))
        return self._op(
            "compare_policies",
            lambda s, a: _requote(s, facts.current_policy(s), facts.policy_named(other), samples),
            what="compare policies",
        )

    # ------------------------------------------------------------ dashboard

    def dashboard(self, *, recent: int = 10) -> Dashboard:
        return self._op(
            "dashboard", lambda s, a: build_dashboard(s, recent=recent), what="read the dashboard"
        )

    def traffic(self, *, agents: int = 6, seed: int = 0) -> Any:
        """Background traffic from simulated agents acting through the workflows (see `traffic.py`)."""
        from marketplace.workshop.traffic import BackgroundTraffic

        return BackgroundTraffic.start_for(self, agents=agents, seed=seed)


# ---------------------------------------------------------------- helpers (no role check: callers check)


def _restore(
    s: Session,
    actor: Account,
    snap: Any,
    name: str,
    checkpoint_id: int | None,
    key: Any,
    accept_unsigned: bool,
    hand_over: bool,
) -> dict[str, int]:
    """Validate `snap` completely, then restore it and append the `workshop.restore` event (see `restore`)."""
    given = {"name": name}
    try:
        if not isinstance(snap, dict):
            raise InvalidInput("checkpoint", name, "a snapshot object")
        problem = snapshot.trust_problem(snap, key, accept_unsigned=accept_unsigned)  # the MAC first
        if problem:
            raise InvalidInput("checkpoint", name, f"a checkpoint this workshop can trust: {problem}")
        snap = snapshot.check(snap)  # then the shape, revision and every row's types
        upgraded = snapshot.upgrade_snapshot(snap)
        seat = s.exec(select(Participant).where(Participant.account_id == actor.id)).first()
        trainers = snapshot.seats_with_role(upgraded, Role.trainer.value)
        if not trainers:
            raise PermissionDenied(
                actor.username,
                f"restore checkpoint {name!r}",
                "it has no trainer seat: nobody could run the workshop after it",
            )
        mine = seat is not None and (actor.id, seat.join_code_hash) in trainers
        if not mine and not hand_over:
            raise PermissionDenied(
                actor.username,
                f"restore checkpoint {name!r}",
                "it would remove your trainer seat (or its code); hand the workshop over to the checkpoint's "
                "trainer explicitly (--hand-over) or restore one saved after your seat was made",
            )
    except (InvalidInput, PermissionDenied) as err:
        raise audit.refuse(s, actor, "workshop.restore", ("checkpoint", checkpoint_id), err, given) from None
    actor_id = actor.id
    s.expunge_all()
    restored = snapshot.restore_snapshot(s.connection(), upgraded)
    audit.forget_cached_state(s)  # chain head, clock, policy: read again from the restored tables
    audit.record(
        s,
        actor_id,
        "workshop.restore",
        ("checkpoint", checkpoint_id),
        {
            "name": name,
            "rows": sum(restored.values()),
            "signed": snap.get("format") == snapshot.FORMAT,
            "hand_over": hand_over,
        },
    )
    return restored


ANCHOR_DIR = "anchors"


def write_anchor_file(value: dict[str, Any], label: str) -> Path:
    """Write an anchor into the data directory's `anchors/` (the database's writers cannot reach it there
    unless they share this machine account)."""
    import json
    import os
    import re

    from marketplace.db import data_dir

    folder = data_dir() / ANCHOR_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)[:80]
    path = folder / f"{safe}-seq{value['seq']}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(value, indent=2) + "\n")
    return path


def _checkpoint_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise InvalidInput("checkpoint", name, "a name of 1 to 100 characters")
    return name.strip()


def _release(s: Session, actor: Account, ex: Exercise, position: int) -> Exercise:
    s.add(ExerciseRelease(exercise_id=ex.id, position=position + 1, released_by_id=actor.id))
    s.flush()
    audit.record(s, actor, "workshop.release", ("exercise", None), {"exercise": ex.id})
    return ex


def released_exercises(engine: sa.Engine) -> list[Exercise]:
    """Exercises released so far, in release order (anyone may read this)."""
    ids = run_retrying(
        engine,
        lambda s: list(s.exec(select(ExerciseRelease.exercise_id).order_by(ExerciseRelease.position)).all()),
    )
    by_id = {e.id: e for e in load_exercises()}
    return [by_id[i] for i in ids if i in by_id]


def _requote(s: Session, old: Any, new: Any, samples: int) -> pd.DataFrame:
    """Recent product requests (else any requests) priced and routed under both policies."""
    reqs = list(
        s.exec(
            select(AccessRequest)
            .where(AccessRequest.product_id.is_not(None))
            .order_by(AccessRequest.id.desc())
            .limit(samples)
        ).all()
    )
    reqs += list(
        s.exec(
            select(AccessRequest)
            .where(AccessRequest.product_id.is_(None))
            .order_by(AccessRequest.id.desc())
            .limit(max(0, samples - len(reqs)))
        ).all()
    )
    today = clock.today(s)
    rows = []
    for req in reqs:
        target, rf, who = (
            facts.target_of(req),
            facts.request_facts(req),
            facts.requester_facts(req.requester_org),
        )
        row: dict[str, Any] = {
            "request": req.code,
            "channel": req.channel.value,
            "purpose": req.purpose.value,
        }
        for tag, pol in (("old", old), ("new", new)):
            routing = policy_route(pol, rf, target, who, start=today)
            row[f"{tag}_stages"] = (
                ("refused: " + routing.refusal.rule)
                if not routing.allowed and routing.refusal
                else "+".join(p.stage.value for p in routing.stages) or "none"
            )
            row[f"{tag}_total"] = str(policy_quote(pol, target, rf, who).total) if req.product_id else "0"
        rows.append(row)
    cols = ["request", "channel", "purpose", "old_total", "new_total", "old_stages", "new_stages"]
    return pd.DataFrame(rows, columns=cols)


def completion_frame(s: Session) -> pd.DataFrame:
    """One row per participant seat, one column per released exercise: True when its check passes."""
    released = [e for e in _released_in(s)]
    seats = roster.participants_frame_rows(s)
    seats = [r for r in seats if r["group"] not in (roster.TRAINER_GROUP, roster.BACKGROUND_GROUP)]
    frame = pd.DataFrame(seats, columns=["seat", "group", "account_id", "name", "organization", "last_seen"])
    if frame.empty:
        return frame
    roles = _roles_by_account(s, list(frame["account_id"]))
    for ex in released:
        counts = count_for(s.connection(), ex.check, [int(a) for a in frame["account_id"]])
        frame[ex.id] = [
            (counts[int(a)] >= ex.check.min_count) if ex.applies_to(roles.get(int(a), set()), group) else None
            for a, group in zip(frame["account_id"], frame["group"], strict=True)
        ]
    return frame


def _roles_by_account(s: Session, ids: list[int]) -> dict[int, set[Role]]:
    out: dict[int, set[Role]] = {}
    for acc, role in s.exec(
        select(AccountRole.account_id, AccountRole.role).where(AccountRole.account_id.in_(ids))
    ):
        out.setdefault(acc, set()).add(Role(role))
    return out


def _released_in(s: Session) -> list[Exercise]:
    ids = list(s.exec(select(ExerciseRelease.exercise_id).order_by(ExerciseRelease.position)).all())
    by_id = {e.id: e for e in load_exercises()}
    return [by_id[i] for i in ids if i in by_id]


def build_dashboard(s: Session, *, recent: int = 10) -> Dashboard:
    state = clock.clock_state(s)
    today = state.today()
    policy = facts.current_policy(s).name
    pending = (
        select(Review.stage, func.count(), func.sum(sa.case((Review.due_on < today, 1), else_=0)))
        .where(Review.status.in_(["pending", "escalated"]), Review.opened_at.is_not(None))
        .group_by(Review.stage)
    )
    queues = pd.DataFrame(
        [{"stage": str(st), "pending": n, "overdue": int(o or 0)} for st, n, o in s.exec(pending).all()],
        columns=["stage", "pending", "overdue"],
    )
    reqs = pd.DataFrame(
        [
            {"status": str(st), "requests": n}
            for st, n in s.exec(
                select(AccessRequest.status, func.count()).group_by(AccessRequest.status)
            ).all()
        ],
        columns=["status", "requests"],
    )
    decisions = pd.DataFrame(
        [
            {"decision": str(d), "reviews": n}
            for d, n in s.exec(
                select(Review.decision, func.count())
                .where(Review.decision.is_not(None))
                .group_by(Review.decision)
            ).all()
        ],
        columns=["decision", "reviews"],
    )
    pay = s.exec(
        select(
            func.count(),
            func.coalesce(func.sum(Payment.amount), 0),
            func.coalesce(func.sum(Payment.operator_revenue), 0),
            func.coalesce(func.sum(Payment.holder_share), 0),
        )
    ).one()
    breaches = s.exec(select(func.count()).select_from(Review).where(Review.breached)).one()
    completion = completion_frame(s)
    released = _released_in(s)
    ex_rows = []
    for ex in released:
        col = completion[ex.id] if ex.id in completion else pd.Series(dtype=object)
        ex_rows.append(
            {
                "exercise": ex.id,
                "title": ex.title.en,
                "done": int((col == True).sum()),  # noqa: E712
                "of": int(col.notna().sum()),
            }
        )
    exercises = pd.DataFrame(ex_rows, columns=["exercise", "title", "done", "of"])
    events = s.exec(
        select(
            AuditEvent.seq,
            AuditEvent.at,
            AuditEvent.actor_id,
            AuditEvent.action,
            AuditEvent.subject_type,
            AuditEvent.subject_id,
            AuditEvent.outcome,
        )
        .order_by(AuditEvent.seq.desc())
        .limit(recent)
    ).all()
    recent_df = pd.DataFrame(
        [
            dict(seq=q, at=a, actor=ac, action=x, subject=f"{st} {si or ''}".strip(), outcome=str(o))
            for q, a, ac, x, st, si, o in events
        ],
        columns=["seq", "at", "actor", "action", "subject", "outcome"],
    )
    figures = {
        "participants": len(completion),
        "requests": int(reqs["requests"].sum()) if not reqs.empty else 0,
        "pending_reviews": int(queues["pending"].sum()) if not queues.empty else 0,
        "overdue_reviews": int(queues["overdue"].sum()) if not queues.empty else 0,
        "deadline_breaches": int(breaches),
        "payments": int(pay[0]),
        "revenue": Decimal(pay[1]),
        "operator_revenue": Decimal(pay[2]),
        "holder_share": Decimal(pay[3]),
        "released_exercises": len(released),
    }
    return Dashboard(
        datetime.now(UTC),
        today,
        state.paused,
        policy,
        figures,
        queues,
        reqs,
        decisions,
        exercises,
        completion,
        recent_df,
    )


def facilitate(code: str, engine: sa.Engine | None = None) -> Facilitator:
    """Join with a trainer's code and get the console logic; anyone else is refused (and audited)."""
    session = join(code, engine)
    fac = Facilitator(session)

    def check(s: Session) -> None:
        actor = account_in(session, s)
        require_role(
            s,
            actor,
            Role.trainer,
            "open the facilitator console",
            ("workshop", None),
            audit_action="workshop.console",
        )

    run_retrying(engine_of(session), check)
    return fac


def workshop_exists(engine: sa.Engine) -> bool:
    """Whether a workshop runs on this database (a trainer seat exists): trainer operations need its code."""
    return run_retrying(engine, roster.trainer_exists)


def require_trainer(
    engine: sa.Engine, code: str | None, action: str, doing: str, *, acting_as: str | None = None
) -> Facilitator | None:
    """The trainer's console for an operation run outside it (the command line): None when no workshop runs
    on the database (a researcher's sandbox), else the trainer's code is required, and `acting_as` (a
    `--as` account) must be the account of that code. Every refusal is audited under `action`."""
    if not workshop_exists(engine):
        return None

    def refused(reason: str) -> PermissionDenied:
        err = PermissionDenied(acting_as or "anyone", doing, reason)

        def rec(s: Session) -> None:
            audit.refuse(s, None, action, ("workshop", None), err, {"as": acting_as} if acting_as else None)

        run_retrying(engine, rec)
        return err

    if not code:
        raise refused(
            "a workshop runs on this database: give the trainer's code (--trainer-code or "
            "MARKETPLACE_TRAINER_CODE)"
        )
    fac = facilitate(code, engine)
    if acting_as is not None:
        me = run_retrying(engine, lambda s: account_in(fac.session, s).username)
        if acting_as != me:
            raise refused(
                f"the code given is not the code of {acting_as!r}: --as acts only as the account "
                "whose code is given"
            )
    return fac


def bootstrap_trainer(engine: sa.Engine, *, label: str = "Trainer") -> roster.RosterEntry:
    """Create the first trainer seat of a workshop (CLI set-up); refused once a trainer seat exists."""

    def go(s: Session) -> roster.RosterEntry:
        if roster.trainer_exists(s):
            err = PermissionDenied(
                "anyone",
                "create the first trainer",
                "a trainer already exists; an existing trainer adds seats",
            )
            raise audit.refuse(s, None, "workshop.bootstrap", ("workshop", None), err)
        entry = roster.seat_trainer(s, label=label)
        audit.record(s, None, "workshop.bootstrap", ("account", entry.account_id), {"seat": entry.seat})
        return entry

    return run_retrying(engine, go)


__all__ = [
    "Dashboard",
    "Facilitator",
    "PolicyEffect",
    "bootstrap_trainer",
    "build_dashboard",
    "completion_frame",
    "facilitate",
    "released_exercises",
    "require_trainer",
    "workshop_exists",
]
