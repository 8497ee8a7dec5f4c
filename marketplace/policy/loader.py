"""Loading policy files: TOML -> (extends, overrides) -> pydantic validation -> cross checks.

Every problem in a file is collected and reported together (file, key path, value, expected), and nothing
is returned unless the whole file is valid: a policy is either fully in force or not at all.
A policy may say `extends = "national-2025"` and override only the keys it changes; lists replace lists.
`extends` names a policy next to the file or a shipped one, never a path elsewhere on the machine. Values
are not coerced (pydantic strict mode, see `schema.py`).
How files are found, read, extended and overridden is `marketplace.configfile`, shared with scenario files;
what is a policy's own (schema, cross checks, money as exact decimals) stays here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from marketplace import configfile
from marketplace.policy.compiled import working_calendar
from marketplace.policy.documents import cited_documents
from marketplace.policy.schema import Policy
from marketplace.vocabulary import BillingUnit, ProductKind

__all__ = [
    "PolicyFileError",
    "PolicyProblem",
    "PolicySummary",
    "SourceNote",
    "SummaryLine",
    "diff_policies",
    "flatten_policy",
    "list_policies",
    "load_policy",
    "policy_dir",
    "policy_summary",
    "resolve_policy_path",
]


class PolicyProblem(configfile.FileProblem):
    """One thing wrong with a policy file."""

    __slots__ = ()


class PolicyFileError(configfile.ConfigFileError):
    """A policy file that cannot be loaded; `problems` lists every problem, one message line each."""

    problem_type = PolicyProblem


# ---------------------------------------------------------------- locating files


def policy_dir() -> Path:
    """The directory of shipped policies: $MARKETPLACE_POLICY_DIR, else the repository's seed/policies."""
    return configfile.shipped_dir("MARKETPLACE_POLICY_DIR", "policies")


def list_policies() -> list[str]:
    """Names of the policies in `policy_dir()` (file stems), sorted."""
    return configfile.toml_stems(policy_dir())


def resolve_policy_path(name_or_path: str | os.PathLike[str], *, relative_to: Path | None = None) -> Path:
    """A bare name means seed/policies/NAME.toml; anything with a suffix or a slash is a path."""
    return configfile.resolve_name(name_or_path, relative_to if relative_to is not None else policy_dir())


def _extended_path(base_name: str, path: Path) -> Path:
    """A policy's `extends`: a policy next to it, else a shipped one; never a path outside those folders."""
    return configfile.extends_path(base_name, path, policy_dir(), "policy", PolicyFileError)


# ---------------------------------------------------------------- loading


_CACHE: dict[tuple[str, int, int], Policy] = {}


def load_policy(name_or_path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Policy:
    """Load and validate a policy; `overrides` are dotted keys ({"pricing.caps.per_call": "0.5"}).

    Without overrides, the same unchanged file gives the same (frozen) object, so compiled lookup tables
    are shared between callers.
    """
    path = configfile.existing_file(name_or_path, policy_dir(), "policy", PolicyFileError)
    key = None
    if not overrides:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    data = configfile.read_toml_with_extends(path, _extended_path, "policy", PolicyFileError)
    problems: list[configfile.FileProblem] = []
    for dotted, value in (overrides or {}).items():
        configfile.set_dotted(data, str(dotted), value, str(path), problems, PolicyProblem)
    policy = _validate(data, str(path), problems)
    if key is not None:
        _CACHE[key] = policy
    return policy


def policy_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> Policy:
    """Validate an in-memory policy (e.g. built by a notebook) with the same checks as a file."""
    return _validate(_deepcopy(data), source, [])


def _deepcopy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deepcopy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deepcopy(v) for v in d]
    return d


# ---------------------------------------------------------------- validation


def _expected(err: dict[str, Any]) -> str:
    if err["type"] == "decimal_max_places":
        return "an amount in whole cents (at most 2 decimal places)"
    return configfile.pydantic_expected(err, Policy)


