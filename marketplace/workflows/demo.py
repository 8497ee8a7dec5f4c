"""The headless demo (`marketplace demo`, `make demo`): one story through the three supply channels.

It seeds the synthetic world into the database it is given (the CLI gives it a fresh demo.db of its own),
then runs every step through the public workflow functions, one transaction per step, exactly as the
notebooks and widgets do.

Every line is said as a message key with params (`demo.*` in the catalogs) and worded by the caller's
`word` (the CLI passes `marketplace.i18n.story_text`), so the story reads in the language in force while this
layer stays free of wording.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace import db
from marketplace.errors import MarketplaceError
from marketplace.models import (
    AccessRequest,
    Account,
    AccountRole,
    Authorization,
    CostFiling,
    Organization,
    Product,
    Registration,
    Resource,
    SelectionApplication,
    SelectionRound,
)
from marketplace.policy import cap_within_mar, qualification_refusal, quote
from marketplace.policy.compute import rows_refusal
from marketplace.vocabulary import Grade, OrganizationKind, Role
from marketplace.workflows import (
    accept_quote,
    accept_registration,
    account,
    accounts_with_role,
    activate_authorization,
    advance_clock,
    agree_authorization,
    apply_for_selection,
    approve_plan,
    audit_events,
    award_directly,
    cap_room,
    clock,
    close_period,
    create_product,
    create_request,
    current_policy,
    current_quote,
    current_registration,
    decide,
    decide_objection,
    decide_selection,
    deliver,
    determine_mar,
    draft_plan,
    facts,
    file_cap,
    file_costs,
    file_objection,
    find_misuse,
    list_product,
    mar_positions,
    open_review,
    open_selection,
    price_product,
    propose_authorization,
    publish_notice,
    register,
    register_product,
    renew_registration,
    report_usage,
    resource_channels,
    score_application,
    start_registration_review,
    submit_registration,
    submit_request,
    terminate_authorization,
    verify_chain,
)
from marketplace.workflows.computation import run_computation
from marketplace.workflows.selection import applicant_facts

__all__ = ["run_demo"]

Echo = Callable[[str], Any]
Word = Callable[[str, dict[str, Any]], str]


class _Story:
    def __init__(self, engine: Engine, echo: Echo, word: Word) -> None:
        self.engine, self.echo, self.word, self.n = engine, echo, word, 0

    def step(self, key: str, **params: Any) -> Session:
        self.n += 1
        self.echo(f"\n[{self.n}] {self.word(key, params)}")
        return db.session_scope(self.engine)  # type: ignore[return-value]

    def say(self, key: str, **params: Any) -> None:
        for line in self.word(key, params).splitlines():
            self.echo(f"    {line}")


def _word(family: str, value: str) -> tuple[str, dict[str, Any]]:
    """A word of a family of messages ("selection.criterion" + "technical"); a value the catalogs do not
    know (a criterion a policy file adds) is shown as written."""
    return (f"{family}.{value}", {"raw": value})


def _seeded_both(name: str, part: str, text: str) -> Any:
    """A text of the seeded world in both of its languages ({"en": …, "zh": …}), so the reader sees the one
    in force; a text the world spec does not hold (typed by someone) as it is."""
    from marketplace.synth.spec import world_spec

    names = world_spec()["names"][name]
    en, zh = names["en_US"][part], names["zh_CN"][part]
    for i, pair in enumerate(zip(en, zh, strict=True)):
        if text in pair:
            return {"en": en[i], "zh": zh[i]}
    return text


def _why_not_qualified(s: Session, org: Organization, app: SelectionApplication) -> dict[str, Any]:
    """The stored refusal of an application (English) with the key and params of the same refusal from the
    policy, so other languages word it."""
    facts = applicant_facts(s, org, clock.today(s), security_level=app.security_level,
                            registered_capital=app.registered_capital)
    refusal = qualification_refusal(current_policy(s), facts)
    key, params = (refusal.key, refusal.params) if refusal is not None else ("", {})
    return {"reason": app.refusal_reason, "key": key, "params": params or {}}


def _conditions(rows: Any) -> list[dict[str, Any]]:
    """Condition rows as the wording layer reads them: kind, params and the text as typed."""
    return [{"kind": c.kind, "params": c.params, "text": c.text} for c in rows]


def _requester(s: Session, kind: OrganizationKind, exclude_org: int | None = None) -> Account:
    query = (
        select(Account)
        .join(Organization)
        .join(AccountRole)
        .where(Organization.kind == kind, AccountRole.role == Role.requester)
        .order_by(Account.id)
    )
    for acc in s.exec(query).all():
        if acc.organization_id != exclude_org:
            return acc
    raise MarketplaceError(f"the seeded world has no {kind.value} requester")


def _steward(s: Session, org_id: int) -> Account:
    stewards = accounts_with_role(s, Role.steward, org_id=org_id)
    if not stewards:
        raise MarketplaceError(f"organization {org_id} has no steward account")
    return stewards[0]


def _resource(s: Session, test: Callable[[Resource], bool], what: str) -> Resource:
    for r in s.exec(select(Resource).order_by(Resource.id)).all():
        if accounts_with_role(s, Role.steward, org_id=r.holder_id) and test(r):
            return r
    raise MarketplaceError(f"the seeded world has no {what}")


def _reviewer(s: Session, req: AccessRequest) -> Account:
    review = open_review(req)
    assert review is not None
    if review.reviewer_org_id is not None:
        return _steward(s, review.reviewer_org_id)
    return accounts_with_role(s, review.reviewer_role)[0]


def _show_delivery(story: _Story, d: Any) -> None:
    dl = d.delivery
    story.say("demo.delivery", id=dl.id, kind=dl.kind, rows=dl.row_count, columns=", ".join(dl.columns))
    story.say("demo.checksum", checksum=dl.checksum[:16])
    rep = d.report
    if rep and "k_achieved" in rep:
        story.say(
            "demo.privacy_report", k=rep["k_achieved"], k_target=rep["k_target"], l=rep["l_achieved"],
            l_target=rep["l_target"], risk=f"{rep['prosecutor_risk_max']:.3f}", ncp=f"{rep['ncp']:.1%}",
            suppressed=rep["rows_suppressed"],
        )
    elif rep:
        story.say(
            "demo.aggregate_report", released=rep.get("cells_released"),
            suppressed=rep.get("cells_suppressed"), min_cell=rep.get("min_cell"),
        )


def _rows_allowed(policy: Any, r: Resource, channel: str) -> bool:
    return rows_refusal(policy, r.grade, channel, domain=r.domain, source=r.source) is None


def _usable_not_visible(story: _Story, seed: int) -> None:
    """Important data on sharing: rows refused where the policy says compute; a computation runs instead."""
    with story.step("demo.step.usable_not_visible") as s:
        policy = current_policy(s)
        res = _resource(
            s,
            lambda r: r.sharing_attribute.value == "conditional"
            and not _rows_allowed(policy, r, "sharing")
            and any(f.marking.value == "quasi_identifier" for f in r.fields),
            "conditionally shared resource delivered as computation results",
        )
        dept = _requester(s, OrganizationKind.department, exclude_org=res.holder_id)
        req = create_request(
            s, dept, resource=res, channel="sharing", purpose="public_governance",
            use_statement="District totals for the annual plan",
        )
        submit_request(s, dept, req)
        story.say("demo.filed_graded", user=dept.username, request=req.code, resource=res.code,
                  title=res.title, grade=res.grade)
        req_id, holder = req.id, res.holder_id
    _review_all(story, req_id)
    try:
        with db.session_scope(story.engine) as s:
            deliver(s, _steward(s, holder), s.get(AccessRequest, req_id), rows=200, seed=seed)
    except MarketplaceError as exc:
        story.say("demo.rows_refused", error=exc)
    with db.session_scope(story.engine) as s:
        req = s.get(AccessRequest, req_id)
        terms = req.grant.terms["compute"]
        dim = terms["dimensions"][0]
        result = run_computation(
            s, req.requester, req, "aggregate_query",
            {"sql": f"SELECT {dim}, COUNT(*) AS n FROM data GROUP BY {dim}"},
        )
        story.say(
            "demo.computation", cells=len(result.value), dimension=dim,
            suppressed=result.run.cells_suppressed, min_cell=terms["min_cell"],
            fingerprint=result.run.fingerprint[:12],
        )


def _review_all(story: _Story, req_id: int, conditions: dict[str, list[str]] | None = None) -> None:
    conditions = conditions or {}
    while True:
        with db.session_scope(story.engine) as s:
            req = s.get(AccessRequest, req_id)
            review = open_review(req) if req.status.value == "in_review" else None
            if review is None:
                story.say("demo.request_status", request=req.code, status=req.status)
                return
            who = _reviewer(s, req)
            conds = conditions.get(review.stage.value, [])
            decision = "approve_with_conditions" if conds else "approve"
            decide(s, who, review, decision, conditions=conds)
            shown = _conditions(c for c in req.conditions if c.review_id == review.id)
            story.say(
                "demo.decided_with" if conds else "demo.decided", stage=review.stage, due=review.due_on,
                user=who.username, decision=decision, conditions=shown,
            )


def run_demo(*, seed: int = 7, echo: Echo = print, engine: Engine | None = None, word: Word) -> bool:
    """Reset and seed the sandbox, run the story, print each step (worded by `word`); True when the audit
    chain verifies."""
    from marketplace.synth import seed_sandbox

    engine = engine or db.get_engine()
    echo(word("demo.database", {"url": db.redact(str(engine.url))}))
    counts = seed_sandbox(engine, seed, "small")
    echo(word("demo.seeded", {
        "seed": seed, "organizations": counts.get("organization", "?"),
        "resources": counts.get("resource", "?"), "accounts": counts.get("account", "?"),
    }))
    story = _Story(engine, echo, word)

    with story.step("demo.step.clock") as s:
        story.say("demo.today", today=clock.today(s), policy=current_policy(s).name)

    # ---------------------------------------------------------------- sharing
    with story.step("demo.step.sharing") as s:
        policy = current_policy(s)
        res = _resource(
            s,
            lambda r: r.sharing_attribute.value == "conditional" and _rows_allowed(policy, r, "sharing"),
            "conditionally shared resource delivered as rows",
        )
        dept = _requester(s, OrganizationKind.department, exclude_org=res.holder_id)
        req = create_request(
            s,
            dept,
            resource=res,
            channel="sharing",
            purpose="public_governance",
            use_statement="Cross-check benefit eligibility for the annual review",
        )
        submit_request(s, dept, req)
        story.say("demo.filed_free", user=dept.username, request=req.code, resource=res.code, title=res.title)
        for r in req.reviews:
            story.say("demo.stage", stage=r.stage, role=r.reviewer_role, due=r.due_on)
        story.say("demo.policy_conditions", conditions=_conditions(req.conditions))
        share_id, share_fields = req.id, [f.name for f in res.fields if f.marking.value != "identifier"][:5]
    _review_all(story, share_id, {"holder": [f"fields(only=[{', '.join(share_fields)}])"]})
    with story.step("demo.step.sharing_delivery") as s:
        req = s.get(AccessRequest, share_id)
        g = req.grant
        story.say(
            "demo.grant_terms", grant=g.code, valid_until=g.valid_until,
            prohibitions=[_word("demo.odrl", p["action"]) for p in g.terms["prohibition"]],
            duties=[_word("demo.odrl", d["action"]) for d in g.terms["duty"]], report_due=g.usage_report_due,
        )
        d = deliver(s, _steward(s, req.resource.holder_id), req, rows=200, seed=seed)
        _show_delivery(story, d)
    _usable_not_visible(story, seed)

    # ---------------------------------------------------------------- opening
    with story.step("demo.step.opening_unconditional") as s:
        res = _resource(
            s,
            lambda r: (
                "opening" in resource_channels(r)
                and r.opening_attribute.value == "unconditional"
                and not r.contains_personal_info
            ),
            "unconditionally open resource",
        )
        ent = _requester(s, OrganizationKind.enterprise)
        req = create_request(
            s, ent, resource=res, channel="opening", purpose="industry_development", volume=100
        )
        submit_request(s, ent, req, seed=seed)
        story.say(
            "demo.asked_at_once", user=ent.username, organization=ent.organization.name, resource=res.code,
            status=req.status, grant=req.grant.code, rows=req.grant.deliveries[0].row_count,
        )
    with story.step("demo.step.opening_conditional") as s:
        res = _resource(
            s,
            lambda r: (
                r.opening_attribute.value == "conditional"
                and r.contains_personal_info
                and r.grade is Grade.general
            ),
            "conditionally open resource with personal information",
        )
        rsr = _requester(s, OrganizationKind.research)
        req = create_request(
            s,
            rsr,
            resource=res,
            channel="opening",
            purpose="research",
            use_statement="Study of regional patterns",
            duration_days=180,
        )
        submit_request(s, rsr, req)
        story.say("demo.filed_personal", user=rsr.username, request=req.code, resource=res.code,
                  title=res.title)
        story.say("demo.policy_conditions", conditions=_conditions(req.conditions))
        open_id, holder = req.id, res.holder_id
    _review_all(story, open_id, {"holder": ["deidentify(k>=10, l>=2)", "report_usage(days=90)"]})
    with story.step("demo.step.opening_delivery") as s:
        req = s.get(AccessRequest, open_id)
        story.say("demo.conditions_enforced", conditions=_conditions(req.conditions))
        _show_delivery(story, deliver(s, _steward(s, holder), req, rows=1000, seed=seed))
    with story.step("demo.step.usage_report") as s:
        req = s.get(AccessRequest, open_id)
        report = report_usage(
            s, req.requester, req, "Regional patterns study: aggregate tables published, no onward transfer"
        )
        story.say("demo.usage_reported", user=req.requester.username, due=report.period_due,
                  next_due=req.grant.usage_report_due)

    # ---------------------------------------------------------------- authorized operation
    with story.step("demo.step.registration") as s:
        res = _resource(
            s,
            lambda r: (
                r.contains_personal_info
                and r.grade is not Grade.core
                and "authorized_operation" in resource_channels(r)
                and not r.registrations
                and _rows_allowed(current_policy(s), r, "authorized_operation")
            ),
            "unregistered resource for authorized operation",
        )
        reg = submit_registration(s, _steward(s, res.holder_id), res)
        registrar = accounts_with_role(s, Role.registrar)[0]
        accept_registration(s, registrar, reg)
        start_registration_review(s, registrar, reg)
        publish_notice(s, registrar, reg)
        story.say("demo.registration_notice", resource=res.code, title=res.title, until=reg.notice_until)
        ent = _requester(s, OrganizationKind.enterprise)
        objection = file_objection(s, ent, reg, "The update frequency in the record looks wrong")
        story.say("demo.objection", organization=ent.organization.name, due=objection.due)
        decide_objection(s, registrar, objection, "dismiss", "frequency confirmed with the holder")
        story.say("demo.objection_dismissed")
        ao_res, reg_id = res.id, reg.id
    with story.step("demo.step.clock_notice") as s:
        trainer = account(s, "trainer") if _has(s, "trainer") else accounts_with_role(s, Role.trainer)[0]
        story.say("demo.clock_report", report=advance_clock(s, trainer, 15))
    with story.step("demo.step.who_authorizes") as s:
        from marketplace.models import Designation, ImplementationPlan

        d = s.exec(select(Designation).order_by(Designation.id)).first()
        gov, inst = s.get(Organization, d.government_id), s.get(Organization, d.institution_id)
        plan = s.exec(select(ImplementationPlan).order_by(ImplementationPlan.id)).first()
        story.say("demo.designated", government=gov.name, institution=inst.name, region=d.region)
        story.say(
            "demo.plan_approved", plan=plan.code, resources=len(plan.resources),
            scenarios=[_seeded_both("plan", "scenarios", x) for x in plan.scenarios],
            date=f"{plan.decided_at:%Y-%m-%d}",
        )
        outsider = next(
            a for a in accounts_with_role(s, Role.steward)
            if a.organization_id != inst.id and a.organization.kind is OrganizationKind.department
        )
        is_operator = Organization.kind == OrganizationKind.operator
        outsider_id = outsider.id
        op_org_id = s.exec(select(Organization.id).where(is_operator).order_by(Organization.id)).first()
    try:
        with db.session_scope(engine) as s:
            propose_authorization(
                s, s.get(Account, outsider_id), operator=s.get(Organization, op_org_id),
                resources=[s.get(Resource, ao_res)], term_years=2,
            )
    except MarketplaceError as exc:
        story.say("demo.outsider_refused", error=exc)
    plan_id = _plan_approval(story, ao_res)
    _selection(story, ao_res, plan_id)
    with story.step("demo.step.authorize") as s:
        from marketplace.models import Registration

        reg = s.get(Registration, reg_id)
        registrar = accounts_with_role(s, Role.registrar)[0]
        register(s, registrar, reg)
        story.say("demo.registered", registration=reg.code, valid_until=reg.valid_until)
        operator_org = s.exec(
            select(Organization)
            .where(Organization.kind == OrganizationKind.operator)
            .order_by(Organization.id)
        ).first()
        agency = accounts_with_role(s, Role.registrar)[0]
        auth = propose_authorization(
            s,
            agency,
            operator=operator_org,
            resources=[s.get(Resource, ao_res)],
            model="by_scenario",
            sector="public services",
            term_years=3,
        )
        op = accounts_with_role(s, Role.operator, org_id=operator_org.id)[0]
        agree_authorization(s, op, auth)
        activate_authorization(s, agency, auth)
        story.say(
            "demo.authorization", authorization=auth.code, agency=agency.organization.name,
            operator=operator_org.name, status=auth.status, start=auth.term_start, end=auth.term_end,
            selection=s.get(SelectionRound, auth.selection_id).code,
        )
        policy = current_policy(s)
        for o in auth.obligations:
            story.say(
                "demo.obligation", kind=_word("demo.obligation_kind", o["kind"]),
                detail=(f"demo.obligation.{o['kind']}", {
                    "measures": o["detail"], "days": policy.authorization.exit_duty_working_days,
                    "deadline": policy.disclosure.deadline,
                }),
                enforced_by=(f"demo.obligation.{o['kind']}.enforced_by", {}),
            )
        auth_id, op_id = auth.id, op.id
    with story.step("demo.step.price_formation") as s:
        op = s.get(Account, op_id)
        year = clock.today(s).year
        filing = s.exec(
            select(CostFiling).where(CostFiling.operator_id == op.organization_id, CostFiling.year == year)
        ).first()
        pos = mar_positions(s, year, current_policy(s), op.organization_id)[0].position
        story.say(
            "demo.cost_filing", filing=filing.code, year=year, operating_cost=filing.operating_cost,
            costs=[("demo.cost_item", {"category": _word("demo.cost", k), "amount": v})
                   for k, v in filing.costs.items()],
            taxes=filing.taxes,
        )
        story.say(
            "demo.mar_set", year=year, operating_cost=pos.operating_cost, profit_rate=pos.profit_rate,
            taxes=pos.taxes, base_mar=pos.base_mar, deduction=pos.deduction, mar=pos.mar,
        )
        nxt = file_costs(
            s,
            op,
            year=year + 1,
            costs={
                "platform": "1150000", "data_processing": "1300000", "staff": "900000", "security": "150000"
            },
            taxes="230000",
            basis="budget for the next period",
        )
        story.say("demo.costs_filed", year=year + 1, filing=nxt.code, operating_cost=nxt.operating_cost)
        next_filing_id = nxt.id
    with story.step("demo.step.product_cap") as s:
        from marketplace.models import Authorization

        auth = s.get(Authorization, auth_id)
        op = s.get(Account, op_id)
        prod = create_product(
            s,
            op,
            auth,
            name="De-identified records extract",
            kind="dataset",
            billing_unit="per_record",
            resources=list(auth.resources),
            unit_cost="0.01",
        )
        story.say("demo.product_ceiling", product=prod.code, ceiling=prod.price_cap)
        prod_id = prod.id
    try:
        with db.session_scope(engine) as s:
            file_cap(s, agency_account(s, auth_id), s.get(Product, prod_id), cap="1.00",
                     forecast_volume=4_000_000, basis="cost study")
    except MarketplaceError as exc:
        story.say("demo.cap_refused", error=exc)
    with db.session_scope(engine) as s:
        prod = s.get(Product, prod_id)
        year = clock.today(s).year
        mar, committed = cap_room(s, prod.operator_id, year, prod.id)
        volume = 4_000_000
        cap = min(prod.price_cap, cap_within_mar(mar - committed, volume))
        story.say("demo.cap_room", committed=committed, mar=mar, volume=f"{volume:,}",
                  highest=cap_within_mar(mar - committed, volume))
        filing = file_cap(s, agency_account(s, auth_id), prod, cap=cap, forecast_volume=volume,
                          basis="cost study: 4 million records a year")
        story.say(
            "demo.cap_filed", filing=filing.code, cap=filing.cap, volume=f"{filing.forecast_volume:,}",
            revenue=filing.forecast_revenue,
            kind=("demo.cap.provisional" if filing.provisional else "demo.cap.final", {}),
        )
        op = s.get(Account, op_id)
        preg = submit_registration(s, op, prod)
        registrar = accounts_with_role(s, Role.registrar)[0]
        for f in (accept_registration, start_registration_review, publish_notice):
            f(s, registrar, preg)
        prod_id, preg_id = prod.id, preg.id
    with story.step("demo.step.product_listing") as s:
        advance_clock(s, accounts_with_role(s, Role.trainer)[0], 15)
        from marketplace.models import Registration

        register(s, accounts_with_role(s, Role.registrar)[0], s.get(Registration, preg_id))
        prod, op = s.get(Product, prod_id), s.get(Account, op_id)
        register_product(s, op, prod)
        cap = prod.price_cap
    try:
        with db.session_scope(engine) as s:
            price_product(s, s.get(Account, op_id), s.get(Product, prod_id), (cap or 0) + 1)
    except MarketplaceError as exc:
        story.say("demo.price_refused", error=exc)
    with db.session_scope(engine) as s:
        prod = s.get(Product, prod_id)
        price = (cap * 8 / 10).quantize(cap) if cap else "0.05"
        price_product(s, s.get(Account, op_id), prod, price)
        list_product(s, s.get(Account, op_id), prod)
        story.say("demo.priced", price=prod.actual_price, cap=prod.price_cap, status=prod.status)

    with story.step("demo.step.purchase") as s:
        ent = _requester(s, OrganizationKind.enterprise)
        prod = s.get(Product, prod_id)
        req = create_request(
            s,
            ent,
            product=prod,
            purpose="industry_development",
            volume=2000,
            use_statement="Market sizing for a new service",
        )
        submit_request(s, ent, req)
        q = current_quote(s, req)
        for reason in _reasons(s, req, q.lines):
            story.say("demo.quote_line", reason=reason)
        story.say("demo.quote_total", total=q.total, currency=q.currency)
        pay = accept_quote(s, ent, req)
        story.say(
            "demo.paid", amount=pay.amount, operator=pay.operator_revenue, holder=pay.holder_share,
            taxes=pay.taxes,
        )
        paid_id = req.id
    _review_all(story, paid_id)
    with story.step("demo.step.product_delivery") as s:
        req = s.get(AccessRequest, paid_id)
        _show_delivery(story, deliver(s, s.get(Account, op_id), req, rows=2000, seed=seed))

    with story.step("demo.step.free_use_refused") as s:
        ent = _requester(s, OrganizationKind.enterprise)
        req = create_request(s, ent, product=s.get(Product, prod_id), purpose="public_welfare", volume=500,
                             use_statement="")
        claim_id, ent_id = req.id, ent.id
    try:
        with db.session_scope(engine) as s:
            submit_request(s, s.get(Account, ent_id), s.get(AccessRequest, claim_id))
    except MarketplaceError as exc:
        story.say("demo.refused_unchanged", error=exc)
    with db.session_scope(engine) as s:
        req = s.get(AccessRequest, claim_id)
        submit_request(s, s.get(Account, ent_id), req, pay_if_refused=True)
        total = current_quote(s, req).total
        story.say("demo.pays_instead", purpose=req.purpose, total=total)

    with story.step("demo.step.free_use") as s:
        npo = _requester(s, OrganizationKind.nonprofit)
        req = create_request(
            s,
            npo,
            product=s.get(Product, prod_id),
            purpose="public_welfare",
            volume=500,
            use_statement="Mapping bus access for elderly residents in a public-health outreach programme",
        )
        submit_request(s, npo, req)
        q = current_quote(s, req)
        story.say("demo.quote_free", reason=_reasons(s, req, q.lines)[0], total=q.total, currency=q.currency)
        story.say("demo.conditions", conditions=_conditions(req.conditions))
        free_id = req.id
    _review_all(story, free_id)
    with story.step("demo.step.misuse") as s:
        req = s.get(AccessRequest, free_id)
        regulator = accounts_with_role(s, Role.regulator)[0]
        pay = find_misuse(s, regulator, req, "extract resold to a marketing firm")
        story.say("demo.misuse_charged", grant=req.grant.code, status=req.grant.status, amount=pay.amount)

    with story.step("demo.step.period_close") as s:
        trainer = accounts_with_role(s, Role.trainer)[0]
        days = (date(year + 1, 1, 5) - clock.today(s)).days
        story.say("demo.clock_report", report=_first_lines(advance_clock(s, trainer, days), 3))
        regulator = accounts_with_role(s, Role.regulator)[0]
        op_org = s.get(Account, op_id).organization
        closed = close_period(s, regulator, op_org, year)
        pos = mar_positions(s, year, current_policy(s), op_org.id)[0].position
        story.say(
            "demo.period_closed", year=year, revenue=pos.revenue, mar=pos.mar, share=pos.share_of_mar,
            outcome=("demo.within_mar", {}) if pos.compliant else ("demo.over_mar", {"excess": pos.excess}),
        )
        nxt = determine_mar(s, regulator, s.get(CostFiling, next_filing_id))
        story.say(
            "demo.next_mar" if closed.excess else "demo.next_mar_no_clawback", next_year=year + 1,
            base_mar=nxt.base_mar, deduction=nxt.deduction, year=year, mar=nxt.mar,
        )

    # ---------------------------------------------------------------- a sanction, through linked lifecycles
    with story.step("demo.step.sanction") as s:
        from marketplace.models import Authorization, ExitDuty

        auth = s.get(Authorization, auth_id)
        terminate_authorization(s, accounts_with_role(s, Role.regulator)[0], auth,
                                story.word("demo.input.sanction_reason", {}))
        duty = s.exec(select(ExitDuty).where(ExitDuty.authorization_id == auth_id)).one()
        story.say("demo.terminated", authorization=auth.code, status=auth.status, due=duty.due)
        buy = s.get(AccessRequest, paid_id)
        story.say("demo.grant_status", grant=buy.grant.code, request=buy.code, status=buy.grant.status)
    try:
        with db.session_scope(engine) as s:
            buy = s.get(AccessRequest, paid_id)
            deliver(s, accounts_with_role(s, Role.operator, org_id=buy.product.operator_id)[0], buy, rows=50)
    except MarketplaceError as exc:
        story.say("demo.more_rows_refused", error=exc)

    # ---------------------------------------------------------------- deadlines and refusals
    with story.step("demo.step.deadline") as s:
        res = s.get(AccessRequest, share_id).resource
        dept = _requester(s, OrganizationKind.department, exclude_org=res.holder_id)
        req = create_request(s, dept, resource=res, channel="sharing", purpose="public_welfare")
        submit_request(s, dept, req)
        late_id = req.id
    try:
        with db.session_scope(engine) as s:
            req = s.get(AccessRequest, late_id)
            decide(s, req.requester, open_review(req), "approve")
    except MarketplaceError as exc:
        story.say("demo.refused_recorded", error=exc)
    with db.session_scope(engine) as s:
        story.say("demo.clock_report", report=advance_clock(s, accounts_with_role(s, Role.trainer)[0], 30))

    _renewal(story)

    with story.step("demo.step.audit") as s:
        for e in audit_events(s, last=4):
            kind, _, action = e.action.partition(".")
            story.say(
                "demo.audit_event", seq=e.seq,
                action=("demo.audit_action", {"kind": _word("demo.audit_kind", kind), "action": action}),
                outcome=e.outcome, hash=e.hash[:12],
            )
        result = verify_chain(s)
        if result.ok and not result.legacy and result.anchored is None:
            story.say("demo.audit_intact", checked=result.checked)
        else:
            story.say("demo.audit_result", result=str(result))
    return result.ok


def _reasons(s: Session, req: AccessRequest, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The quote's lines as the wording layer reads them: the stored English reason (which also cites the
    cap filing) with the key and params of the same line from the policy, so other languages word it."""
    live = quote(current_policy(s), facts.product_target(req.product), facts.request_facts(req),
                 facts.requester_facts(req.requester_org)).lines
    keyed = {ln.component: ln for ln in live}
    out = []
    for line in stored:
        live_line = keyed.get(line["component"])
        key, params = (live_line.key, live_line.params) if live_line is not None else ("", {})
        out.append({"reason": line["reason"], "key": key, "params": params})
    return out


