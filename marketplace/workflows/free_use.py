"""Misuse of a free grant: revoked, and the requester charged retroactively at the paid price.

A free grant rests on the claim the requester made (`policy.check_free_claim`) and carries the conditions of
free use (no commercial use, no onward transfer, ...). When a compliance reviewer or the regulator finds it
misused, one step revokes the grant and writes a quote at the paid price the policy names for the purpose
(`free_use.<purpose>.paid_as`) with its payment, split exactly by `policy.split`; the fee counts as the
operator's revenue against MAR like any other.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput
from marketplace.models import AccessRequest, Account, Payment, Quote
from marketplace.vocabulary import Channel, QuoteStatus, RequestStatus, Role
from marketplace.workflows import facts
from marketplace.workflows.lookups import current_quote
from marketplace.workflows.price_formation import take_payment
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import step

__all__ = ["find_misuse", "free_grants"]

MAX_REASON = 2000


def find_misuse(session: Session, actor: Account, request: AccessRequest, reason: str) -> Payment:
    """A compliance reviewer or the regulator finds a free grant misused: revoked, charged the paid price."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(
            "reason", str(reason)[:40], f"what the misuse was, 1 to {MAX_REASON} characters",
            "expected.misuse_between", {"low": 1, "limit": MAX_REASON},
        )  # fmt: skip
    with step(session, actor, "request.misuse", request) as st:
        reviewer = st.policy.routing.reviewer_roles.compliance
        st.require(
            actor is not None and (has_role(actor, Role.regulator) or has_role(actor, reviewer)),
            f"only the regulator or a compliance reviewer ({reviewer.value}) may find a free grant misused",
            key="permission.misuse_finder",
            params={"role": reviewer.value},
        )
        q = current_quote(session, request)
        st.refuse_unless(
            request.channel is Channel.authorized_operation and q is not None and q.total == 0,
            "find misuse",
            "only a free grant of a product can be misused free use",
        )
        new_status = st.allow(request, "revoke")
        grant = request.grant
        grant.status = st.allow(grant, "revoke")
        grant.revoked_reason = f"misuse of free use: {text}"
        request.status = new_status
        request.updated_at = st.now
        rule = pol.free_use_rule(st.policy, request.purpose)
        paid_as = rule.paid_as if rule is not None else st.policy.purposes.paid[0]
        priced = pol.quote(
            st.policy,
            facts.product_target(request.product),
            replace(facts.request_facts(request), purpose=paid_as),
            facts.requester_facts(request.requester_org),
        )
        lines = priced.as_dict()["lines"]
        for line in lines:
            if line["component"] == "tax":
                line["taxes"] = str(priced.taxes)
        lines.append(
            {
                "component": "misuse",
                "amount": "0",
                "reason": f"Charged retroactively as {paid_as.value}: free use for {request.purpose.value} "
                f"was misused ({text})",
            }
        )
        charge = st.add(
            Quote(
                request_id=request.id,
                policy_name=st.policy.name,
                currency=priced.currency,
                total=priced.total,
                lines=lines,
                status=QuoteStatus.accepted,
                created_at=st.now,
                accepted_at=st.now,
            )
        )
        q.status = QuoteStatus.superseded
        payment = take_payment(st, request, charge.id, priced)
        st.save(f"grant {grant.code}")
        st.record(
            {
                "grant": grant.code,
                "reason": text,
                "priced_as": paid_as,
                "charged": priced.total,
                "split": {
                    "operator": payment.operator_revenue,
                    "holder": payment.holder_share,
                    "taxes": payment.taxes,
                },
            }
        )
    return payment


def free_grants(session: Session, *, limit: int = 200) -> list[AccessRequest]:
    """The free grants of products in force (granted or delivered, current quote 0.00), newest first: what a
    supervisor checks for misuse."""
    query = (
        select(AccessRequest)
        .join(Quote, Quote.request_id == AccessRequest.id)
        .where(
            AccessRequest.channel == Channel.authorized_operation,
            AccessRequest.status.in_((RequestStatus.granted, RequestStatus.delivered)),
            Quote.status != QuoteStatus.superseded,
            Quote.total == 0,
        )
        .distinct()
        .order_by(AccessRequest.id.desc())
        .limit(limit)
    )
    return list(session.exec(query).all())
