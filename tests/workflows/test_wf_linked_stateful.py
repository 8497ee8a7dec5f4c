"""Hypothesis state machine over the linked lifecycles: purchases, deliveries, terminations, clock moves that
expire authorizations and registrations, and proposals by any agency account. After every step: no delivery on
an ended authorization or an expired registration, every successful step audited, no authorization outside its
proposer's jurisdiction, the audit chain intact (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.errors import MarketplaceError
from marketplace.models import (
    AccessRequest,
    Account,
    AuditEvent,
    Authorization,
    Delivery,
    Designation,
    Organization,
    Product,
    Registration,
    Resource,
)
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import AuditOutcome, OrganizationKind, ProductStatus, Role

ENDS = ("authorization.expire", "authorization.terminate")


def machine_for(engine: Engine) -> type[RuleBasedStateMachine]:
    class Linked(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            seed_sandbox(engine, 3, "small")
            with Session(engine) as s:
                self.products = [
                    p.id for p in s.exec(select(Product).order_by(Product.id)).all()
                    if p.status is ProductStatus.listed and p.transformation == "aggregated"
                ]
                self.proposers = [a.id for a in wf.accounts_with_role(s, Role.steward)][:6] + [
                    a.id for a in wf.accounts_with_role(s, Role.registrar)
                ]
                self.resources = [r.id for r in s.exec(select(Resource).order_by(Resource.id)).all()]
                self.seeded_auths = {a.id for a in s.exec(select(Authorization)).all()}
            self.requests: list[int] = []

        def ok_events(self) -> int:
            with Session(engine) as s:
                return len(s.exec(select(AuditEvent.id).where(AuditEvent.outcome == AuditOutcome.ok)).all())

        def attempt(self, fn) -> bool:
            """Run one step in its own transaction; a success must have added audit events."""
            before = self.ok_events()
            try:
                with db.session_scope(engine) as s:
                    fn(s)
            except MarketplaceError:
                return False
            assert self.ok_events() > before, "a successful step left no audit event"
            return True

        @rule(i=st.integers(0, 50))
        def buy(self, i: int) -> None:
            if not self.products:
                return

            def go(s: Session) -> None:
                prod = s.get(Product, self.products[i % len(self.products)])
                npo = s.exec(
                    select(Account).join(Organization).where(Organization.kind == OrganizationKind.nonprofit)
                    .order_by(Account.id)
                ).first()
                why = "Access maps for elderly residents in a health programme"
                req = wf.create_request(s, npo, product=prod, purpose="public_welfare", use_statement=why)
                wf.submit_request(s, npo, req)
                self.requests.append(req.id)
                review = wf.open_review(req)
                while review is not None and req.status.value == "in_review":
                    who = wf.accounts_with_role(s, review.reviewer_role, org_id=review.reviewer_org_id)[0]
                    wf.decide(s, who, review, "approve")
                    review = wf.open_review(req)

            if self.attempt(go):
                self.deliver(len(self.requests) - 1)

        @rule(i=st.integers(0, 50))
        def deliver(self, i: int) -> None:
            if not self.requests:
                return

            def go(s: Session) -> None:
                req = s.get(AccessRequest, self.requests[i % len(self.requests)])
                wf.deliver(s, wf.accounts_with_role(s, Role.operator, org_id=req.product.operator_id)[0], req,
                           rows=20)

            self.attempt(go)

        @rule(i=st.integers(0, 10))
        def terminate(self, i: int) -> None:
            def go(s: Session) -> None:
                auths = s.exec(select(Authorization).order_by(Authorization.id)).all()
                wf.terminate_authorization(s, wf.accounts_with_role(s, Role.regulator)[0],
                                           auths[i % len(auths)], "sanction")

            self.attempt(go)

        @rule(days=st.sampled_from([1, 45, 400, 700]))
        def advance(self, days: int) -> None:
            self.attempt(lambda s: wf.advance_clock(s, wf.accounts_with_role(s, Role.trainer)[0], days))

        @rule(a=st.integers(0, 50), r=st.integers(0, 100))
        def propose(self, a: int, r: int) -> None:
            def go(s: Session) -> None:
                actor = s.get(Account, self.proposers[a % len(self.proposers)])
                res = s.get(Resource, self.resources[r % len(self.resources)])
                kind = Organization.kind == OrganizationKind.operator
                op = s.exec(select(Organization).where(kind).order_by(Organization.id)).first()
                wf.propose_authorization(s, actor, operator=op, resources=[res], term_years=1)

            self.attempt(go)

        @invariant()
        def linked_lifecycles_hold(self) -> None:
            with Session(engine) as s:
                events = s.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.ok)).all()
                ended = {}
                expired_reg = {}
                for e in events:
                    if e.action in ENDS and e.subject_id not in ended:
                        ended[e.subject_id] = e.at
                    if e.action == "registration.expire":
                        expired_reg[e.subject_id] = e.at
                for d in s.exec(select(Delivery)).all():
                    req = s.get(AccessRequest, d.request_id)
                    if req.product_id is None:
                        continue
                    prod = req.product
                    auth = prod.authorization
                    at = d.delivered_at.replace(tzinfo=None)
                    if auth.id in ended:
                        assert at < ended[auth.id].replace(tzinfo=None), f"delivery on ended {auth.code}"
                    assert auth.term_end is None or at.date() <= auth.term_end
                    for reg in s.exec(select(Registration).where(Registration.product_id == prod.id)).all():
                        if reg.id in expired_reg:
                            assert at < expired_reg[reg.id].replace(tzinfo=None), "delivery on expired record"
                for a in s.exec(select(Authorization)).all():
                    if a.id in self.seeded_auths:
                        continue
                    regions = {d.region for d in s.exec(
                        select(Designation).where(Designation.institution_id == a.agency_id)).all()}
                    assert regions, f"{a.code} proposed by an organization no government designated"
                    outside = [r.code for r in a.resources if r.holder.region not in regions]
                    assert not outside, f"{a.code} outside jurisdiction: {outside}"
                assert wf.verify_chain(s).ok

    return Linked


def _run(engine: Engine, examples: int) -> None:
    machine = machine_for(engine)
    machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    machine.TestCase().runTest()


def test_linked_lifecycles_keep_their_invariants_on_sqlite(sqlite_engine):
    _run(sqlite_engine, 12)


@pytest.mark.postgres
def test_linked_lifecycles_keep_their_invariants_on_postgresql(pg_url):
    engine = db.make_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    try:
        _run(engine, 5)
    finally:
        engine.dispose()