def _validate(data: dict[str, Any], file: str, problems: list[configfile.FileProblem]) -> Policy:
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            value = configfile.MISSING if err["type"] == "missing" else err.get("input")
            problems.append(PolicyProblem(file, configfile.loc_to_key(err["loc"]), value, _expected(err)))
    if policy is not None:
        problems.extend(_cross_checks(policy, file))
    if problems:
        raise PolicyFileError(problems)
    assert policy is not None
    return policy


def _cross_checks(p: Policy, file: str) -> list[PolicyProblem]:
    """Rules between keys that a single field's type cannot express."""
    out: list[PolicyProblem] = []
    pur = p.purposes
    both = sorted(set(pur.free) & set(pur.paid))
    if both:
        out.append(
            PolicyProblem(file, "purposes.paid", [x.value for x in both], "no purpose both free and paid")
        )
    classified = set(pur.free) | set(pur.paid)
    for i, x in enumerate(pur.allowed.authorized_operation):
        if x not in classified:
            out.append(
                PolicyProblem(
                    file,
                    f"purposes.allowed.authorized_operation[{i}]",
                    x.value,
                    "a purpose listed in purposes.free or purposes.paid",
                )
            )
    pr = p.pricing
    if pr.caps_apply and pr.forbid_cap_below_cost:
        for unit in BillingUnit:
            cost = pr.reference_costs.get(unit)
            if cost is None:
                continue
            cap = pr.caps.get(unit)
            if cap is not None and cap < cost:
                out.append(
                    PolicyProblem(
                        file,
                        f"pricing.caps.{unit.value}",
                        str(cap),
                        f">= the reference cost {cost} (pricing.reference_costs.{unit.value}), "
                        "because pricing.forbid_cap_below_cost = true",
                    )
                )
            for kind in ProductKind:
                kcap = pr.caps_by_kind.get(kind).get(unit)
                if kcap is not None and kcap < cost:
                    out.append(
                        PolicyProblem(
                            file,
                            f"pricing.caps_by_kind.{kind.value}.{unit.value}",
                            str(kcap),
                            f">= the reference cost {cost} (pricing.reference_costs.{unit.value}), "
                            "because pricing.forbid_cap_below_cost = true",
                        )
                    )
    prev = None
    for i, tier in enumerate(pr.tiers):
        if prev is not None:
            if tier.from_volume <= prev.from_volume:
                out.append(
                    PolicyProblem(
                        file,
                        f"pricing.tiers[{i}].from_volume",
                        tier.from_volume,
                        f"> {prev.from_volume} (tiers in increasing order of volume)",
                    )
                )
            if tier.multiplier > prev.multiplier:
                out.append(
                    PolicyProblem(
                        file,
                        f"pricing.tiers[{i}].multiplier",
                        str(tier.multiplier),
                        f"<= {prev.multiplier} (a later tier may not cost more per unit: buying in parts "
                        "must never be cheaper)",
                    )
                )
        prev = tier
    out.extend(_calendar_checks(p, file))
    c = p.compute
    if c.epsilon_per_query_max > c.epsilon_per_grant:
        out.append(PolicyProblem(file, "compute.epsilon_per_query_max", str(c.epsilon_per_query_max),
                                 f"<= compute.epsilon_per_grant ({c.epsilon_per_grant})"))
    if c.epsilon_per_grant > c.epsilon_per_requester:
        out.append(PolicyProblem(file, "compute.epsilon_per_grant", str(c.epsilon_per_grant),
                                 f"<= compute.epsilon_per_requester ({c.epsilon_per_requester}), since a "
                                 "requester's budget covers all of its grants"))
    st = p.routing.stages
    used = {*st.sharing.unconditional, *st.sharing.conditional, *st.opening.unconditional,
            *st.opening.conditional, *st.authorized_operation}
    for kind in ProductKind:
        used.update(st.authorized_operation_by_kind.get(kind) or ())
    for stage in sorted(used, key=lambda x: x.value):
        if not getattr(p.routing.stage_sources, stage.value).strip():
            out.append(
                PolicyProblem(
                    file,
                    f"routing.stage_sources.{stage.value}",
                    "",
                    "the document (name and number) the review stage comes from, or 'assumption: why'",
                )
            )
    weights = p.selection.weights.model_dump()
    if sum(weights.values()) != 100:
        out.append(PolicyProblem(file, "selection.weights", weights, "weights (percent) that add up to 100"))
    keys = set(flatten_policy(p))
    for key in p.sources:
        if key not in keys and not any(k.startswith(key + ".") for k in keys):
            out.append(PolicyProblem(file, f"sources.{key}", key, "a key of this policy"))
    return out


