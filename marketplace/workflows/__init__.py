"""State changes of the marketplace: every lifecycle step, the roles, deadlines and the audit log.

One call = one step, taking the session and the acting `Account` first; the caller owns the transaction:

    from marketplace import db, workflows as wf
    with db.session_scope() as s:                       # commit on success, roll back on any error
        req = wf.create_request(s, alice, resource=res, channel="sharing", purpose="public_governance")
        wf.submit_request(s, alice, req)

A step either applies fully or raises a `marketplace.errors` error and leaves the database unchanged, except
that refused attempts (PermissionDenied, TransitionError, PolicyRefusal, PrivacyError, ConflictError) are
always recorded in the audit log, even when the caller rolls back. Rules come from `marketplace.policy`.

Requests (channels: sharing, opening, authorized_operation)
    create_request(s, actor, *, resource=|product=, channel, purpose, use_statement, fields, volume,
                   duration_days)                   -> draft
    submit_request(s, actor, request)               routes, quotes a product, opens reviews; with no review
                                                    needed: approved, granted and delivered at once
    edit_request(s, actor, request, **changes), resubmit(s, actor, request, **changes),
    withdraw(s, actor, request, reason=""), accept_quote(s, actor, request) -> Payment | None,
    current_quote(s, request), fee_due(s, request)
Reviews
    decide(s, actor, review, decision, *, conditions=[...], reason="")
        conditions: "deidentify(k>=5, l>=2)", "aggregate(min_cell=10)", "fields(only=[a, b])",
        "no_onward_transfer", "expires_after(days=365)", "report_usage"
    open_review(request), review_queue(s, actor), parse_condition(spec, policy)
Conditional free use
    create_request(..., project_reference=, sponsor=department), submit_request(..., pay_if_refused=False)
    find_misuse(s, regulator_or_compliance_reviewer, request, reason) -> Payment (grant revoked, paid price)
    free_grants(s) -> [AccessRequest] (free product grants in force, for supervision)
Grants and delivery
    grant(s, actor, request), revoke_grant(s, actor, request, reason), expire_grants(s)
    deliver(s, actor, request, *, rows=None, seed=0, frame=None) -> Delivered(delivery, table, report)
Registration (resources and products)
    submit_registration(s, actor, resource_or_product, type="initial"), accept_registration,
    start_registration_review, publish_notice, register, reject_registration(s, actor, reg, reason),
    change_registration, correct_registration, deregister, current_registration(s, subject),
    renew_registration(s, actor, subject) (in the last `renewal_window_days` of validity; its own review)
    file_objection(s, anyone, registration, grounds) during the public notice,
    decide_objection(s, registrar, objection, "uphold"|"dismiss", note)
Jurisdiction (发改数据规〔2025〕27号)
    draft_plan(s, institution_staff, *, resources, scope, scenarios, security_measures, expected_products),
    approve_plan(s, authorizer, plan, note=""), reject_plan(s, authorizer, plan, reason),
    designations_of(s, org_id), approved_plan_for(s, institution_id, resources)
Operator selection (发改数据规〔2025〕27号; policy `[selection]`)
    open_selection(s, institution_staff, *, resources, title, plan=None) -> SelectionRound (competitive)
    apply_for_selection(s, operator, round, *, security_level, registered_capital, statement="")
        (qualification checked at once; a disqualified application names the rule it fails)
    score_application(s, institution_staff, application, {criterion: 0-100}),
    decide_selection(s, institution_staff, round, note="") (ranked by the policy's weights; winner or failed;
    on public notice), award_directly(s, institution_staff, *, operator, resources, grounds, justification,
    security_level, registered_capital) (only where the policy allows), selection_for(s, authorization)
Sharing responsibility lists (共享责任清单)
    publish_sharing_list(s, data_authority, department, basis=""), add_list_entry(s, data_authority, list,
    resource, recipients=[departments], purposes=[...], duty=""),
    withdraw_list_entry(s, data_authority, entry),
    list_entries_for(s, resource, org_id); create_request(..., list_entry=entry): the holder shares without
    discretion (approve by the deadline)
Disclosure duties (NDA notice of 10 Feb 2026)
    publish_disclosure(s, party_staff, party, year), duty_holders(s, year); the clock records missed ones
Supervision
    file_complaint(s, anyone, operator, text),
    record_incident(s, regulator|operator, operator, "minor"|"major", description),
    evaluate(s, regulator, operator, year) -> Evaluation (warning, rectification order with a date,
    suspension of grants, termination of authorizations: policy `[supervision]`)
Authorized operation
    propose_authorization(s, actor, *, operator, resources, model, term_years|term_end, selection=None)
    (the agreement carries its obligations), agree_authorization, activate_authorization (needs the operator a
    selection round chose), terminate_authorization(s, actor, auth, reason)
    (an ended authorization withdraws its products, suspends their grants, opens the operator's exit duty)
    complete_exit_duty(s, operator, duty, "returned"|"destroyed", evidence)
    create_product(s, actor, authorization, *, name, kind, billing_unit, resources, transformation,
                   unit_cost), register_product, price_product(s, actor, product, price), list_product,
    withdraw_product, set_price_cap(s, regulator, product, cap)
Price formation (one period = one calendar year)
    file_costs(s, operator, *, year, costs={category: amount}, subsidy, taxes, basis) -> CostFiling
    determine_mar(s, regulator, filing, *, profit_rate=None) -> RevenuePeriod (MAR set in advance)
    file_cap(s, agency_staff, product, *, cap, forecast_volume, basis) -> CapFiling (within MAR)
    close_period(s, regulator, operator_org, year) -> RevenuePeriod (excess carried to the next MAR)
    mar_positions(s, year, policy) -> [OperatorPosition], cap_filing_of(s, product),
    cap_room(s, operator_id, year) -> (MAR or None, forecast revenue committed by caps in force)
Sandbox
    clock.today(s), clock.now(s), advance_clock(s, trainer, days) -> AdvanceReport, set_clock, set_policy
    verify_chain(s) -> ChainCheck(ok, checked, first_bad_seq, reason), audit_events(s, last=N)
    account(s, username), accounts_with_role(s, role), current_policy(s), resource_channels(resource)
"""