def _first_lines(report: Any, n: int) -> Any:
    """The clock report cut to its first `n` lines (the move and the first effects), as the story shows."""
    from dataclasses import replace

    breached = report.breached[: max(0, n - 1)]
    expired = report.expired[: max(0, n - 1 - len(breached))]
    return replace(report, breached=breached, expired=expired, warnings=[])


def _plan_approval(story: _Story, res_id: int) -> int:
    """The implementing institution drafts a plan for one resource; its government approves it."""
    with story.step("demo.step.plan") as s:
        from marketplace.models import Designation

        agency = accounts_with_role(s, Role.registrar)[0]
        res = s.get(Resource, res_id)
        plan = draft_plan(
            s, agency, resources=[res], scope=f"Authorized operation of {res.title}",
            scenarios=["service planning"],
            # typed in the reader's language, as a person would
            security_measures=[story.word("demo.input.controlled_environment", {}),
                               story.word("demo.input.audit_every_access", {})],
            expected_products=["de-identified records extract"],
        )
        gov_id = s.exec(select(Designation.government_id).where(
            Designation.institution_id == agency.organization_id)).first()
        official = accounts_with_role(s, Role.authorizer, org_id=gov_id)[0]
        approve_plan(s, official, plan, "fits the city's plan")
        story.say("demo.plan_drafted", institution=agency.organization.name, plan=plan.code,
                  resource=res.code, security=", ".join(plan.security_measures),
                  government=official.organization.name, status=plan.status)
        return plan.id