#: Years a calendar date may name: the People's Republic's holidays begin in 1950 (as in the package).
CALENDAR_YEARS = range(1950, 2100)
_WEEKDAY_ONLY = {
    "extra_holidays": "a weekday (Saturdays and Sundays are off anyway; to cancel a make-up working day "
    "list it in calendar.not_workdays)",
    "not_holidays": "a weekday (an official day off that is a working day under this policy)",
}
_WEEKEND_ONLY = {
    "extra_workdays": "a Saturday or Sunday (a make-up working day; a weekday off becomes a working day "
    "through calendar.not_holidays)",
    "not_workdays": "a Saturday or Sunday (an official make-up working day that is off under this policy)",
}
_OPPOSITES = (("extra_holidays", "not_holidays"), ("extra_workdays", "not_workdays"))


def _calendar_checks(p: Policy, file: str) -> list[PolicyProblem]:
    """Each calendar date in range, on the right kind of day, in one list; notice years backed by days."""
    cal = p.calendar
    out: list[PolicyProblem] = []
    lists = {k: getattr(cal, k) for k in (*_WEEKDAY_ONLY, *_WEEKEND_ONLY)}
    for key, days in lists.items():
        seen: set[date] = set()
        for i, d in enumerate(days):
            where = f"calendar.{key}[{i}]"
            if d.year not in CALENDAR_YEARS:
                out.append(PolicyProblem(file, where, d.isoformat(), "a date from 1950-01-01 to 2099-12-31"))
            elif key in _WEEKDAY_ONLY and d.weekday() >= 5:
                out.append(PolicyProblem(file, where, d.isoformat(), _WEEKDAY_ONLY[key]))
            elif key in _WEEKEND_ONLY and d.weekday() < 5:
                out.append(PolicyProblem(file, where, d.isoformat(), _WEEKEND_ONLY[key]))
            elif d in seen:
                out.append(PolicyProblem(file, where, d.isoformat(), f"each date once in calendar.{key}"))
            seen.add(d)
    for a, b in _OPPOSITES:
        for i, d in enumerate(lists[b]):
            if d in lists[a]:
                out.append(
                    PolicyProblem(
                        file, f"calendar.{b}[{i}]", d.isoformat(), f"a date not also in calendar.{a}"
                    )
                )
    listed_years = {d.year for days in lists.values() for d in days}
    for i, y in enumerate(cal.notice_years):
        if y not in CALENDAR_YEARS:
            out.append(PolicyProblem(file, f"calendar.notice_years[{i}]", y, "a year from 1950 to 2099"))
        elif y not in listed_years:
            out.append(
                PolicyProblem(
                    file,
                    f"calendar.notice_years[{i}]",
                    y,
                    f"a year whose notice the calendar lists supply (no date of {y} in extra_holidays, "
                    "not_holidays, extra_workdays or not_workdays)",
                )
            )
    return out


# ---------------------------------------------------------------- show & diff


def flatten_policy(policy: Policy) -> dict[str, Any]:
    """The policy as {dotted key: JSON value}, for summaries and diffs."""
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = node

    walk("", policy.model_dump(mode="json"))
    return out


NOTE_KEYS = ("sources.", "routing.stage_sources.")  # documentation, not parameters: left out of diffs