from marketplace.workflows import clock
from marketplace.workflows.admin import AdvanceReport, advance_clock, set_clock, set_policy
from marketplace.workflows.audit import ChainCheck, verify_chain
from marketplace.workflows.audit import events as audit_events
from marketplace.workflows.authorization import (
    activate_authorization,
    agree_authorization,
    complete_exit_duty,
    expire_authorizations,
    propose_authorization,
    terminate_authorization,
)
from marketplace.workflows.deadlines import process_deadlines
from marketplace.workflows.delivery import Delivered, deliver
from marketplace.workflows.disclosures import duty_holders, publish_disclosure, record_disclosure_breaches
from marketplace.workflows.facts import current_policy, resource_channels
from marketplace.workflows.free_use import find_misuse, free_grants
from marketplace.workflows.grants import expire_grants, grant, report_usage, revoke_grant, suspend_grants
from marketplace.workflows.jurisdiction import (
    approve_plan,
    approved_plan_for,
    designations_of,
    draft_plan,
    reject_plan,
)
from marketplace.workflows.price_formation import (
    cap_filing_of,
    cap_room,
    close_period,
    determine_mar,
    file_cap,
    file_costs,
    mar_positions,
)
from marketplace.workflows.products import (
    create_product,
    list_product,
    price_product,
    register_product,
    set_price_cap,
    withdraw_product,
)
from marketplace.workflows.registration import (
    accept_registration,
    change_registration,
    correct_registration,
    current_registration,
    decide_objection,
    deregister,
    file_objection,
    lapse_objections,
    publish_notice,
    register,
    reject_registration,
    renew_registration,
    start_registration_review,
    submit_registration,
)
from marketplace.workflows.requests import (
    accept_quote,
    create_request,
    current_quote,
    edit_request,
    fee_due,
    resubmit,
    submit_request,
    withdraw,
)
from marketplace.workflows.reviews import (
    QueueCount,
    QueueKey,
    decide,
    open_review,
    parse_condition,
    queue_key,
    review_queue,
    review_queue_count,
)
from marketplace.workflows.roles import account, accounts_with_role, has_role
from marketplace.workflows.selection import (
    apply_for_selection,
    award_directly,
    decide_selection,
    open_selection,
    score_application,
    selection_for,
)
from marketplace.workflows.sharing_lists import (
    add_list_entry,
    list_entries_for,
    publish_sharing_list,
    sharing_list_of,
    withdraw_list_entry,
)
from marketplace.workflows.supervision import evaluate, file_complaint, record_incident

__all__ = [
    "AdvanceReport",
    "ChainCheck",
    "Delivered",
    "QueueCount",
    "QueueKey",
    "accept_quote",
    "accept_registration",
    "account",
    "accounts_with_role",
    "activate_authorization",
    "add_list_entry",
    "advance_clock",
    "agree_authorization",
    "apply_for_selection",
    "approve_plan",
    "approved_plan_for",
    "audit_events",
    "award_directly",
    "cap_filing_of",
    "cap_room",
    "change_registration",
    "clock",
    "close_period",
    "complete_exit_duty",
    "correct_registration",
    "create_product",
    "create_request",
    "current_policy",
    "current_quote",
    "current_registration",
    "decide",
    "decide_objection",
    "decide_selection",
    "deliver",
    "deregister",
    "designations_of",
    "determine_mar",
    "draft_plan",
    "duty_holders",
    "edit_request",
    "evaluate",
    "expire_authorizations",
    "expire_grants",
    "fee_due",
    "file_cap",
    "file_complaint",
    "file_costs",
    "file_objection",
    "find_misuse",
    "free_grants",
    "grant",
    "has_role",
    "lapse_objections",
    "list_entries_for",
    "list_product",
    "mar_positions",
    "open_review",
    "open_selection",
    "parse_condition",
    "price_product",
    "process_deadlines",
    "propose_authorization",
    "publish_disclosure",
    "publish_notice",
    "publish_sharing_list",
    "queue_key",
    "record_disclosure_breaches",
    "record_incident",
    "register",
    "register_product",
    "reject_plan",
    "reject_registration",
    "renew_registration",
    "report_usage",
    "resource_channels",
    "resubmit",
    "review_queue",
    "review_queue_count",
    "revoke_grant",
    "score_application",
    "selection_for",
    "set_clock",
    "set_policy",
    "set_price_cap",
    "sharing_list_of",
    "start_registration_review",
    "submit_registration",
    "submit_request",
    "suspend_grants",
    "terminate_authorization",
    "verify_chain",
    "withdraw",
    "withdraw_list_entry",
    "withdraw_product",
]