def _selection(story: _Story, res_id: int, plan_id: int) -> None:
    """A competitive round under the plan: two operators apply, one is disqualified by the policy's rule,
    the other is scored and wins; a direct award without allowed grounds is refused."""
    from marketplace.models import ImplementationPlan

    with story.step("demo.step.selection") as s:
        agency = accounts_with_role(s, Role.registrar)[0]
        rnd = open_selection(s, agency, resources=[s.get(Resource, res_id)], title="Records extract lot",
                             plan=s.get(ImplementationPlan, plan_id))
        weights = [("demo.weight", {"criterion": _word("selection.criterion", k), "weight": v})
                   for k, v in rnd.weights.items()]
        story.say("demo.round_opened", round=rnd.code, institution=agency.organization.name, weights=weights)
        ops = s.exec(select(Organization).where(Organization.kind == OrganizationKind.operator)
                     .order_by(Organization.id)).all()
        winner, other = ops[0], ops[1]
        apps = {}
        for org, level, capital in ((other, 2, "20000000"), (winner, 3, "80000000")):
            app = apply_for_selection(s, accounts_with_role(s, Role.operator, org_id=org.id)[0], rnd,
                                      security_level=level, registered_capital=capital)
            apps[org.id] = app.id
            story.say(
                "demo.applies", organization=org.name, level=level, capital=capital,
                outcome=("demo.qualified", {}) if app.qualified else (
                    "demo.disqualified",
                    {"rule": app.refusal_rule, "reason": _why_not_qualified(s, org, app)},
                ),
            )
        round_id = rnd.id
    try:
        with db.session_scope(story.engine) as s:
            score_application(s, accounts_with_role(s, Role.registrar)[0],
                              s.get(SelectionApplication, apps[other.id]), dict.fromkeys(rnd.weights, 90))
    except MarketplaceError as exc:
        story.say("demo.scoring_refused", error=exc)
    with db.session_scope(story.engine) as s:
        agency = accounts_with_role(s, Role.registrar)[0]
        marks = {"technical": 82, "security": 88, "service_plan": 75, "fee_proposal": 70}
        app = score_application(s, agency, s.get(SelectionApplication, apps[winner.id]), marks)
        story.say("demo.scores", organization=winner.name, total=app.total,
                  marks=[("demo.mark", {"criterion": _word("selection.criterion", k), "mark": v})
                         for k, v in marks.items()])
        rnd = decide_selection(s, agency, s.get(SelectionRound, round_id), "highest weighted score")
        ranking = rnd.decision["ranking"]
        story.say("demo.winner", organization=winner.name, until=rnd.notice_until, reason=(
            "demo.winner_reason", {"score": ranking[0]["total"], "count": len(ranking)}))
    try:
        with db.session_scope(story.engine) as s:
            award_directly(s, accounts_with_role(s, Role.registrar)[0],
                           operator=s.get(Organization, other.id), resources=[s.get(Resource, res_id)],
                           grounds="other",
                           justification="A trusted partner that already knows the data well",
                           security_level=3, registered_capital="80000000")
    except MarketplaceError as exc:
        story.say("demo.direct_award_refused", error=exc)