def diff_policies(a: Policy, b: Policy) -> list[tuple[str, Any, Any]]:
    """(key, value in a, value in b) for every parameter that differs, name/version/description excluded."""
    fa, fb = flatten_policy(a), flatten_policy(b)
    skip = {"name", "version", "description"}
    return [
        (k, fa.get(k), fb.get(k))
        for k in sorted(set(fa) | set(fb))
        if k not in skip and not k.startswith(NOTE_KEYS) and fa.get(k) != fb.get(k)
    ]


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One line of a policy's summary: a message id of the catalogs and its raw values (vocabulary values,
    lists, numbers, booleans, names), worded by the caller (`marketplace.i18n.policy_summary_lines`) in the
    language in force. A heading starts a section; other lines belong to the section above them."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    heading: bool = False


@dataclass(frozen=True, slots=True)
class SourceNote:
    """Where a parameter comes from: the note as the policy file writes it, and the documents it cites
    (ids of `policy.documents.DOCUMENTS`), so a reader sees their titles in the language in force."""

    key: str
    note: str
    documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """What a policy does, as structured lines (no words of a language here: the policy layer is pure)."""

    name: str
    version: str
    description: str
    lines: tuple[SummaryLine, ...]
    sources: tuple[SourceNote, ...]


def _values(values: Any) -> list[str]:
    return [v.value if hasattr(v, "value") else str(v) for v in values]


