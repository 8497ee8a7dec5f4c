"""A join code binds a session to one account; trainer operations are refused for everyone else, and
audited."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from marketplace import db
from marketplace.errors import InvalidInput, PermissionDenied
from marketplace.models import AccountRole, AuditEvent, Participant
from marketplace.vocabulary import Role
from marketplace.workflows import audit
from marketplace.workshop import Facilitator, ParticipantSession, bootstrap_trainer, facilitate, join
from marketplace.workshop.roster import CODE_ALPHABET, code_hash, new_join_code, normalize_code


def refused_events(engine, action: str) -> list[AuditEvent]:
    with db.session_scope(engine) as s:
        return list(
            s.exec(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "refused")
            ).all()
        )


def test_join_code_binds_one_account(workshop) -> None:
    for entry in workshop.seats:
        session = join(entry.join_code, workshop.engine)
        assert session.account_id == entry.account_id
        assert session.whoami().group == entry.group
    # codes are read off paper: spaces, dashes and case do not matter
    e = workshop.seats[0]
    assert join(" " + e.join_code.lower().replace("-", " ") + " ", workshop.engine).account_id == e.account_id


def test_codes_are_unguessable_and_stored_only_as_digests(workshop) -> None:
    codes = [e.join_code for e in workshop.seats] + [workshop.trainer.join_code]
    assert len(set(codes)) == len(codes)
    assert all(len(normalize_code(c)) == 16 and set(normalize_code(c)) <= set(CODE_ALPHABET) for c in codes)
    with db.session_scope(workshop.engine) as s:
        stored = set(s.exec(select(Participant.join_code_hash)).all())
    assert stored == {code_hash(c) for c in codes}
    assert not {normalize_code(c) for c in codes} & stored


def test_wrong_code_is_refused_and_audited(workshop) -> None:
    with pytest.raises(PermissionDenied, match="unknown join code"):
        join(new_join_code(), workshop.engine)
    assert len(refused_events(workshop.engine, "workshop.join")) == 1
    with pytest.raises(InvalidInput, match="join code"):
        join("  -- ", workshop.engine)


def test_session_cannot_be_pointed_at_another_account(workshop) -> None:
    mine, other = workshop.seat("department", 0), workshop.seat("department", 1)
    session = join(mine.join_code, workshop.engine)
    with pytest.raises(AttributeError):
        session._code_hash = code_hash(other.join_code)
    with pytest.raises(AttributeError):
        session.account_id = other.account_id  # type: ignore[misc]
    with pytest.raises(TypeError, match="join"):
        ParticipantSession(workshop.engine, other.account_id)
    assert session.account_id == mine.account_id
    # the public API is the participant's actions: nothing that hands out a database session or an account
    public = {n for n in dir(ParticipantSession) if not n.startswith("_")}
    assert public == {
        "account_id",
        "whoami",
        "roles",
        "allowed_actions",
        "catalog",
        "file_request",
        "my_requests",
        "accept_quote",
        "withdraw",
        "report_usage",
        "review_queue",
        "decide",
        "deliver",
        "my_products",
        "set_price",
        "list_product",
        "citable_entries",
        "selection_rounds",
        "apply_for_selection",
        "score_application",
        "decide_selection",
        "exercises",
    }
    # no public method takes an account, a username or a role
    for name, fn in inspect.getmembers(ParticipantSession, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = set(inspect.signature(fn).parameters)
        assert not params & {"account", "account_id", "actor", "username", "role", "roles"}, name


def test_participant_cannot_act_for_someone_else(workshop) -> None:
    a = join(workshop.seat("enterprise", 0).join_code, workshop.engine)
    b = join(workshop.seat("enterprise", 1).join_code, workshop.engine)
    product = next(c for c in a.catalog() if c["kind"] == "product")
    receipt = a.file_request(purpose="industry_development", product=product["code"], volume=10)
    with pytest.raises(PermissionDenied, match="only the account that filed"):
        b.accept_quote(receipt.subject_id)
    with pytest.raises(PermissionDenied):
        b.withdraw(receipt.subject_id, reason="not mine")
    assert {e.actor_id for e in refused_events(workshop.engine, "request.accept_quote")} == {b.account_id}
    assert a.my_requests()[0]["quote_status"] == "offered"
    assert b.my_requests() == []


TRAINER_OPS = [
    ("release", lambda f: f.release_next()),
    ("checkpoint", lambda f: f.checkpoint("sneaky")),
    ("restore", lambda f: f.restore("anything")),
    ("policy", lambda f: f.switch_policy("market-pricing")),
    ("clock", lambda f: f.advance_clock(3)),
    ("clock", lambda f: f.pause_clock()),
    ("seat", lambda f: f.create_participants("steward=1", participants=1)),
    ("grant_role", lambda f: f.grant_role(2, Role.trainer)),
    ("reissue_code", lambda f: f.reissue_code(2)),
    ("dashboard", lambda f: f.dashboard()),
]


@pytest.mark.parametrize(
    ("op", "call"), TRAINER_OPS, ids=[f"{op}-{i}" for i, (op, _) in enumerate(TRAINER_OPS)]
)
def test_trainer_operations_are_refused_for_participants_and_audited(workshop, op, call) -> None:
    intruder = workshop.seat("steward", 0)
    fac = Facilitator(join(intruder.join_code, workshop.engine))
    with db.session_scope(workshop.engine) as s:
        before = s.exec(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first()
    with pytest.raises(PermissionDenied, match="needs the trainer role"):
        call(fac)
    with db.session_scope(workshop.engine) as s:
        new = list(s.exec(select(AuditEvent).where(AuditEvent.seq > before)).all())
        roles = set(
            s.exec(select(AccountRole.role).where(AccountRole.account_id == intruder.account_id)).all()
        )
        assert audit.verify_chain(s).ok
    assert [(e.action, e.outcome, e.actor_id) for e in new] == [
        (f"workshop.{op}", "refused", intruder.account_id)
    ]
    assert roles == {Role.steward}


def test_console_is_refused_for_non_trainers(workshop) -> None:
    with pytest.raises(PermissionDenied):
        facilitate(workshop.seat("operator").join_code, workshop.engine)
    assert len(refused_events(workshop.engine, "workshop.console")) == 1


def test_roles_come_only_from_trainer_operations(workshop) -> None:
    seat = workshop.seat("department", 0)
    with pytest.raises(PermissionDenied):
        bootstrap_trainer(workshop.engine)  # a trainer exists: no second "first trainer"
    assert len(refused_events(workshop.engine, "workshop.bootstrap")) == 1
    session = join(seat.join_code, workshop.engine)
    assert session.roles == {Role.requester}
    assert workshop.fac.grant_role(seat.seat, Role.steward) >= {Role.steward}
    assert session.roles == {Role.requester, Role.steward}


def test_reissued_code_replaces_the_old_one(workshop) -> None:
    seat = workshop.seat("enterprise", 1)
    new = workshop.fac.reissue_code(seat.seat)
    with pytest.raises(PermissionDenied):
        join(seat.join_code, workshop.engine)
    assert join(new, workshop.engine).account_id == seat.account_id


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=6),
    junk=st.text(alphabet=CODE_ALPHABET + "-", min_size=1, max_size=24),
)
def test_any_sequence_of_joins_binds_each_code_to_its_own_account(workshop, picks, junk) -> None:
    for i in picks:
        entry = workshop.seats[i]
        assert join(entry.join_code, workshop.engine).account_id == entry.account_id
    if code_hash(junk) not in {code_hash(e.join_code) for e in [*workshop.seats, workshop.trainer]}:
        with pytest.raises((PermissionDenied, InvalidInput)):
            join(junk, workshop.engine)