def _renewal(story: _Story) -> None:
    """The registration closest to expiry is renewed in its last 90 days (its own review)."""
    with story.step("demo.step.renewal") as s:
        regs = [
            r for r in s.exec(select(Registration).where(Registration.resource_id.is_not(None))
                              .order_by(Registration.valid_until, Registration.id)).all()
            if r.valid_until is not None and current_registration(s, r.resource) is r
        ]
        reg = regs[0]
        days = (reg.valid_until - clock.today(s)).days - 60
        trainer = accounts_with_role(s, Role.trainer)[0]
        if days > 0:
            advance_clock(s, trainer, days)
        steward = _steward(s, reg.resource.holder_id)
        new = renew_registration(s, steward, reg.resource, "still held and maintained")
        registrar = accounts_with_role(s, Role.registrar)[0]
        for f in (accept_registration, start_registration_review, publish_notice):
            f(s, registrar, new)
        story.say("demo.renewal_filed", registration=reg.code, resource=reg.resource.code,
                  valid_until=reg.valid_until, today=clock.today(s), holder=reg.resource.holder.name,
                  until=new.notice_until)
        advance_clock(s, trainer, (new.notice_until - clock.today(s)).days + 1)
        register(s, registrar, new)
        story.say("demo.renewed", registration=new.code, valid_until=new.valid_until, old=reg.code,
                  status=reg.status)


def agency_account(s: Session, auth_id: int) -> Account:
    """The implementing agency's registrar (the authorizing body of the authorization)."""
    auth = s.get(Authorization, auth_id)
    return accounts_with_role(s, Role.registrar, org_id=auth.agency_id)[0]


def _has(s: Session, username: str) -> bool:
    try:
        account(s, username)
        return True
    except MarketplaceError:
        return False
