"""The headless demo (`marketplace demo`, `make demo`): one story through the three supply channels.

It seeds the synthetic world into the database it is given (the CLI gives it a fresh demo.db of its own),
then runs every step through the public workflow functions, one transaction per step, exactly as the
notebooks and widgets do.
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
from marketplace.policy import cap_within_mar
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

__all__ = ["run_demo"]

Echo = Callable[[str], Any]


class _Story:
    def __init__(self, engine: Engine, echo: Echo) -> None:
        self.engine, self.echo, self.n = engine, echo, 0

    def step(self, title: str) -> Session:
        self.n += 1
        self.echo(f"\n[{self.n}] {title}")
        return db.session_scope(self.engine)  # type: ignore[return-value]

    def say(self, text: str) -> None:
        self.echo(f"    {text}")


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
    story.say(f"delivery #{dl.id}: {dl.kind.value}, {dl.row_count} rows, columns {', '.join(dl.columns)}")
    story.say(f"checksum sha256 {dl.checksum[:16]}…")
    rep = d.report
    if rep and "k_achieved" in rep:
        story.say(
            f"privacy report: k={rep['k_achieved']} (target {rep['k_target']}), ℓ={rep['l_achieved']} "
            f"(target {rep['l_target']}), prosecutor risk ≤ {rep['prosecutor_risk_max']:.3f}, "
            f"NCP {rep['ncp']:.1%}, {rep['rows_suppressed']} rows suppressed"
        )
    elif rep:
        story.say(
            f"aggregate report: {rep.get('cells_released')} cells released, "
            f"{rep.get('cells_suppressed')} suppressed below min_cell={rep.get('min_cell')}"
        )


def _rows_allowed(policy: Any, r: Resource, channel: str) -> bool:
    return rows_refusal(policy, r.grade, channel, domain=r.domain, source=r.source) is None


def _usable_not_visible(story: _Story, seed: int) -> None:
    """Important data on sharing: rows refused where the policy says compute; a computation runs instead."""
    with story.step("Sharing of important data: usable but not visible") as s:
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
        story.say(f"{dept.username} filed {req.code} for {res.code} ({res.title}), {res.grade.value} data")
        req_id, holder = req.id, res.holder_id
    _review_all(story, req_id)
    try:
        with db.session_scope(story.engine) as s:
            deliver(s, _steward(s, holder), s.get(AccessRequest, req_id), rows=200, seed=seed)
    except MarketplaceError as exc:
        story.say(f"delivery of rows refused and recorded: {exc}")
    with db.session_scope(story.engine) as s:
        req = s.get(AccessRequest, req_id)
        terms = req.grant.terms["compute"]
        dim = terms["dimensions"][0]
        result = run_computation(
            s, req.requester, req, "aggregate_query",
            {"sql": f"SELECT {dim}, COUNT(*) AS n FROM data GROUP BY {dim}"},
        )
        story.say(
            f"computation in the holder's domain: {len(result.value)} cells by {dim}, "
            f"{result.run.cells_suppressed} suppressed below min_cell={terms['min_cell']}; "
            f"fingerprint {result.run.fingerprint[:12]}… audited, the result never logged"
        )


def _review_all(story: _Story, req_id: int, conditions: dict[str, list[str]] | None = None) -> None:
    conditions = conditions or {}
    while True:
        with db.session_scope(story.engine) as s:
            req = s.get(AccessRequest, req_id)
            review = open_review(req) if req.status.value == "in_review" else None
            if review is None:
                story.say(f"request {req.code}: {req.status.value}")
                return
            who = _reviewer(s, req)
            conds = conditions.get(review.stage.value, [])
            decision = "approve_with_conditions" if conds else "approve"
            decide(s, who, review, decision, conditions=conds)
            extra = f" with {', '.join(conds)}" if conds else ""
            story.say(
                f"{review.stage.value} stage (due {review.due_on}): {who.username} -> {decision}{extra}"
            )


def run_demo(*, seed: int = 7, echo: Echo = print, engine: Engine | None = None) -> bool:
    """Reset and seed the sandbox, run the story, print each step; True when the audit chain verifies."""
    from marketplace.synth import seed_sandbox

    engine = engine or db.get_engine()
    echo(f"database: {db.redact(str(engine.url))}")
    counts = seed_sandbox(engine, seed, "small")
    echo(
        f"fresh sandbox seeded from seed {seed}: {counts.get('organization', '?')} organizations, "
        f"{counts.get('resource', '?')} resources, {counts.get('account', '?')} accounts"
    )
    story = _Story(engine, echo)

    with story.step("Sandbox clock") as s:
        story.say(f"today is {clock.today(s)} (policy in force: {current_policy(s).name})")

    # ---------------------------------------------------------------- sharing
    with story.step("Sharing: a department asks another department's conditional resource") as s:
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
        story.say(f"{dept.username} filed {req.code} for {res.code} ({res.title}); free between departments")
        for r in req.reviews:
            story.say(f"stage {r.stage.value}: reviewed by {r.reviewer_role.value}, due {r.due_on}")
        story.say("policy conditions: " + ", ".join(c.text for c in req.conditions))
        share_id, share_fields = req.id, [f.name for f in res.fields if f.marking.value != "identifier"][:5]
    _review_all(story, share_id, {"holder": [f"fields(only=[{', '.join(share_fields)}])"]})
    with story.step("Sharing: the holder's steward delivers under the grant") as s:
        req = s.get(AccessRequest, share_id)
        g = req.grant
        story.say(
            f"grant {g.code}: valid until {g.valid_until}, prohibition "
            f"{[p['action'] for p in g.terms['prohibition']]}, "
            f"duties {[d['action'] for d in g.terms['duty']]}"
            f", usage report due {g.usage_report_due}"
        )
        d = deliver(s, _steward(s, req.resource.holder_id), req, rows=200, seed=seed)
        _show_delivery(story, d)
    _usable_not_visible(story, seed)

    # ---------------------------------------------------------------- opening
    with story.step("Opening, unconditional: granted and delivered at once") as s:
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
            f"{ent.username} ({ent.organization.name}) asked {res.code}: {req.status.value} at once, "
            f"grant {req.grant.code}, {req.grant.deliveries[0].row_count} rows"
        )
    with story.step("Opening, conditional: a research application reviewed by the holder") as s:
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
        story.say(
            f"{rsr.username} filed {req.code} for {res.code} ({res.title}), personal information inside"
        )
        story.say("policy conditions: " + ", ".join(c.text for c in req.conditions))
        open_id, holder = req.id, res.holder_id
    _review_all(story, open_id, {"holder": ["deidentify(k>=10, l>=2)", "report_usage(days=90)"]})
    with story.step("Opening, conditional: delivery through de-identification") as s:
        req = s.get(AccessRequest, open_id)
        story.say("conditions enforced: " + ", ".join(c.text for c in req.conditions))
        _show_delivery(story, deliver(s, _steward(s, holder), req, rows=1000, seed=seed))
    with story.step("Opening, conditional: the grantee's usage report") as s:
        req = s.get(AccessRequest, open_id)
        report = report_usage(
            s, req.requester, req, "Regional patterns study: aggregate tables published, no onward transfer"
        )
        story.say(
            f"{req.requester.username} reported the use due {report.period_due}; "
            f"next report due {req.grant.usage_report_due} (no delivery while one is overdue)"
        )

    # ---------------------------------------------------------------- authorized operation
    with story.step("Registration of a resource for authorized operation") as s:
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
        story.say(
            f"{res.code} ({res.title}): submitted, accepted, reviewed; public notice until {reg.notice_until}"
        )
        ent = _requester(s, OrganizationKind.enterprise)
        objection = file_objection(s, ent, reg, "The update frequency in the record looks wrong")
        story.say(
            f"objection by {ent.organization.name} during the notice, to be decided by {objection.due}"
        )
        decide_objection(s, registrar, objection, "dismiss", "frequency confirmed with the holder")
        story.say("objection dismissed by the registrar: the registration continues")
        ao_res, reg_id = res.id, reg.id
    with story.step("The trainer advances the clock past the notice period") as s:
        for line in advance_clock(
            s, account(s, "trainer") if _has(s, "trainer") else accounts_with_role(s, Role.trainer)[0], 15
        ).lines():
            story.say(line)
    with story.step("Who may authorize: the designated implementing institution, in its jurisdiction") as s:
        from marketplace.models import Designation, ImplementationPlan

        d = s.exec(select(Designation).order_by(Designation.id)).first()
        gov, inst = s.get(Organization, d.government_id), s.get(Organization, d.institution_id)
        plan = s.exec(select(ImplementationPlan).order_by(ImplementationPlan.id)).first()
        story.say(f"{gov.name} designated {inst.name} as implementing institution for {d.region}")
        story.say(
            f"implementation plan {plan.code} ({len(plan.resources)} resources; scenarios: "
            f"{', '.join(plan.scenarios)}) approved by the government on {plan.decided_at:%Y-%m-%d}"
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
        story.say(f"a steward of another department proposes: refused and recorded: {exc}")
    plan_id = _plan_approval(story, ao_res)
    _selection(story, ao_res, plan_id)
    with story.step("The registrar registers it; the agency authorizes an operator") as s:
        from marketplace.models import Registration

        reg = s.get(Registration, reg_id)
        registrar = accounts_with_role(s, Role.registrar)[0]
        register(s, registrar, reg)
        story.say(f"registered: {reg.code}, valid until {reg.valid_until}")
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
            f"authorization {auth.code}: {agency.organization.name} -> {operator_org.name}, "
            f"{auth.status.value} {auth.term_start} .. {auth.term_end}, resting on selection "
            f"{s.get(SelectionRound, auth.selection_id).code}"
        )
        for o in auth.obligations:
            story.say(f"obligation {o['kind']}: {o['detail']} ({o['enforced_by']})")
        auth_id, op_id = auth.id, op.id
    with story.step("Price formation: the operator's costs filed, MAR set in advance by the regulator") as s:
        op = s.get(Account, op_id)
        year = clock.today(s).year
        filing = s.exec(
            select(CostFiling).where(CostFiling.operator_id == op.organization_id, CostFiling.year == year)
        ).first()
        pos = mar_positions(s, year, current_policy(s), op.organization_id)[0].position
        story.say(
            f"cost filing {filing.code} for {year}: operating cost {filing.operating_cost} "
            f"({', '.join(f'{k} {v}' for k, v in filing.costs.items())}), taxes {filing.taxes}"
        )
        story.say(
            f"MAR {year} set by the regulator: {pos.operating_cost} + profit at {pos.profit_rate} "
            f"+ taxes {pos.taxes} = {pos.base_mar}, less {pos.deduction} carried = {pos.mar}"
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
        story.say(f"costs for {year + 1} filed as {nxt.code}: operating cost {nxt.operating_cost}")
        next_filing_id = nxt.id
    with story.step("The operator makes a product; the authorizing body files its cap within MAR") as s:
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
        story.say(f"product {prod.code}: ceiling {prod.price_cap} per record until a cap is filed")
        prod_id = prod.id
    try:
        with db.session_scope(engine) as s:
            file_cap(s, agency_account(s, auth_id), s.get(Product, prod_id), cap="1.00",
                     forecast_volume=4_000_000, basis="cost study")
    except MarketplaceError as exc:
        story.say(f"a cap whose forecast revenue exceeds MAR is refused: {exc}")
    with db.session_scope(engine) as s:
        prod = s.get(Product, prod_id)
        year = clock.today(s).year
        mar, committed = cap_room(s, prod.operator_id, year, prod.id)
        volume = 4_000_000
        cap = min(prod.price_cap, cap_within_mar(mar - committed, volume))
        story.say(
            f"the operator's other caps in force bring {committed} of its MAR {mar}; "
            f"the highest cap within MAR at {volume:,} records is {cap_within_mar(mar - committed, volume)}"
        )
        filing = file_cap(s, agency_account(s, auth_id), prod, cap=cap, forecast_volume=volume,
                          basis="cost study: 4 million records a year")
        story.say(
            f"cap filing {filing.code}: {filing.cap} per record x {filing.forecast_volume:,} forecast = "
            f"{filing.forecast_revenue} within MAR ({'provisional' if filing.provisional else 'final'})"
        )
        op = s.get(Account, op_id)
        preg = submit_registration(s, op, prod)
        registrar = accounts_with_role(s, Role.registrar)[0]
        for f in (accept_registration, start_registration_review, publish_notice):
            f(s, registrar, preg)
        prod_id, preg_id = prod.id, preg.id
    with story.step("Notice period for the product, then registration and listing") as s:
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
        story.say(f"pricing above the cap is refused: {exc}")
    with db.session_scope(engine) as s:
        prod = s.get(Product, prod_id)
        price = (cap * 8 / 10).quantize(cap) if cap else "0.05"
        price_product(s, s.get(Account, op_id), prod, price)
        list_product(s, s.get(Account, op_id), prod)
        story.say(f"priced at {prod.actual_price} per record (cap {prod.price_cap}) and {prod.status.value}")

    with story.step("An enterprise buys 2,000 records: quote citing the cap filing, payment, review") as s:
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
        for line in q.lines:
            story.say(f"quote | {line['reason']}")
        story.say(f"quote total: {q.total} {q.currency}")
        pay = accept_quote(s, ent, req)
        story.say(
            f"paid {pay.amount}: operator {pay.operator_revenue}, data holder {pay.holder_share}, "
            f"taxes {pay.taxes}"
        )
        paid_id = req.id
    _review_all(story, paid_id)
    with story.step("The operator delivers the product under the grant") as s:
        req = s.get(AccessRequest, paid_id)
        _show_delivery(story, deliver(s, s.get(Account, op_id), req, rows=2000, seed=seed))

    with story.step("Conditional free use: an enterprise's bare public-welfare claim is refused") as s:
        ent = _requester(s, OrganizationKind.enterprise)
        req = create_request(s, ent, product=s.get(Product, prod_id), purpose="public_welfare", volume=500,
                             use_statement="")
        claim_id, ent_id = req.id, ent.id
    try:
        with db.session_scope(engine) as s:
            submit_request(s, s.get(Account, ent_id), s.get(AccessRequest, claim_id))
    except MarketplaceError as exc:
        story.say(f"refused, nothing changed: {exc}")
    with db.session_scope(engine) as s:
        req = s.get(AccessRequest, claim_id)
        submit_request(s, s.get(Account, ent_id), req, pay_if_refused=True)
        total = current_quote(s, req).total
        story.say(f"the enterprise asks to pay instead: quoted as {req.purpose.value}, {total}")

    with story.step("A nonprofit claims public welfare with a use statement: free, under conditions") as s:
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
        story.say(f"quote | {q.lines[0]['reason']}  -> total {q.total} {q.currency}")
        story.say("conditions: " + ", ".join(c.text for c in req.conditions))
        free_id = req.id
    _review_all(story, free_id)
    with story.step("The regulator finds the free grant misused: revoked, charged at the paid price") as s:
        req = s.get(AccessRequest, free_id)
        regulator = accounts_with_role(s, Role.regulator)[0]
        pay = find_misuse(s, regulator, req, "extract resold to a marketing firm")
        story.say(f"grant {req.grant.code}: {req.grant.status.value}; charged {pay.amount} retroactively")

    with story.step("Period close: revenue against MAR; any excess is deducted from the next MAR") as s:
        trainer = accounts_with_role(s, Role.trainer)[0]
        days = (date(year + 1, 1, 5) - clock.today(s)).days
        for line in advance_clock(s, trainer, days).lines()[:3]:
            story.say(line)
        regulator = accounts_with_role(s, Role.regulator)[0]
        op_org = s.get(Account, op_id).organization
        closed = close_period(s, regulator, op_org, year)
        pos = mar_positions(s, year, current_policy(s), op_org.id)[0].position
        story.say(
            f"{year} closed: revenue {pos.revenue} vs MAR {pos.mar} ({pos.share_of_mar} %), "
            + ("within MAR" if pos.compliant else f"over by {pos.excess}")
        )
        nxt = determine_mar(s, regulator, s.get(CostFiling, next_filing_id))
        story.say(
            f"MAR {year + 1}: {nxt.base_mar} less {nxt.deduction} carried from {year} = {nxt.mar}"
            + ("" if closed.excess else " (no clawback: revenue stayed within MAR)")
        )

    # ---------------------------------------------------------------- a sanction, through linked lifecycles
    with story.step("A sanction ends the authorization: products off the shelf, grants suspended") as s:
        from marketplace.models import Authorization, ExitDuty

        auth = s.get(Authorization, auth_id)
        terminate_authorization(s, accounts_with_role(s, Role.regulator)[0], auth, "sanction for a data leak")
        duty = s.exec(select(ExitDuty).where(ExitDuty.authorization_id == auth_id)).one()
        story.say(
            f"authorization {auth.code} {auth.status.value}; operator must return or destroy the data by "
            f"{duty.due}"
        )
        buy = s.get(AccessRequest, paid_id)
        story.say(f"grant {buy.grant.code} of {buy.code}: {buy.grant.status.value}")
    try:
        with db.session_scope(engine) as s:
            buy = s.get(AccessRequest, paid_id)
            deliver(s, accounts_with_role(s, Role.operator, org_id=buy.product.operator_id)[0], buy, rows=50)
    except MarketplaceError as exc:
        story.say(f"delivery of 50 more rows refused: {exc}")

    # ---------------------------------------------------------------- deadlines and refusals
    with story.step("A request left waiting: the clock moves past its deadline") as s:
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
        story.say(f"refused and recorded: {exc}")
    with db.session_scope(engine) as s:
        for line in advance_clock(s, accounts_with_role(s, Role.trainer)[0], 30).lines():
            story.say(line)

    _renewal(story)

    with story.step("Audit log") as s:
        for e in audit_events(s, last=4):
            story.say(f"#{e.seq} {e.action} {e.outcome} {e.hash[:12]}…")
        result = verify_chain(s)
        story.say(str(result))
    return result.ok


def _plan_approval(story: _Story, res_id: int) -> int:
    """The implementing institution drafts a plan for one resource; its government approves it."""
    with story.step("Implementation plan: drafted by the institution, approved by its government") as s:
        from marketplace.models import Designation

        agency = accounts_with_role(s, Role.registrar)[0]
        res = s.get(Resource, res_id)
        plan = draft_plan(
            s, agency, resources=[res], scope=f"Authorized operation of {res.title}",
            scenarios=["service planning"], security_measures=["processing in the controlled environment",
                                                                "audit of every access"],
            expected_products=["de-identified records extract"],
        )
        gov_id = s.exec(select(Designation.government_id).where(
            Designation.institution_id == agency.organization_id)).first()
        official = accounts_with_role(s, Role.authorizer, org_id=gov_id)[0]
        approve_plan(s, official, plan, "fits the city's plan")
        story.say(f"{agency.organization.name} drafted {plan.code} ({res.code}; security: "
                  f"{', '.join(plan.security_measures)}); {official.organization.name}: {plan.status.value}")
        return plan.id


def _selection(story: _Story, res_id: int, plan_id: int) -> None:
    """A competitive round under the plan: two operators apply, one is disqualified by the policy's rule,
    the other is scored and wins; a direct award without allowed grounds is refused."""
    from marketplace.models import ImplementationPlan

    with story.step("Operator selection: a competitive round under the approved plan") as s:
        agency = accounts_with_role(s, Role.registrar)[0]
        rnd = open_selection(s, agency, resources=[s.get(Resource, res_id)], title="Records extract lot",
                             plan=s.get(ImplementationPlan, plan_id))
        weights = ", ".join(f"{k} {v}%" for k, v in rnd.weights.items())
        story.say(f"{rnd.code} opened by {agency.organization.name} under its plan; weights: {weights}")
        ops = s.exec(select(Organization).where(Organization.kind == OrganizationKind.operator)
                     .order_by(Organization.id)).all()
        winner, other = ops[0], ops[1]
        apps = {}
        for org, level, capital in ((other, 2, "20000000"), (winner, 3, "80000000")):
            app = apply_for_selection(s, accounts_with_role(s, Role.operator, org_id=org.id)[0], rnd,
                                      security_level=level, registered_capital=capital)
            apps[org.id] = app.id
            story.say(f"{org.name} applies (protection level {level}, capital {capital}): "
                      + ("qualified" if app.qualified else f"disqualified, {app.refusal_rule}: "
                         f"{app.refusal_reason}"))
        round_id = rnd.id
    try:
        with db.session_scope(story.engine) as s:
            score_application(s, accounts_with_role(s, Role.registrar)[0],
                              s.get(SelectionApplication, apps[other.id]), dict.fromkeys(rnd.weights, 90))
    except MarketplaceError as exc:
        story.say(f"scoring the disqualified applicant is refused: {exc}")
    with db.session_scope(story.engine) as s:
        agency = accounts_with_role(s, Role.registrar)[0]
        marks = {"technical": 82, "security": 88, "service_plan": 75, "fee_proposal": 70}
        app = score_application(s, agency, s.get(SelectionApplication, apps[winner.id]), marks)
        story.say(f"panel scores of {winner.name}: {', '.join(f'{k} {v}' for k, v in marks.items())} -> "
                  f"weighted total {app.total}")
        rnd = decide_selection(s, agency, s.get(SelectionRound, round_id), "highest weighted score")
        story.say(f"decision: winner {winner.name} ({rnd.decision['reason']}); on public notice until "
                  f"{rnd.notice_until}")
    try:
        with db.session_scope(story.engine) as s:
            award_directly(s, accounts_with_role(s, Role.registrar)[0],
                           operator=s.get(Organization, other.id), resources=[s.get(Resource, res_id)],
                           grounds="other",
                           justification="A trusted partner that already knows the data well",
                           security_level=3, registered_capital="80000000")
    except MarketplaceError as exc:
        story.say(f"a direct award on other grounds is refused: {exc}")


def _renewal(story: _Story) -> None:
    """The registration closest to expiry is renewed in its last 90 days (its own review)."""
    with story.step("Registration renewal: filed in the last days of validity, its own review") as s:
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
        story.say(f"{reg.code} of {reg.resource.code} valid until {reg.valid_until}; today {clock.today(s)}: "
                  f"{reg.resource.holder.name} files a renewal, on notice until {new.notice_until}")
        advance_clock(s, trainer, (new.notice_until - clock.today(s)).days + 1)
        register(s, registrar, new)
        story.say(f"renewal registered as {new.code}: valid until {new.valid_until} (carried on from the old "
                  f"expiry); {reg.code} is {reg.status.value}")


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
