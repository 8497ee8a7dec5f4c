"""A seeded sandbox world for the workflow tests, on both backends, and small helpers to find things in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.models import (
    AccessRequest,
    Account,
    AccountRole,
    AuditEvent,
    Organization,
    Product,
    Resource,
    SelectionApplication,
    SelectionRound,
)
from marketplace.policy.compute import rows_refusal
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import AuditOutcome, OrganizationKind, Role

WORLD_SEED = 7


class World:
    """The seeded world plus finders; `step()` is one transaction, like every caller of the workflows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def step(self) -> AbstractContextManager[Session]:
        return db.session_scope(self.engine)

    # finders (take an open session)
    @staticmethod
    def acct(s: Session, username: str) -> Account:
        return wf.account(s, username)

    @staticmethod
    def role(s: Session, role: Role | str, org_id: int | None = None) -> Account:
        found = wf.accounts_with_role(s, role, org_id=org_id)
        assert found, f"no {role} account" + (f" in org {org_id}" if org_id else "")
        return found[0]

    @staticmethod
    def requester(
        s: Session, kind: OrganizationKind, *, not_org: int | None = None, index: int = 0
    ) -> Account:
        accs = [
            a
            for a in s.exec(
                select(Account)
                .join(Organization)
                .join(AccountRole)
                .where(Organization.kind == kind, AccountRole.role == Role.requester)
                .order_by(Account.id)
            ).all()
            if a.organization_id != not_org
        ]
        return accs[index]

    @staticmethod
    def resource(s: Session, test: Callable[[Resource], bool]) -> Resource:
        for r in s.exec(select(Resource).order_by(Resource.id)).all():
            if wf.accounts_with_role(s, Role.steward, org_id=r.holder_id) and test(r):
                return r
        raise AssertionError("no such resource in the seeded world")

    @staticmethod
    def product(s: Session, test: Callable[[Product], bool]) -> Product:
        for p in s.exec(select(Product).order_by(Product.id)).all():
            if test(p):
                return p
        raise AssertionError("no such product in the seeded world")

    @staticmethod
    def request(s: Session, request_id: int) -> AccessRequest:
        return s.get(AccessRequest, request_id)

    def events(self, action: str) -> list[AuditEvent]:
        with Session(self.engine) as s:
            q = select(AuditEvent).where(AuditEvent.action == action)
            return list(s.exec(q.order_by(AuditEvent.seq)).all())

    def refused_events(self, action: str | None = None) -> list[AuditEvent]:
        with Session(self.engine) as s:
            q = select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.refused)
            if action:
                q = q.where(AuditEvent.action == action)
            return list(s.exec(q.order_by(AuditEvent.seq)).all())

    def count(self, model: Any) -> int:
        with Session(self.engine) as s:
            return len(s.exec(select(model)).all())

    def verify(self) -> wf.ChainCheck:
        with Session(self.engine) as s:
            return wf.verify_chain(s)

    # common stories
    def conditional_sharing(self) -> int:
        """A department's sharing request for another department's conditional resource, in review.

        The resource is one whose rows may be delivered on sharing (`policy.rows_refusal`): the stories that
        use it deliver rows; computation-only data has its own stories (test_wf_computation)."""
        with self.step() as s:
            policy = wf.current_policy(s)
            res = self.resource(
                s,
                lambda r: r.sharing_attribute.value == "conditional"
                and rows_refusal(policy, r.grade, "sharing", domain=r.domain, source=r.source) is None,
            )
            dept = self.requester(s, OrganizationKind.department, not_org=res.holder_id)
            req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
            wf.submit_request(s, dept, req)
            return req.id

    def approve_all(self, request_id: int, conditions: dict[str, list[str]] | None = None) -> None:
        conditions = conditions or {}
        while True:
            with self.step() as s:
                req = s.get(AccessRequest, request_id)
                review = wf.open_review(req)
                if review is None or req.status.value != "in_review":
                    return
                who = self.reviewer(s, review)
                conds = conditions.get(review.stage.value, [])
                wf.decide(s, who, review, "approve_with_conditions" if conds else "approve", conditions=conds)

    def select_operator(self, operator_id: int, resource_ids: list[int]) -> int:
        """A competitive round by the implementing institution over the resources, in which every operator
        applies qualified and `operator_id` wins; returns the round's id."""
        with self.step() as s:
            rnd = wf.open_selection(
                s, self.role(s, Role.registrar), resources=[s.get(Resource, i) for i in resource_ids],
                title="lot for the test",
            )
            round_id = rnd.id
            operators = s.exec(
                select(Organization.id).where(Organization.kind == OrganizationKind.operator)
                .order_by(Organization.id)
            ).all()
        apps = {}
        for op in operators:
            with self.step() as s:
                app = wf.apply_for_selection(
                    s, self.role(s, Role.operator, op), s.get(SelectionRound, round_id),
                    security_level=3, registered_capital="50000000",
                )
                apps[op] = app.id
        with self.step() as s:
            for op, app_id in apps.items():
                mark = 90 if op == operator_id else 60
                wf.score_application(
                    s, self.role(s, Role.registrar), s.get(SelectionApplication, app_id),
                    {"technical": mark, "security": mark, "service_plan": mark, "fee_proposal": mark},
                )
            wf.decide_selection(s, self.role(s, Role.registrar), s.get(SelectionRound, round_id))
        return round_id

    def reviewer(self, s: Session, review: Any) -> Account:
        return self.role(s, review.reviewer_role, review.reviewer_org_id)


def make_world(engine: Engine) -> World:
    seed_sandbox(engine, WORLD_SEED, "small")
    return World(engine)


@pytest.fixture(scope="session")
def wf_pg_engine(pg_server) -> Iterator[Engine]:
    """One PostgreSQL database for the workflow tests, re-seeded (tables dropped and re-created) per test."""
    engine = db.make_engine(pg_server.createdb("wf_shared"))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The small synthetic world (seed 7), fresh for every test, on SQLite in memory and on PostgreSQL."""
    if request.param == "sqlite":
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
        SQLModel.metadata.create_all(engine)
        yield make_world(engine)
        engine.dispose()
    else:
        engine = request.getfixturevalue("wf_pg_engine")
        SQLModel.metadata.create_all(engine)
        yield make_world(engine)
        engine.pool.dispose()  # no connection may outlive the test (the next one drops the tables)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    yield make_world(sqlite_engine)