def policy_summary(p: Policy) -> PolicySummary:
    """A readable summary of what a policy does, as message ids with values (`marketplace policy show`)."""
    pr = p.pricing

    def unit_prices(up: Any) -> list[tuple[str, dict[str, Any]]]:
        return [("summary.unit_price", {"unit": u.value, "price": up.get(u)})
                for u in BillingUnit if up.get(u) is not None]

    def line(key: str, **params: Any) -> SummaryLine:
        return SummaryLine(f"summary.{key}", params)

    def maybe(key: str, **params: Any) -> SummaryLine:
        """The line, or its "none" form when its one list is empty."""
        return line(key if any(params.values()) else f"{key}_none", **params)

    def heading(key: str) -> SummaryLine:
        return SummaryLine(f"summary.section.{key}", {}, heading=True)

    tiers = [("summary.tier", {"volume": t.from_volume, "multiplier": t.multiplier}) for t in pr.tiers]
    disc = [("summary.discount_kind", {"kind": k, "rate": v})
            for k, v in pr.discounts.by_kind.model_dump().items() if Decimal(v) > 0]
    disc += [("summary.discount_size", {"size": k, "rate": v})
             for k, v in pr.discounts.by_size.model_dump().items() if Decimal(v) > 0]
    d, r, m, reg, auth, sel = p.deadlines, p.routing, p.mar, p.registration, p.authorization, p.selection
    q = sel.qualification
    profit = (
        ("summary.profit_treasury", {"yield": m.treasury_yield, "margin": m.profit_margin_over_yield})
        if m.profit_rule == "treasury_plus_margin" else ("summary.profit_fixed", {})
    )
    by_kind = [
        ("summary.stages_by_kind",
         {"kind": k.value, "stages": _values(r.stages.authorized_operation_by_kind.get(k) or [])})
        for k in ProductKind if r.stages.authorized_operation_by_kind.get(k) is not None
    ]
    c = p.compute
    lines = [
        heading("purposes"),
        line("free", purposes=_values(p.purposes.free)),
        line("paid", purposes=_values(p.purposes.paid)),
        line("sharing_allows", purposes=_values(p.purposes.allowed.sharing)),
        line("opening_allows", purposes=_values(p.purposes.allowed.opening)),
        line("operation_allows", purposes=_values(p.purposes.allowed.authorized_operation)),
        heading("pricing"),
        line("currency", currency=pr.currency, caps_apply=pr.caps_apply, below_cost=pr.forbid_cap_below_cost,
             rounding=pr.rounding),
        maybe("caps", prices=unit_prices(pr.caps)),
        maybe("reference_costs", prices=unit_prices(pr.reference_costs)),
        maybe("tiers", tiers=tuple(tiers)),
        maybe("discounts", discounts=disc),
        line("tax_included" if pr.tax.included_in_price else "tax_added", rate=pr.tax.rate,
             share=pr.holder_share),
        heading("mar"),
        line("mar_rule", rule=m.profit_rule, profit=profit, rate=p.allowed_profit_rate, over_mar=m.over_mar,
             months=m.period_months),
        line("mar_caps", trial=m.trial_caps, reset=m.reset_caps_on_close),
        heading("registration"),
        line("registration", scopes=_values(reg.mandatory_scopes), products=reg.products_mandatory,
             years=reg.validity_years, notice=reg.public_notice_working_days),
        line("renewal", window=reg.renewal_window_days, days=reg.objection_working_days,
             breach=reg.objection_breach, withdraws=reg.expiry_withdraws_listing),
        line("authorization", years=auth.max_term_years, institution=auth.implementing_institution_only,
             jurisdiction=auth.jurisdiction, plan=auth.plan_required),
        line("authorization_end", suspend=auth.suspend_grants_on_end, days=auth.exit_duty_working_days),
        heading("selection"),
        line("selection_grounds" if sel.direct_award == "grounds" else "selection", required=sel.required,
             direct_award=sel.direct_award, grounds=_values(sel.direct_award_grounds),
             applicants=sel.min_qualified_applicants, notice=sel.notice_working_days),
        line("qualification", level=q.min_security_level, capital=q.min_registered_capital,
             sanction_years=q.sanction_free_years, incident_years=q.incident_free_years),
        line("weights", weights=[
            ("summary.weight", {"criterion": (f"selection.criterion.{k}", {"raw": k}), "weight": v})
            for k, v in sel.weights.model_dump().items()
        ]),
        heading("deadlines"),
        line("deadlines", compliance=d.compliance, published=d.holder_published,
             unpublished=d.holder_unpublished,
             conditional=d.conditional_open, extension=d.conditional_open_extension, security=d.security),
        line("on_breach", outcome=d.on_breach),
        heading("calendar"),
        *(SummaryLine(key, params) for key, params in working_calendar(p).summary_items()),
        heading("routing"),
        line("grade_channels", general=_values(r.grade_channels.general),
             important=_values(r.grade_channels.important), core=_values(r.grade_channels.core)),
        line("raw_allowed" if r.raw_data_to_market else "raw_forbidden",
             processed=r.important_products_processed_only),
        line("open_by_default", grades=_values(r.open_by_default_grades)),
        line("product_stages_by_kind" if by_kind else "product_stages",
             stages=_values(r.stages.authorized_operation),
             by_kind=tuple(by_kind)),
        *(line("stage_source", stage=name, note=note)
          for name, note in r.stage_sources.model_dump().items() if note),
        heading("privacy"),
        line("privacy", k=p.privacy.k, l=p.privacy.l, suppression=p.privacy.suppression_budget,
             epsilon=p.privacy.epsilon_budget_per_resource, min_cell=p.privacy.min_cell_size,
             grades=_values(p.privacy.aggregate_only_grades)),
        heading("compute"),
        *(line("delivery", grade=g, modes=[
            ("summary.delivery_mode",
             {"channel": ch, "mode": getattr(getattr(c.delivery, g), ch).value})
            for ch in ("sharing", "opening", "authorized_operation")])
          for g in ("general", "important", "core")),
        line("compute_domains", domains=list(c.domains)),
        line("compute_limits", kinds=_values(c.kinds), per_query=c.epsilon_per_query_max,
             per_grant=c.epsilon_per_grant, per_requester=c.epsilon_per_requester, rows=c.max_result_rows,
             queries=c.queries_per_day, verifications=c.verifications_per_day),
        heading("sharing_lists"),
        line("sharing_lists", enabled=p.sharing_lists.enabled, binds=p.sharing_lists.binds_holder,
             publisher=(f"summary.publisher.{p.sharing_lists.publisher}", {})),
        heading("disclosure"),
        line("disclosure", frequency=p.disclosure.frequency, deadline=p.disclosure.deadline,
             publish=[("summary.item", {"item": k})
                      for k, v in p.disclosure.publish.model_dump().items() if v]),
    ]
    sources = tuple(
        SourceNote(key, note, cited_documents(note)) for key, note in sorted(p.sources.items())
    )
    return PolicySummary(p.name, p.version, p.description or "", tuple(lines), sources)
