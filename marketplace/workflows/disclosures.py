"""Yearly disclosure duties of implementing institutions and operators (NDA notice of 10 February 2026).

Each implementing institution (a designated organization) publishes its own information, its
authorizations and the caps filed for their products; each operator with an authorization in force during
the year publishes its own information, the resources it is authorized to operate and its products with
their prices. Both are due by the policy's `disclosure.deadline` of the following year. When the sandbox
clock passes the deadline without a publication, the missed duty is recorded (a `Publication` with status
`missed`), and the operator's yearly evaluation counts it (`supervision.disclosure_breach`); a late
publication is kept and marked `late`.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import Account, Authorization, Designation, Organization, Publication
from marketplace.policy import disclosure_due
from marketplace.vocabulary import AuthorizationStatus, OrganizationKind, Role
from marketplace.workflows import clock, facts
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import step

__all__ = ["disclosure_due", "duty_holders", "publish_disclosure", "record_disclosure_breaches"]

IN_FORCE = (AuthorizationStatus.active, AuthorizationStatus.expired, AuthorizationStatus.terminated)


def _authorizations_in(session: Session, year: int) -> list[Authorization]:
    return [
        a
        for a in session.exec(select(Authorization).where(Authorization.status.in_(IN_FORCE))).all()
        if (a.term_start is None or a.term_start <= date(year, 12, 31))
        and (a.term_end is None or a.term_end >= date(year, 1, 1))
    ]


def duty_holders(session: Session, year: int) -> list[tuple[Organization, str]]:
    """Who must disclose for `year`: every designated institution and every operator with an authorization
    in force during the year (the duty starts once authorized operation has begun)."""
    out: dict[int, tuple[Organization, str]] = {}
    designated = {d.institution_id for d in session.exec(select(Designation)).all()}
    for a in _authorizations_in(session, year):
        if a.agency_id in designated:
            out.setdefault(a.agency_id, (session.get(Organization, a.agency_id), "institution"))
        out.setdefault(a.operator_id, (session.get(Organization, a.operator_id), "operator"))
    return [out[k] for k in sorted(out)]


def _content(session: Session, party: Organization, role: str, year: int) -> dict:
    auths = [
        a for a in _authorizations_in(session, year)
        if (a.agency_id if role == "institution" else a.operator_id) == party.id
    ]
    if role == "institution":
        return {
            "institution": {"code": party.code, "name": party.name, "region": party.region},
            "authorizations": [
                {"code": a.code, "operator": a.operator.name, "term": [str(a.term_start), str(a.term_end)],
                 "resources": [r.code for r in a.resources]}
                for a in auths
            ],
            "caps": [
                {"product": p.code, "unit": p.billing_unit.value, "cap": str(p.price_cap)}
                for a in auths for p in a.products if p.price_cap is not None
            ],
        }
    return {
        "operator": {"code": party.code, "name": party.name, "region": party.region},
        "resources": sorted({r.code for a in auths for r in a.resources}),
        "products": [
            {"product": p.code, "name": p.name, "status": p.status.value, "unit": p.billing_unit.value,
             "price": None if p.actual_price is None else str(p.actual_price)}
            for a in auths for p in a.products
        ],
    }


def publish_disclosure(session: Session, actor: Account, party: Organization, year: int) -> Publication:
    """The party publishes its disclosure for `year` (its own staff: steward or registrar of an institution,
    the operator's account); after the deadline it is kept and marked late."""
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput("year", year, "a year from 2000 to 2100")
    with step(session, actor, "disclosure.publish", party) as st:
        holders = {o.id: role for o, role in duty_holders(session, year)}
        if party.id not in holders:
            raise InvalidInput(
                "party", party.code,
                f"an implementing institution or an operator with a disclosure duty for {year}",
            )
        role = holders[party.id]
        staff = (
            has_role(actor, Role.operator) if party.kind is OrganizationKind.operator
            else has_role(actor, Role.steward) or has_role(actor, Role.registrar)
        )
        st.require(
            staff and actor.organization_id == party.id,
            "only the party's own staff publishes its disclosure",
            doing=f"publish for {party.code}",
            doing_key="permission.doing.publish_for",
            doing_params={"party": party.code},
        )
        due = disclosure_due(st.policy, year)
        pub = session.exec(
            select(Publication).where(Publication.party_id == party.id, Publication.year == year)
        ).first()
        if pub is not None and pub.published_at is not None:
            raise TransitionError(f"disclosure of {party.code} for {year}", pub.status, "publish again",
                                  key="error.disclosure_published",
                                  params={"party": party.code, "year": str(year), "state": str(pub.status)})
        status = "published" if st.today <= due else "late"
        if pub is None:
            pub = Publication(party_id=party.id, year=year, role=role, due=due, status=status)
        pub.status, pub.published_at = status, st.now
        pub.content = _content(session, party, role, year)
        st.add(pub)
        st.record({"year": year, "role": role, "due": due, "status": status})
    return pub


def record_disclosure_breaches(session: Session, actor: Account | None = None) -> list[Publication]:
    """When the clock is past a year's deadline, each duty holder without a publication is recorded missed."""
    today = clock.today(session)
    policy = facts.current_policy(session)
    year = today.year - 1
    if today <= disclosure_due(policy, year):
        year -= 1
    if year < policy.disclosure.first_year:
        return []
    due = disclosure_due(policy, year)
    done = {p.party_id for p in session.exec(select(Publication).where(Publication.year == year)).all()}
    out = []
    for party, role in duty_holders(session, year):
        if party.id in done:
            continue
        with step(session, actor, "disclosure.breach", party) as st:
            pub = st.add(Publication(party_id=party.id, year=year, role=role, due=due, status="missed"))
            st.record({"year": year, "role": role, "due": due})
        out.append(pub)
    return out
