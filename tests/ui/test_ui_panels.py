"""Panels driven headlessly: set widget values, click buttons, check the database and the displayed text."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from decimal import Decimal

import ipywidgets as w
import pytest
import sqlalchemy as sa
from sqlmodel import select

from marketplace.models import (
    AccessRequest,
    Account,
    AccountRole,
    AuditEvent,
    Condition,
    Payment,
    Product,
    Registration,
    Resource,
)
from marketplace.ui import (
    actas,
    catalog,
    disclosure,
    i18n,
    operator,
    registration,
    regulator,
    requests,
    review,
)
from marketplace.ui.context import Sandbox
from marketplace.vocabulary import Grade, ProductStatus, RegistrationStatus, RequestStatus, Role

CONDITIONAL_OPEN = "RES-000003"  # general, conditionally open: one holder-steward review stage


def _count(sandbox: Sandbox, model: type) -> int:
    with sandbox.session() as s:
        return s.exec(select(sa.func.count()).select_from(model)).one()


def _username_with(sandbox: Sandbox, role: Role, org_id: int | None = None) -> str:
    with sandbox.session() as s:
        q = select(Account.username).join(AccountRole).where(AccountRole.role == role).order_by(Account.id)
        if org_id is not None:
            q = q.where(Account.organization_id == org_id)
        return s.exec(q).first()


def _resource(sandbox: Sandbox, code: str) -> Resource:
    with sandbox.session() as s:
        r = s.exec(select(Resource).where(Resource.code == code)).one()
        s.expunge(r)
        return r


def _file_conditional_open(sandbox: Sandbox, who: actas.ActAs) -> requests.RequestPanel:
    who.choose(Role.requester, _username_with_kind(sandbox, "research"))
    panel = requests.request_panel(sandbox)
    panel.resource.value = _resource(sandbox, CONDITIONAL_OPEN).id
    panel.channel.value = "opening"
    panel.purpose.value = "research"
    panel.use_statement.value = "Study of service coverage"
    panel.submit_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    return panel


def _username_with_kind(sandbox: Sandbox, kind: str) -> str:
    from marketplace.models import Organization

    with sandbox.session() as s:
        return s.exec(
            select(Account.username)
            .join(Organization)
            .join(AccountRole)
            .where(Organization.kind == kind, AccountRole.role == Role.requester)
            .order_by(Account.id)
        ).first()


# ---------------------------------------------------------------- act as


def test_act_as_lists_accounts_by_role_and_sets_the_actor(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    assert sandbox.account_id is not None
    assert "Acting as" in who.status.value
    who.role.value = Role.registrar.value
    registrar = _username_with(sandbox, Role.registrar)
    with sandbox.session() as s:
        acc = s.exec(select(Account).where(Account.username == registrar)).one()
        assert sandbox.account_id == acc.id
        assert acc.display_name in who.status.value
    assert [v for _, v in who.account.options] == [acc.id]


def test_act_as_unknown_user_is_refused(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    with pytest.raises(LookupError, match="nobody-here"):
        who.choose(Role.requester, "nobody-here")


# ---------------------------------------------------------------- catalogue


def test_catalog_filters_and_detail(sandbox: Sandbox) -> None:
    browser = catalog.catalog_browser(sandbox)
    total = len(browser.rows)
    assert total > 10 and f"{total} of {total}" in browser.count.value
    important = browser.filter(grade=Grade.important.value)
    assert important and all(r["grade"] == "important" for r in important)
    assert len(important) < total
    opening = browser.filter(channel="opening")
    assert opening and all("opening" in r["channels"] for r in opening)
    assert not any(r["grade"] == "core" for r in opening)
    browser.filter()
    browser.listing.value = browser.shown[0]["id"]
    assert browser.shown[0]["code"] in browser.detail.value
    assert "Privacy marking" in browser.detail.value
    assert browser.sample.value.count("<tr>") >= catalog.SAMPLE_ROWS


# ---------------------------------------------------------------- requests and the live quote


def test_live_quote_follows_every_input(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    who.choose(Role.requester, _username_with_kind(sandbox, "enterprise"))
    panel = requests.request_panel(sandbox, kind="product")
    assert panel.product.value is not None
    panel.purpose.value = "industry_development"
    panel.volume.value = 10
    first = panel.last_quote
    assert first is not None and "10" in panel.quote_html.value
    panel.volume.value = 500
    assert panel.last_quote.total > first.total
    assert re.search(r"500 \w+ x", panel.quote_html.value), panel.quote_html.value
    panel.purpose.value = "public_welfare"
    assert panel.last_quote.total == 0
    assert "Free" in panel.quote_html.value
    # ... but only with the evidence the policy asks of an enterprise: the preview names the rule
    assert not panel.last_routing.allowed and "free_use.statement" in panel.preview.value
    panel.use_statement.value = "Bus access maps for the city's public-health outreach to elderly residents"
    assert "free_use.project" in panel.preview.value
    panel.project_reference.value = "PHP-2025-017"
    panel.sponsor.value = panel.sponsor.options[1][1]
    assert panel.last_routing.allowed, panel.preview.value


def test_submit_writes_the_request_and_shows_its_status(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    before = _count(sandbox, AccessRequest)
    panel = _file_conditional_open(sandbox, who)
    assert _count(sandbox, AccessRequest) == before + 1
    with sandbox.session() as s:
        req = s.exec(select(AccessRequest).order_by(AccessRequest.id.desc())).first()
        assert req.status is RequestStatus.in_review
        assert req.requester_id == sandbox.account_id
    assert req.code in panel.feedback.text
    assert req.code in panel.status.value and "in review" in panel.status.value
    assert "Waiting for the data holder review by the steward" in panel.status.value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_too_long_text_is_refused_in_the_users_words(sandbox: Sandbox, lang: str) -> None:
    """A text box has no limit of its own: the workflow's refusal names the box as the form does and says
    what fits in the user's language (it showed `use_statement` and English in a Chinese panel)."""
    from marketplace.workflows.requests import MAX_STATEMENT

    who = actas.act_as(sandbox)
    who.choose(Role.requester, _username_with_kind(sandbox, "research"))
    i18n.set_language(lang)
    panel = requests.request_panel(sandbox)
    panel.resource.value = _resource(sandbox, CONDITIONAL_OPEN).id
    panel.channel.value = "opening"
    panel.purpose.value = "research"
    before = _count(sandbox, AccessRequest)
    panel.use_statement.value = "x" * (MAX_STATEMENT + 1)
    panel.submit_button.click()
    assert panel.feedback.kind == "error"
    shown = panel.feedback.text
    assert "use_statement" not in shown and "xxxxxxxxxx" in shown
    assert i18n.t("field.use_statement") in shown, shown
    assert str(MAX_STATEMENT) in shown
    if lang == "zh":
        assert "a text of" not in shown and "字符" in shown, shown
    assert _count(sandbox, AccessRequest) == before


