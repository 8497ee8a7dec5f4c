"""Random actions by random accounts; the invariants hold after every step (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.errors import MarketplaceError
from marketplace.models import AccessRequest, Account, Payment, Product, Quote, Resource
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import (
    Channel,
    ConditionKind,
    Decision,
    Purpose,
    QuoteStatus,
    RequestStatus,
    ReviewStatus,
)

LEGAL = {
    RequestStatus.draft,
    RequestStatus.in_review,
    RequestStatus.returned,
    RequestStatus.approved,
    RequestStatus.approved_with_conditions,
    RequestStatus.rejected,
    RequestStatus.withdrawn,
    RequestStatus.granted,
    RequestStatus.delivered,
    RequestStatus.expired,
    RequestStatus.revoked,
}  # `submitted` only exists inside a step
CONDITIONS = [
    "deidentify(k>=6, l>=2)",
    "expires_after(days=90)",
    "no_onward_transfer",
    "report_usage",
    "aggregate(min_cell=12)",
]


def machine_for(engine: Engine) -> type[RuleBasedStateMachine]:
    class Marketplace(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            seed_sandbox(engine, 3, "small")
            with Session(engine) as s:
                self.accounts = [a.id for a in s.exec(select(Account).order_by(Account.id)).all()]
                self.resources = [r.id for r in s.exec(select(Resource).order_by(Resource.id)).all()]
                self.products = [p.id for p in s.exec(select(Product).order_by(Product.id)).all()]
            self.requests: list[int] = []

        def _live(self) -> bool:
            """Moving the clock is interesting only while something waits for a deadline or an expiry."""
            with Session(engine) as s:
                return (
                    s.exec(
                        select(AccessRequest.id).where(
                            AccessRequest.status.in_(
                                [RequestStatus.in_review, RequestStatus.granted, RequestStatus.delivered]
                            )
                        )
                    ).first()
                    is not None
                )

        def _run(self, fn) -> None:
            try:
                with db.session_scope(engine) as s:
                    fn(s)
            except MarketplaceError:
                pass  # refused or invalid: allowed, checked by the invariants

        def _req_and_actor(self, s, data, *, statuses=(), prefer=None):
            """Mostly a request in a state where the action applies, mostly by the right account."""
            ids = self.requests
            if statuses and data.draw(st.integers(0, 3)) > 0:
                fitting = s.exec(select(AccessRequest.id).where(AccessRequest.status.in_(statuses))).all()
                ids = sorted(fitting) or ids
            req = s.get(AccessRequest, data.draw(st.sampled_from(ids)))
            if prefer is not None and data.draw(st.integers(0, 3)) > 0:
                return req, prefer(s, req)
            return req, s.get(Account, data.draw(st.sampled_from(self.accounts)))

        @precondition(lambda self: len(self.requests) < 6)
        @rule(
            data=st.data(),
            channel=st.sampled_from(["sharing", "opening", "product"]),
            purpose=st.sampled_from(list(Purpose)),
            volume=st.integers(1, 40),
        )
        def create(self, data, channel, purpose, volume):
            if channel == "sharing" and data.draw(st.integers(0, 3)) > 0:
                purpose = Purpose.public_governance

            def go(s):
                if channel == "product":
                    target = {"product": s.get(Product, data.draw(st.sampled_from(self.products)))}
                else:
                    target = {
                        "resource": s.get(Resource, data.draw(st.sampled_from(self.resources))),
                        "channel": channel,
                    }
                # mostly a requester account that fits the channel, sometimes anyone
                reqs = [
                    a
                    for a in wf.accounts_with_role(s, "requester")
                    if channel != "sharing" or a.organization.kind.value == "department"
                ]
                actor = (
                    data.draw(st.sampled_from(reqs))
                    if data.draw(st.booleans())
                    else s.get(Account, data.draw(st.sampled_from(self.accounts)))
                )
                req = wf.create_request(s, actor, purpose=purpose, volume=volume, **target)
                self.requests.append(req.id)

            self._run(go)

        @precondition(lambda self: bool(self.requests))
        @rule(
            data=st.data(),
            decision=st.sampled_from(
                [
                    Decision.approve,
                    Decision.approve,
                    Decision.approve_with_conditions,
                    Decision.reject,
                    Decision.return_for_revision,
                ]
            ),
            conds=st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2, unique=True),
        )
        def progress(self, data, decision, conds):
            """The right account takes the next step of a random request (the happy path, mostly)."""

            def go(s):
                req = s.get(AccessRequest, data.draw(st.sampled_from(self.requests)))
                status = req.status
                if status in (RequestStatus.draft, RequestStatus.returned):
                    (wf.resubmit if status is RequestStatus.returned else wf.submit_request)(
                        s, req.requester, req, seed=1, deliver_rows=60
                    )
                elif status is RequestStatus.in_review:
                    if wf.fee_due(s, req) and data.draw(st.booleans()):
                        wf.accept_quote(s, req.requester, req)
                        return
                    review = wf.open_review(req)
                    who = wf.accounts_with_role(s, review.reviewer_role, org_id=review.reviewer_org_id)
                    if who:
                        wf.decide(
                            s,
                            who[0],
                            review,
                            decision,
                            reason="because",
                            conditions=conds if decision is Decision.approve_with_conditions else [],
                        )
                elif status in (RequestStatus.approved, RequestStatus.approved_with_conditions):
                    wf.accept_quote(s, req.requester, req)
                elif status in (RequestStatus.granted, RequestStatus.delivered):
                    if req.product_id:
                        who = wf.accounts_with_role(s, "operator", org_id=req.product.operator_id)
                    else:
                        who = wf.accounts_with_role(s, "steward", org_id=req.resource.holder_id)
                    wf.deliver(s, who[0], req, rows=80, seed=2)

            self._run(go)

        @rule(data=st.data())
        def submit(self, data):
            if self.requests:
                self._run(lambda s: self._submit(s, data))

        def _submit(self, s, data):
            req, actor = self._req_and_actor(
                s,
                data,
                statuses=(RequestStatus.draft, RequestStatus.returned),
                prefer=lambda s, r: r.requester,
            )
            if req.status is RequestStatus.returned:
                wf.resubmit(s, actor, req, seed=1, deliver_rows=60)
            else:
                wf.submit_request(s, actor, req, seed=1, deliver_rows=60)

        @rule(
            data=st.data(),
            decision=st.sampled_from(list(Decision)),
            conds=st.lists(st.sampled_from(CONDITIONS), max_size=2, unique=True),
        )
        def decide(self, data, decision, conds):
            def go(s):
                def right(s, r):
                    rv = wf.open_review(r)
                    if rv is None:
                        return r.requester
                    found = wf.accounts_with_role(s, rv.reviewer_role, org_id=rv.reviewer_org_id)
                    return found[0] if found else r.requester

                req, actor = self._req_and_actor(s, data, statuses=(RequestStatus.in_review,), prefer=right)
                review = wf.open_review(req) or (req.reviews[0] if req.reviews else None)
                if review is None:
                    return
                with_conds = conds if decision is Decision.approve_with_conditions else []
                wf.decide(s, actor, review, decision, conditions=with_conds, reason="because")

            if self.requests:
                self._run(go)

        @rule(data=st.data())
        def accept_quote(self, data):
            if self.requests:
                self._run(
                    lambda s: wf.accept_quote(
                        s,
                        *reversed(
                            self._req_and_actor(
                                s,
                                data,
                                statuses=(
                                    RequestStatus.in_review,
                                    RequestStatus.approved,
                                    RequestStatus.approved_with_conditions,
                                ),
                                prefer=lambda s, r: r.requester,
                            )
                        ),
                    )
                )

        @rule(data=st.data())
        def deliver(self, data):
            def supplier(s, r):
                if r.product_id:
                    return wf.accounts_with_role(s, "operator", org_id=r.product.operator_id)[0]
                found = wf.accounts_with_role(s, "steward", org_id=r.resource.holder_id)
                return found[0] if found else r.requester

            def go(s):
                req, actor = self._req_and_actor(
                    s, data, statuses=(RequestStatus.granted, RequestStatus.delivered), prefer=supplier
                )
                wf.deliver(s, actor, req, rows=80, seed=2)

            if self.requests:
                self._run(go)

        @rule(data=st.data())
        def withdraw_or_revoke(self, data):
            def go(s):
                req, actor = self._req_and_actor(
                    s,
                    data,
                    statuses=(RequestStatus.in_review, RequestStatus.granted),
                    prefer=lambda s, r: r.requester,
                )
                if data.draw(st.booleans()):
                    wf.withdraw(s, actor, req)
                else:
                    wf.revoke_grant(s, actor, req, "test")

            if self.requests:
                self._run(go)

        @rule(data=st.data())
        def report_usage(self, data):
            def go(s):
                req, actor = self._req_and_actor(
                    s,
                    data,
                    statuses=(RequestStatus.granted, RequestStatus.delivered),
                    prefer=lambda s, r: r.requester,
                )
                wf.report_usage(s, actor, req, data.draw(st.sampled_from(["used for the study", " "])))

            if self.requests:
                self._run(go)

        @precondition(lambda self: self._live())
        @rule(data=st.data(), days=st.sampled_from([1, 4, 15, 120]))
        def advance(self, data, days):
            def go(s):
                trainer = wf.accounts_with_role(s, "trainer")[0]
                actor = (
                    trainer
                    if data.draw(st.booleans())
                    else s.get(Account, data.draw(st.sampled_from(self.accounts)))
                )
                wf.advance_clock(s, actor, days)

            self._run(go)

        @invariant()
        def consistent(self):
            with Session(engine) as s:
                assert wf.verify_chain(s).ok
                for req in s.exec(select(AccessRequest)).all():
                    assert req.status in LEGAL, req.status
                    open_ = [
                        r
                        for r in req.reviews
                        if r.status in (ReviewStatus.pending, ReviewStatus.escalated)
                        and r.opened_at is not None
                    ]
                    assert len(open_) == (1 if req.status is RequestStatus.in_review else 0), req.code
                    if req.status in (
                        RequestStatus.granted,
                        RequestStatus.delivered,
                        RequestStatus.expired,
                        RequestStatus.revoked,
                    ):
                        assert req.grant is not None
                        assert req.decided_at is not None
                        last_round = [r for r in req.reviews if r.status is not ReviewStatus.cancelled][-3:]
                        assert all(
                            r.decision in (Decision.approve, Decision.approve_with_conditions)
                            for r in last_round
                            if r.sequence
                            >= max(
                                (
                                    x.sequence + 1
                                    for x in req.reviews
                                    if x.decision is Decision.return_for_revision
                                ),
                                default=0,
                            )
                        )
                        q = s.exec(
                            select(Quote).where(
                                Quote.request_id == req.id, Quote.status != QuoteStatus.superseded
                            )
                        ).first()
                        if req.product_id is not None:
                            assert q is not None and q.status is QuoteStatus.accepted
                            pay = s.exec(select(Payment).where(Payment.quote_id == q.id)).first()
                            if q.total > 0:
                                assert pay is not None and pay.amount == q.total
                                assert pay.operator_revenue + pay.holder_share + pay.taxes == pay.amount
                            else:
                                assert pay is None and q.total == Decimal("0")
                    deliveries = req.grant.deliveries if req.grant else []
                    if req.status is RequestStatus.delivered:
                        assert deliveries
                    reports = sorted(req.grant.usage_reports, key=lambda r: r.filed_at) if req.grant else []
                    for d in deliveries:  # nothing released while a usage report was overdue
                        due = next(
                            (r.period_due for r in reports if r.filed_at > d.delivered_at),
                            req.grant.usage_report_due,
                        )
                        assert due is None or due >= d.delivered_at.date(), (req.code, due, d.delivered_at)
                    for d in deliveries:
                        deid = [c for c in req.conditions if c.kind is ConditionKind.deidentify]
                        aggr = [c for c in req.conditions if c.kind is ConditionKind.aggregate]
                        src = req.resource if req.resource_id else req.product.resources[0]
                        personal = {f.name for f in src.fields if f.marking.value != "other"}
                        if aggr:
                            assert d.kind.value == "aggregate"
                        elif deid and personal & set(d.columns):
                            rep = d.privacy_report
                            assert rep is not None
                            assert rep["k_achieved"] >= max(c.params["k"] for c in deid)
                            assert rep["l_achieved"] is None or rep["l_achieved"] >= max(
                                c.params["l"] for c in deid
                            )
                            ids = {f.name for f in src.fields if f.marking.value == "identifier"}
                            assert not ids & set(d.columns)
                        if req.channel is not Channel.sharing and personal & set(d.columns) and not aggr:
                            assert deid, f"personal data delivered without de-identification: {req.code}"

    return Marketplace


def _run(engine: Engine, examples: int) -> None:
    machine = machine_for(engine)
    machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    machine.TestCase().runTest()


def test_random_actions_keep_invariants_on_sqlite(sqlite_engine):
    _run(sqlite_engine, 20)


@pytest.mark.postgres
def test_random_actions_keep_invariants_on_postgresql(pg_url):
    engine = db.make_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    try:
        _run(engine, 8)
    finally:
        engine.dispose()