def test_refused_request_is_shown_and_writes_nothing(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    who.choose(Role.requester, _username_with_kind(sandbox, "enterprise"))
    panel = requests.request_panel(sandbox)
    with sandbox.session() as s:
        core = s.exec(select(Resource).where(Resource.grade == Grade.core)).first()
    assert core is not None
    panel.resource.value = core.id
    panel.channel.value = "sharing"
    assert "Refused by the policy" in panel.preview.value
    before = _count(sandbox, AccessRequest)
    panel.submit_button.click()
    assert panel.feedback.kind == "error" and "rule" in panel.feedback.text
    assert _count(sandbox, AccessRequest) == before
    with sandbox.session() as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert refused, "the refused attempt is recorded in the audit log"


def test_nobody_selected_is_a_message_not_a_crash(sandbox: Sandbox) -> None:
    panel = requests.request_panel(sandbox)
    sandbox.account_id = None
    panel.submit_button.click()
    assert panel.feedback.kind == "error" and "none selected" in panel.feedback.text


# ---------------------------------------------------------------- review


def test_steward_approves_with_a_condition(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    panel = _file_conditional_open(sandbox, who)
    code = panel.feedback.text.split()[1]
    holder = _resource(sandbox, CONDITIONAL_OPEN).holder_id
    who.choose(Role.steward, _username_with(sandbox, Role.steward, holder))
    queue = review.review_queue(sandbox)
    assert code in queue.table.value
    queue.select(code)
    queue.decision.value = "approve_with_conditions"
    queue.conditions.value = "deidentify(k>=5, l>=2)\nno_onward_transfer"
    queue.decide_button.click()
    assert queue.feedback.kind == "ok", queue.feedback.text
    with sandbox.session() as s:
        req = s.exec(select(AccessRequest).where(AccessRequest.code == code)).one()
        assert req.status in (
            RequestStatus.approved_with_conditions,
            RequestStatus.granted,
            RequestStatus.delivered,
        )
        texts = {
            c.text
            for c in s.exec(
                select(Condition).where(Condition.request_id == req.id, Condition.source == "reviewer")
            ).all()
        }
        status = i18n.label(req.status)
    assert texts == {"deidentify(k>=5, l>=2)", "no_onward_transfer"}
    assert status in queue.feedback.text
    assert code not in queue.table.value, "a decided stage leaves the queue"
    # the requester's panel follows the change
    assert status in panel.status.value


def test_bad_condition_is_shown_and_nothing_changes(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    panel = _file_conditional_open(sandbox, who)
    code = panel.feedback.text.split()[1]
    who.choose(
        Role.steward, _username_with(sandbox, Role.steward, _resource(sandbox, CONDITIONAL_OPEN).holder_id)
    )
    queue = review.review_queue(sandbox)
    queue.select(code)
    queue.decision.value = "approve_with_conditions"
    queue.conditions.value = "deidentify(k>=1, l>=1)"  # looser than the policy allows
    queue.decide_button.click()
    assert queue.feedback.kind == "error" and "deidentify.k" in queue.feedback.text
    with sandbox.session() as s:
        assert (
            s.exec(select(AccessRequest).where(AccessRequest.code == code)).one().status
            is RequestStatus.in_review
        )


def test_requester_cannot_review(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    _file_conditional_open(sandbox, who)
    queue = review.review_queue(sandbox)
    assert queue.total == 0 and queue.item.value is None
    queue.decide_button.click()
    assert queue.feedback.kind == "error"


def test_review_queue_pages(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    requester = _username_with_kind(sandbox, "research")
    who.choose(Role.requester, requester)
    panel = requests.request_panel(sandbox)
    panel.resource.value = _resource(sandbox, CONDITIONAL_OPEN).id
    panel.channel.value = "opening"
    for _ in range(7):
        panel.submit_button.click()
        assert panel.feedback.kind == "ok"
    who.choose(
        Role.steward, _username_with(sandbox, Role.steward, _resource(sandbox, CONDITIONAL_OPEN).holder_id)
    )
    queue = review.ReviewQueue(sandbox, page_size=3)
    assert queue.total == 7 and len(queue.rows) == 3
    assert "Page 1 of 3" in queue.page_label.value and queue.prev_button.disabled
    first_page = [r["code"] for r in queue.rows]
    queue.next_button.click()
    queue.next_button.click()
    assert "Page 3 of 3" in queue.page_label.value and len(queue.rows) == 1 and queue.next_button.disabled
    queue.prev_button.click()
    assert not set(first_page) & {r["code"] for r in queue.rows}


# ---------------------------------------------------------------- registration


def test_registration_from_application_to_code(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    with sandbox.session() as s:
        unregistered = s.exec(
            select(Resource).where(
                ~Resource.id.in_(
                    select(Registration.resource_id).where(Registration.resource_id.is_not(None))
                )
            )
        ).first()
    assert unregistered is not None
    who.choose(Role.steward, _username_with(sandbox, Role.steward, unregistered.holder_id))
    panel = registration.registration_panel(sandbox)
    panel.subject.value = f"resource:{unregistered.id}"
    panel.apply_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    with sandbox.session() as s:
        reg = s.exec(select(Registration).where(Registration.resource_id == unregistered.id)).one()
    who.choose(Role.registrar)
    panel.record.value = reg.id
    for step in ("accept", "start_review", "publish_notice"):
        panel.step_buttons[step].click()
        assert panel.feedback.kind == "ok", (step, panel.feedback.text)
    panel.step_buttons["register"].click()
    assert panel.feedback.kind == "error" and "notice" in panel.feedback.text
    who.choose(Role.trainer)
    panel.clock.days.value = 30
    panel.clock.advance_button.click()
    assert panel.clock.feedback.kind == "ok", panel.clock.feedback.text
    who.choose(Role.registrar)
    panel.record.value = reg.id
    panel.step_buttons["register"].click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    with sandbox.session() as s:
        reg = s.get(Registration, reg.id)
        assert reg.status is RegistrationStatus.registered and reg.code
    assert reg.code in panel.feedback.text


# ---------------------------------------------------------------- operator


def test_operator_makes_registers_prices_within_cap_and_lists(sandbox: Sandbox) -> None:
    from marketplace.models import Authorization
    from marketplace.vocabulary import AuthorizationStatus

    with sandbox.session() as s:
        auth = s.exec(select(Authorization).where(Authorization.status == AuthorizationStatus.active)).first()
        assert auth is not None
        op = s.exec(
            select(Account.username)
            .join(AccountRole)
            .where(AccountRole.role == Role.operator, Account.organization_id == auth.operator_id)
        ).first()
        scope = [r.id for r in auth.resources][:1]
    who = actas.act_as(sandbox)
    who.choose(Role.operator, op)
    ops = operator.operator_panel(sandbox)
    ops.authorization.value = auth.id
    ops.new_name.value = "Commuting flows by district"
    ops.new_kind.value, ops.new_unit.value, ops.new_transformation.value = (
        "dataset",
        "per_record",
        "aggregated",
    )
    ops.new_resources.value = tuple(scope)
    ops.create_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    with sandbox.session() as s:
        product = s.exec(select(Product).where(Product.name == "Commuting flows by district")).one()
    assert product.status is ProductStatus.draft and product.price_cap is not None
    assert ops.product.value == product.id
    # registration of the product: the operator applies, the registrar registers after the notice period
    reg = registration.registration_panel(sandbox)
    reg.subject.value = f"product:{product.id}"
    reg.apply_button.click()
    assert reg.feedback.kind == "ok", reg.feedback.text
    who.choose(Role.registrar)
    for step in ("accept", "start_review", "publish_notice"):
        reg.step_buttons[step].click()
        assert reg.feedback.kind == "ok", (step, reg.feedback.text)
    who.choose(Role.trainer)
    reg.clock.advance_button.click()
    reg.clock.days.value = 30
    reg.clock.advance_button.click()
    who.choose(Role.registrar)
    reg.step_buttons["register"].click()
    assert reg.feedback.kind == "ok", reg.feedback.text
    who.choose(Role.operator, op)
    ops.product.value = product.id
    ops.register_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    ops.price.value = str(Decimal(product.price_cap) + 1)
    ops.price_button.click()
    assert ops.feedback.kind == "error" and "cap" in ops.feedback.text
    with sandbox.session() as s:
        assert s.get(Product, product.id).actual_price is None
    price = (Decimal(product.price_cap) / 2).quantize(Decimal("0.01"))
    ops.price.value = str(price)
    ops.price_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    ops.list_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    with sandbox.session() as s:
        saved = s.get(Product, product.id)
        assert saved.actual_price == price and saved.status is ProductStatus.listed
    assert "listed" in ops.product_table.value


def test_price_formation_chain_in_the_operator_panel(sandbox: Sandbox) -> None:
    """The panel shows the MAR set in advance (the one rule) and files caps within it, as the agency."""
    from marketplace.models import Authorization
    from marketplace.policy import load_policy
    from marketplace.vocabulary import AuthorizationStatus
    from marketplace.workflows.price_formation import mar_positions

    with sandbox.session() as s:
        auth = s.exec(select(Authorization).where(Authorization.status == AuthorizationStatus.active)).first()
        prod = s.exec(select(Product).where(Product.operator_id == auth.operator_id)).first()
        agency = s.exec(
            select(Account.username)
            .join(AccountRole)
            .where(AccountRole.role == Role.registrar, Account.organization_id == auth.agency_id)
        ).first()
        (pos,) = mar_positions(s, 2025, load_policy("national-2025"), auth.operator_id)
        prod_id, mar = prod.id, pos.position.mar
        op_user = s.exec(
            select(Account.username)
            .join(AccountRole)
            .where(AccountRole.role == Role.operator, Account.organization_id == auth.operator_id)
        ).first()
    who = actas.act_as(sandbox)
    who.choose(Role.operator, op_user)
    panel = operator.operator_panel(sandbox)
    panel.costs.value = "platform 1200000"
    panel.file_costs_button.click()
    assert panel.feedback.kind == "error" and "costs" in panel.feedback.text
    panel.costs.value, panel.cost_year.value = "platform=1200000, staff=600000", 2026
    panel.file_costs_button.click()
    assert panel.feedback.kind == "ok" and "CST-2026-" in panel.feedback.text, panel.feedback.text
    who.choose(Role.registrar, agency)
    panel.product.value = prod_id
    panel.cap.value = str((mar / 1000 + 1).quantize(Decimal("0.01")))
    panel.forecast.value = 1000
    panel.file_cap_button.click()
    assert panel.feedback.kind == "error" and "mar.cap_above_mar" in panel.feedback.text
    panel.cap.value = "0.03"
    panel.file_cap_button.click()
    assert panel.feedback.kind == "ok" and "CAP-" in panel.feedback.text, panel.feedback.text
    with sandbox.session() as s:
        assert s.get(Product, prod_id).price_cap == Decimal("0.03")


def test_requester_cannot_set_a_cap(sandbox: Sandbox) -> None:
    actas.act_as(sandbox)
    panel = operator.operator_panel(sandbox)
    assert panel.product.value is None
    panel.file_cap_button.click()
    assert panel.feedback.kind == "error"
    reg = regulator.regulator_panel(sandbox)  # a requester sees none of the regulator's figures
    assert "regulator" in reg.note.value.lower() or "监管" in reg.note.value
    assert reg.product.value is None and reg.operator.options
    reg.cap_button.click()
    assert reg.feedback.kind == "error"


def _free_grant(sandbox: Sandbox) -> int:
    """A nonprofit's public-welfare request for a listed product, approved: a free grant in force."""
    from marketplace import workflows as wf
    from marketplace.vocabulary import OrganizationKind

    with sandbox.session() as s:
        ngo = s.exec(
            select(Account).join(AccountRole).where(AccountRole.role == Role.requester)
            .where(Account.organization.has(kind=OrganizationKind.nonprofit)).order_by(Account.id)
        ).first()
        listed = select(Product).where(Product.status == ProductStatus.listed).order_by(Product.id)
        req = wf.create_request(
            s, ngo, product=s.exec(listed).first(), purpose="public_welfare", volume=50,
            use_statement="Open data for a municipal public-health outreach programme for elderly residents",
        )
        wf.submit_request(s, ngo, req)
        req_id = req.id
        s.commit()
    while True:
        with sandbox.session() as s:
            req = s.get(AccessRequest, req_id)
            review = wf.open_review(req)
            if review is None or req.status is not RequestStatus.in_review:
                break
            who = s.exec(
                select(Account).join(AccountRole).where(AccountRole.role == review.reviewer_role)
                .where(Account.organization_id == review.reviewer_org_id if review.reviewer_org_id else True)
                .order_by(Account.id)
            ).first()
            wf.decide(s, who, review, "approve")
            s.commit()
    with sandbox.session() as s:
        assert s.get(AccessRequest, req_id).status is RequestStatus.granted
    return req_id


def test_regulator_panel_sets_mar_closes_periods_and_finds_misuse(sandbox: Sandbox) -> None:
    """The price authority's side of the chain has a panel of its own: every operator's MAR (the one rule),
    the cost filings, the caps filed within MAR (the seeded world filed them), the period close, and free use
    under supervision (a misused free grant revoked and charged)."""
    from marketplace.policy import load_policy
    from marketplace.workflows.price_formation import mar_positions

    req_id = _free_grant(sandbox)
    with sandbox.session() as s:
        positions = mar_positions(s, 2025, load_policy("national-2025"))
        code = s.get(AccessRequest, req_id).code
    who = actas.act_as(sandbox)
    who.choose(Role.regulator)
    panel = regulator.regulator_panel(sandbox)
    assert panel.year.value == 2025 and panel.note.value == ""
    for pos in positions:  # the same MAR figures the operator panel and the disclosure report show
        assert f"{float(pos.position.mar):,.2f}" in panel.mar_table.value
    assert "CST-2025-" in panel.cost_table.value and "CAP-2025-" in panel.cap_table.value
    assert code in panel.free_table.value
    # supervision of free use
    panel.grant.value = req_id
    panel.reason.value = ""
    panel.misuse_button.click()
    assert panel.feedback.kind == "error" and "reason" in panel.feedback.text
    panel.reason.value = "resold the extract to a marketing firm"
    panel.misuse_button.click()
    assert panel.feedback.kind == "ok" and code in panel.feedback.text, panel.feedback.text
    with sandbox.session() as s:
        assert s.get(AccessRequest, req_id).status is RequestStatus.revoked
        assert s.exec(select(Payment).where(Payment.request_id == req_id)).first() is not None
    assert code not in panel.free_table.value  # no longer a free grant in force
    # a period closes after its end; MAR of the next year is set from the operator's filing
    op_id = positions[0].operator_id
    panel.operator.value = op_id
    panel.close_button.click()
    assert panel.feedback.kind == "error" and "2025-12-31" in panel.feedback.text
    panel.year.value = 2026
    panel.set_mar_button.click()
    assert panel.feedback.kind == "error" and "2026" in panel.feedback.text  # no 2026 filing yet
    from datetime import date

    from marketplace import workflows as wf

    with sandbox.session() as s:
        trainer = s.exec(select(Account).join(AccountRole).where(AccountRole.role == Role.trainer)).first()
        wf.set_clock(s, trainer, start=date(2026, 1, 5))
        op = s.exec(
            select(Account).join(AccountRole)
            .where(AccountRole.role == Role.operator, Account.organization_id == op_id)
        ).first()
        wf.file_costs(s, op, year=2026, costs={"platform": "1300000", "staff": "700000"}, basis="budget")
        s.commit()
    sandbox.changed()
    panel.set_mar_button.click()  # the last period first: its excess is deducted from this MAR
    assert panel.feedback.kind == "error" and "2025" in panel.feedback.text, panel.feedback.text
    panel.year.value = 2025
    panel.close_button.click()
    assert panel.feedback.kind == "ok" and "2025" in panel.feedback.text, panel.feedback.text
    panel.year.value = 2026
    panel.set_mar_button.click()
    assert panel.feedback.kind == "ok" and "2026" in panel.feedback.text, panel.feedback.text
    i18n.set_language("zh")
    try:
        assert "最高准许收入" in panel.children[0].value + panel.children[1].value
    finally:
        i18n.set_language("en")


# ---------------------------------------------------------------- disclosure


def test_disclosure_report_and_downloads(sandbox: Sandbox) -> None:
    panel = disclosure.disclosure_panel(sandbox)
    panel.build_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    links = re.findall(
        r'download="([^"]+)" href="data:([^;"]+)(?:;charset=utf-8)?;base64,([^"]+)"', panel.downloads.value
    )
    assert [name.split(".", 1)[1] for name, _, _ in links] == ["html", "md", "csv.zip", "json", "ttl"]
    assert links[2][1] == "application/zip"  # the CSV tables come as what they are: a zip of CSV files
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(links[2][2]))) as archive:
        members = archive.namelist()
        assert members and all(m.endswith(".csv") for m in members)
        assert all(archive.read(m).startswith(b"\xef\xbb\xbf") for m in members)  # spreadsheets read Chinese
    html_doc = base64.b64decode(links[0][2]).decode("utf-8")
    assert str(panel.year.value) in html_doc
    assert "dcat" in base64.b64decode(links[4][2]).decode("utf-8").lower()
    assert len(panel.tabs.children) >= 5
    # every table and headline figure the disclosure module publishes has a translated title
    assert all(i18n.has(f"disclosure.summary.{k}") for k in panel.report.summary())
    assert all(i18n.has(f"disclosure.table.{k}") for k in [*panel.report.tables(), "use_statements"])


def test_disclosure_downloads_follow_a_language_switch(sandbox: Sandbox) -> None:
    """The HTML and Markdown downloads of a built report are re-worded when the language changes."""

    def download(fmt: str) -> str:
        pattern = r'download="([^"]+)" href="data:[^;]+;charset=utf-8;base64,([^"]+)"'
        found = {name.rsplit(".", 1)[1]: data for name, data in re.findall(pattern, panel.downloads.value)}
        return base64.b64decode(found[fmt]).decode("utf-8")

    panel = disclosure.disclosure_panel(sandbox)
    panel.build_button.click()
    assert download("html").count("Public data disclosure report") == 1
    try:
        i18n.set_language("zh")
        assert "年度公共数据信息公开报告" in download("html") and '<html lang="zh-Hans">' in download("html")
        assert download("md").startswith(f"# {panel.report.year} 年度公共数据信息公开报告")
        assert '"registrations"' in download("json")  # machine formats keep the data's ids
    finally:
        i18n.set_language("en")
    assert download("md").startswith("# Public data disclosure report")


# ---------------------------------------------------------------- language and error plumbing


def test_switching_language_relabels_live_panels(sandbox: Sandbox) -> None:
    actas.act_as(sandbox)
    panel = requests.request_panel(sandbox)
    assert panel.submit_button.description == "Submit request"
    chosen = (panel.resource.value, panel.channel.value, panel.purpose.value)
    i18n.set_language("zh")
    assert panel.submit_button.description == "提交申请"
    assert ("科研", "research") in panel.purpose.options
    assert (panel.resource.value, panel.channel.value, panel.purpose.value) == chosen  # every selection kept


def test_swallowed_callback_errors_are_caught(_callback_errors) -> None:
    """The autouse fixture sees an exception that ipywidgets would only log."""
    b = w.Button()
    b.on_click(lambda _b: 1 / 0)
    b.click()
    assert _callback_errors.records and "ZeroDivisionError" in str(_callback_errors.records[0].exc_info)
    _callback_errors.records.clear()


def test_steward_delivers_under_the_deidentify_condition(sandbox: Sandbox) -> None:
    from marketplace.models import Delivery

    who = actas.act_as(sandbox)
    panel = _file_conditional_open(sandbox, who)
    code = panel.feedback.text.split()[1]
    who.choose(
        Role.steward, _username_with(sandbox, Role.steward, _resource(sandbox, CONDITIONAL_OPEN).holder_id)
    )
    queue = review.review_queue(sandbox)
    queue.select(code)
    queue.decision.value = "approve_with_conditions"
    queue.conditions.value = "deidentify(k>=5, l>=2)"
    queue.decide_button.click()
    assert queue.deliver_code.value == code
    queue.deliver_rows.value = 300
    queue.deliver_button.click()
    assert queue.feedback.kind == "ok", queue.feedback.text
    with sandbox.session() as s:
        req = s.exec(select(AccessRequest).where(AccessRequest.code == code)).one()
        delivery = s.exec(select(Delivery).where(Delivery.request_id == req.id)).one()
        assert req.status is RequestStatus.delivered
    assert delivery.privacy_report is not None, f"{CONDITIONAL_OPEN} holds personal information"
    assert delivery.privacy_report["k_achieved"] >= 5
    assert f"k_achieved={delivery.privacy_report['k_achieved']}" in queue.delivered.value
    assert f"{delivery.row_count} rows delivered" in queue.delivered.value
    assert "delivered" in panel.status.value
    # the delivered rows can be taken away, as CSV and as Parquet, exactly as released
    files = queue.delivery_downloads.files
    assert set(files) == {f"delivery-{code}.csv", f"delivery-{code}.parquet"}
    import io

    import pandas as pd

    got = pd.read_parquet(io.BytesIO(files[f"delivery-{code}.parquet"]))
    assert len(got) == delivery.row_count and list(got.columns) == list(queue.last_delivery.table.columns)
    assert len(pd.read_csv(io.BytesIO(files[f"delivery-{code}.csv"]))) == delivery.row_count


def test_delivery_by_someone_else_is_refused(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    panel = _file_conditional_open(sandbox, who)
    queue = review.review_queue(sandbox)
    queue.deliver_code.value = panel.feedback.text.split()[1]
    queue.deliver_button.click()
    assert queue.feedback.kind == "error"
    queue.deliver_code.value = "REQ-0000-999999"
    queue.deliver_button.click()
    assert queue.feedback.kind == "error" and "REQ-0000-999999" in queue.feedback.text


def test_accept_quote_is_offered_only_while_a_fee_is_due(sandbox: Sandbox) -> None:
    """The workflow (`fee_due`), not the widget, decides whether there is anything to pay."""
    who = actas.act_as(sandbox)
    free = _file_conditional_open(sandbox, who)
    assert free.accept_button.layout.display == "none"

    who.choose(Role.requester, _username_with_kind(sandbox, "enterprise"))
    paid = requests.request_panel(sandbox, kind="product")
    paid.purpose.value = "industry_development"
    paid.volume.value = 100
    assert paid.last_quote is not None and paid.last_quote.total > 0
    paid.submit_button.click()
    assert paid.accept_button.layout.display != "none", paid.feedback.text
    paid.accept_button.click()
    with sandbox.session() as s:
        req = s.exec(select(AccessRequest).order_by(AccessRequest.id.desc())).first()
        assert s.exec(select(Payment).where(Payment.request_id == req.id)).one().amount > 0
    assert paid.accept_button.layout.display == "none"


def test_requester_files_the_usage_report_the_grant_asks_for(sandbox: Sandbox) -> None:
    """The panel offers the report while one is due, shows it overdue, and files it as the requester."""
    from marketplace import workflows as wf
    from marketplace.models import UsageReport

    who = actas.act_as(sandbox)
    panel = _file_conditional_open(sandbox, who)
    code = panel.feedback.text.split()[1]
    requester = _username_with_kind(sandbox, "research")  # the account _file_conditional_open acted as
    assert panel.usage_box.layout.display == "none"  # nothing granted yet
    who.choose(
        Role.steward, _username_with(sandbox, Role.steward, _resource(sandbox, CONDITIONAL_OPEN).holder_id)
    )
    queue = review.review_queue(sandbox)
    queue.select(code)
    queue.decision.value = "approve_with_conditions"
    queue.conditions.value = "deidentify(k>=5, l>=2)\nreport_usage(days=30)"
    queue.decide_button.click()
    assert queue.feedback.kind == "ok", queue.feedback.text
    with sandbox.session() as s:
        wf.advance_clock(s, wf.accounts_with_role(s, Role.trainer)[0], 31)
    sandbox.changed()
    who.choose(Role.requester, requester)
    panel.show_status()
    assert panel.usage_box.layout.display != "none"
    assert "Usage report due" in panel.status.value and "mp-usage-overdue" in panel.status.value
    panel.report_button.click()  # an empty summary is refused and nothing is filed
    assert panel.feedback.kind == "error" and "summary" in panel.feedback.text
    assert _count(sandbox, UsageReport) == 0
    panel.usage_summary.value = "Coverage study for the district plan; results published in aggregate."
    panel.report_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    assert ", late" in panel.feedback.text and panel.usage_summary.value == ""
    assert _count(sandbox, UsageReport) == 1
    assert "1 filed so far" in panel.status.value and "mp-usage-overdue" not in panel.status.value


def test_request_panel_opens_on_a_combination_the_actor_may_file(sandbox: Sandbox) -> None:
    """Notebook 02 opened on an enterprise account and the sharing channel: a red refusal with Submit on."""
    who = actas.act_as(sandbox)
    for kind in ("enterprise", "research", "department"):
        with sandbox.session() as s:
            from marketplace.models import Organization

            username = s.exec(
                select(Account.username)
                .join(Organization)
                .join(AccountRole)
                .where(Organization.kind == kind, AccountRole.role == Role.requester)
                .order_by(Account.id)
            ).first()
        who.choose(Role.requester, username)
        panel = requests.request_panel(sandbox)
        assert panel.last_routing is not None and panel.last_routing.allowed, (kind, panel.preview.value)
        assert not panel.submit_button.disabled and "mp-refused" not in panel.preview.value
        # a refused choice made by hand is shown, and Submit waits until the route allows it
        with sandbox.session() as s:
            core = s.exec(select(Resource).where(Resource.grade == Grade.core)).first()
        panel.resource.value = core.id
        panel.channel.value = "opening"
        assert "mp-refused" in panel.preview.value and panel.submit_button.disabled
        panel.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notebook_03_walks_a_new_product_to_a_refused_price(sandbox: Sandbox, lang: str) -> None:
    """Notebook 03's suggested experiment ("try a price above the cap") can be done in notebook 03."""
    i18n.set_language(lang)
    walk = operator.product_walkthrough(sandbox)
    steps = []
    while (name := walk.next_step()) is not None:
        steps.append(name)
        assert walk.feedback.kind != "error", (name, walk.feedback.text)
    assert steps == list(operator.WALK_STEPS) and walk.next_button.disabled
    kinds = {name: kind for name, _who, kind, _text in walk.done}
    assert kinds.pop("above_cap") == "refused" and set(kinds.values()) == {"ok"}
    refusal = next(text for name, _w, _k, text in walk.done if name == "above_cap")
    assert "cap" in refusal or "上限" in refusal, refusal
    with sandbox.session() as s:
        product = s.get(Product, walk.product_id)
        assert product.status is ProductStatus.listed and product.actual_price <= product.price_cap
        assert product.registrations and product.registrations[-1].code


def test_the_selection_panel_shows_rounds_decisions_and_the_criterion_a_disqualified_applicant_failed(
    sandbox: Sandbox,
) -> None:
    from marketplace import workflows as wf
    from marketplace.models import Organization, Resource, SelectionRound
    from marketplace.ui import selection
    from marketplace.vocabulary import OrganizationKind

    with sandbox.session() as s:
        inst = wf.accounts_with_role(s, Role.registrar)[0]
        res = next(r for r in s.exec(select(Resource).order_by(Resource.id)).all()
                   if "authorized_operation" in wf.resource_channels(r) and r.grade.value != "core")
        rnd = wf.open_selection(s, inst, resources=[res], title="panel lot")
        op = s.exec(select(Organization).where(Organization.kind == OrganizationKind.operator)).first()
        wf.apply_for_selection(s, wf.accounts_with_role(s, Role.operator, org_id=op.id)[0], rnd,
                               security_level=2, registered_capital="50000000")
        wf.decide_selection(s, inst, rnd)
        code, round_id = s.get(SelectionRound, rnd.id).code, rnd.id
    panel = selection.selection_rounds(sandbox)
    assert code in panel.rounds_table.value and "failed" in panel.rounds_table.value
    panel.round.value = round_id
    assert "security protection level" in panel.detail.value
    i18n.set_language("zh")
    assert "安全保护等级" in panel.detail.value and "流标" in panel.rounds_table.value
    i18n.set_language("en")
    panel.close()
