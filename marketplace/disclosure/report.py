"""The yearly disclosure report as data: one pandas DataFrame per published table.

The framework puts disclosure at its centre (docs/policy-sources.md#disclosure): registrations,
authorizations, caps and actual prices are published once a year, and operators' revenue is tracked against
their maximum allowed revenue (MAR). `build_report` reads the database once and returns a `DisclosureReport`;
rendering (HTML, Markdown, CSV, JSON) lives in `render.py` so that the CLI and the widget panel share both
halves.

What is *never* in a report: accounts (people), their e-mail addresses, field values of any resource, request
fields/volumes of single requests, and use statements — unless the policy in force says
`disclosure.publish.use_statements = true`, or the statement is the viewer's own (`own_org_id`).

Choices worth knowing:
- A registration belongs to year Y when it was submitted or registered in Y, or was registered and still valid
  at some point of Y. Authorizations likewise when their term overlaps Y (or, without a term, created in Y).
- Request statistics count requests *submitted* in Y, grouped by channel and requester kind (the requesting
  organization's kind), with an `all` row per channel. "Approved" counts every request that reached an
  approval (approved, approved_with_conditions, granted, delivered, expired, revoked). Days to decision are
  calendar days from submission to decision. Deadline breaches count review stages whose due date was missed.
- MAR, revenue and compliance come from `workflows.price_formation.mar_positions`, i.e. from the one rule
  `policy.mar_position`: MAR as the regulator set it in advance for Y from the operator's cost filing (less
  the over-MAR revenue carried from Y-1), revenue = the fees the operator charged in Y. An operator without a
  MAR for Y (trial caps) is named in a note, not assessed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from marketplace.i18n import seeded_text, t
from marketplace.models import (
    AccessRequest,
    Authorization,
    AuthorizationResource,
    CapFiling,
    Organization,
    Payment,
    Product,
    ProductResource,
    Publication,
    Registration,
    Resource,
    RevenuePeriod,
    Review,
    SandboxSetting,
)
from marketplace.vocabulary import ProductStatus, RegistrationStatus, RegistrationSubject, RequestStatus

__all__ = [
    "APPROVED_STATES",
    "PUBLICATION_COLUMNS",
    "TABLES",
    "DisclosureReport",
    "build_report",
    "current_policy",
    "default_year",
    "party_publications",
    "sandbox_now",
    "table_title",
]

log = logging.getLogger(__name__)

APPROVED_STATES = frozenset(
    {
        RequestStatus.approved,
        RequestStatus.approved_with_conditions,
        RequestStatus.granted,
        RequestStatus.delivered,
        RequestStatus.expired,
        RequestStatus.revoked,
    }
)
# Statuses after which a product may appear in the public product list.
_PUBLIC_PRODUCT_STATES = (
    ProductStatus.registered,
    ProductStatus.priced,
    ProductStatus.listed,
    ProductStatus.withdrawn,
)

TABLES: tuple[str, ...] = (
    "registrations",
    "authorizations",
    "products",
    "requests",
    "revenue",
    "publications",
    "use_statements",
)


PUBLICATION_COLUMNS = [
    "party",
    "party_code",
    "role",
    "published",
    "published_on",
    "due",
    "timeliness",
    "working_days_late",
]


def table_title(name: str, lang: str | None = None) -> str:
    """The heading of table `name` in `lang` (default: the language in force)."""
    return t(f"report.table.{name}", lang)


@dataclass
class DisclosureReport:
    """Everything published for one year, as DataFrames keyed by table name (see `TABLES`).

    `note_keys` are the catalog keys of the notes (rendered in the reader's language); `notes` is their
    English, which the machine formats (CSV, JSON) publish.
    """

    year: int
    generated_at: datetime
    policy_name: str
    registrations: pd.DataFrame
    authorizations: pd.DataFrame
    products: pd.DataFrame
    requests: pd.DataFrame
    revenue: pd.DataFrame
    use_statements: pd.DataFrame | None = None
    publications: pd.DataFrame = field(default_factory=lambda: pd.DataFrame([], columns=PUBLICATION_COLUMNS))
    note_keys: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [t(key, "en") for key in self.note_keys]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published tables in display order (use statements only when published)."""
        out = {
            "registrations": self.registrations,
            "authorizations": self.authorizations,
            "products": self.products,
            "requests": self.requests,
            "revenue": self.revenue,
            "publications": self.publications,
        }
        if self.use_statements is not None:
            out["use_statements"] = self.use_statements
        return out

    def summary(self) -> dict[str, Any]:
        """Headline figures for the top of a report."""
        req = self.requests
        totals = req[req["requester_kind"] == "all"] if not req.empty else req
        return {
            "registrations": len(self.registrations),
            "authorizations": len(self.authorizations),
            "products": len(self.products),
            "requests_filed": int(totals["filed"].sum()) if not totals.empty else 0,
            "requests_approved": int(totals["approved"].sum()) if not totals.empty else 0,
            "operators_over_mar": int((~self.revenue["compliant"]).sum()) if not self.revenue.empty else 0,
            "disclosures_on_time": int((self.publications["timeliness"] == "on_time").sum()),
            "disclosures_late_or_missing": int(
                self.publications["timeliness"].isin(["late", "missing"]).sum()
            ),
        }


# ---------------------------------------------------------------- time and policy


def _naive_utc(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite and aware from some drivers; compare them all as naive UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _parse_clock(value: Any) -> datetime | None:
    if isinstance(value, dict):
        for key in ("now", "today", "start", "date", "value", "at"):
            if key in value:
                return _parse_clock(value[key])
        return None
    if isinstance(value, datetime):
        return _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return _naive_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def sandbox_now(session: Session) -> datetime | None:
    """The sandbox date (the one `marketplace clock show` gives) at midnight, naive UTC.

    A sandbox whose clock was never set runs on the default clock, like every workflow step: its date, not the
    wall calendar's, dates the report. Midnight rather than the wall time of day keeps a report of the same
    sandbox state byte-identical.
    """
    from marketplace.workflows.clock import today

    try:
        day = today(session)
    except (ValueError, TypeError, KeyError):  # an unreadable clock value still gets a report
        setting = session.get(SandboxSetting, "clock")
        return _parse_clock(setting.value) if setting is not None else None
    return datetime(day.year, day.month, day.day)


def default_year(session: Session) -> int:
    """The year of the sandbox clock once it is set; else the latest year with any data; else this calendar
    year."""
    now = sandbox_now(session) if session.get(SandboxSetting, "clock") is not None else None
    if now is not None:
        return now.year
    candidates: list[datetime] = []
    for col in (
        Registration.submitted_at,
        Registration.registered_at,
        AccessRequest.submitted_at,
        Payment.paid_at,
    ):
        latest = session.exec(select(sa.func.max(col))).one()
        if isinstance(latest, datetime):
            candidates.append(_naive_utc(latest))
    latest_start = session.exec(select(sa.func.max(Authorization.term_start))).one()
    if isinstance(latest_start, date):
        candidates.append(datetime(latest_start.year, 1, 1))
    latest_period = session.exec(select(sa.func.max(RevenuePeriod.year))).one()
    if latest_period:
        candidates.append(datetime(int(latest_period), 1, 1))
    return max(candidates).year if candidates else datetime.now(UTC).year


def current_policy(session: Session) -> Any | None:
    """The policy in force: the workflows' view when available, else the `policy` setting, else national-2025.

    Returns None (with a log line) when no policy file can be loaded; the report then publishes the safe
    defaults (no use statements) and computes MAR without a profit-rate cap.
    """
    try:
        from marketplace.workflows.facts import current_policy as facts_policy
    except ImportError:
        facts_policy = None
    if facts_policy is not None:
        try:
            return facts_policy(session)
        except Exception as exc:  # a sandbox without a policy setting still gets a report
            log.info("workflows policy unavailable (%s); falling back", exc)
    try:
        from marketplace.policy import load_policy
    except ImportError:
        return None
    setting = session.get(SandboxSetting, "policy")
    name = setting.value if setting is not None else None
    if isinstance(name, dict):
        name = name.get("name")
    for candidate in (name, "national-2025"):
        if not candidate:
            continue
        try:
            return load_policy(str(candidate))
        except Exception as exc:
            log.info("policy %r cannot be loaded: %s", candidate, exc)
    return None


def _publish(policy: Any | None, flag: str, default: bool) -> bool:
    try:
        return bool(getattr(policy.disclosure.publish, flag))
    except AttributeError:
        return default


# ---------------------------------------------------------------- tables


def _year_bounds(year: int) -> tuple[datetime, datetime, date, date]:
    """(start, end) as aware UTC datetimes for SQL filters, and the first and last day of the year."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return start, end, date(year, 1, 1), date(year, 12, 31)


def _in_year(value: datetime | None, year: int) -> bool:
    value = _naive_utc(value)
    return value is not None and value.year == year


def _to_date(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    return _naive_utc(value).date() if isinstance(value, datetime) else value


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _registrations(session: Session, year: int) -> pd.DataFrame:
    _, end_dt, start_d, _ = _year_bounds(year)
    columns = [
        "code",
        "subject",
        "subject_code",
        "subject_title",
        "holder",
        "type",
        "status",
        "registered_on",
        "valid_until",
    ]
    rows = []
    for reg in session.exec(select(Registration).order_by(Registration.id)).all():
        registered = _naive_utc(reg.registered_at)
        end_naive = _naive_utc(end_dt)
        valid_in_year = (
            registered is not None
            and registered < end_naive
            and (reg.valid_until is None or reg.valid_until >= start_d)
        )
        if not (_in_year(reg.submitted_at, year) or _in_year(reg.registered_at, year) or valid_in_year):
            continue
        if reg.subject == RegistrationSubject.resource and reg.resource is not None:
            code, title, holder = reg.resource.code, reg.resource.title, reg.resource.holder.name
        elif reg.product is not None:
            code, title, holder = reg.product.code, reg.product.name, reg.product.operator.name
        else:
            code = title = holder = ""
        rows.append(
            {
                "code": reg.code or "",
                "subject": reg.subject.value,
                "subject_code": code,
                "subject_title": title,
                "holder": holder,
                "type": reg.type.value,
                "status": reg.status.value,
                "registered_on": _to_date(reg.registered_at),
                "valid_until": reg.valid_until,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _authorizations(session: Session, year: int) -> pd.DataFrame:
    _, _, start_d, end_d = _year_bounds(year)
    columns = [
        "code",
        "agency",
        "operator",
        "model",
        "sector",
        "scope",
        "status",
        "term_start",
        "term_end",
        "term_years",
    ]
    scope: dict[int, list[str]] = defaultdict(list)
    for auth_id, res_code in session.exec(
        select(AuthorizationResource.authorization_id, Resource.code)
        .join(Resource, Resource.id == AuthorizationResource.resource_id)
        .order_by(Resource.code)
    ).all():
        scope[auth_id].append(res_code)
    rows = []
    for auth in session.exec(select(Authorization).order_by(Authorization.code)).all():
        if auth.term_start is not None:
            overlaps = auth.term_start <= end_d and (auth.term_end is None or auth.term_end >= start_d)
        else:
            overlaps = _in_year(auth.created_at, year)
        if not overlaps:
            continue
        years = None
        if auth.term_start and auth.term_end:
            years = round((auth.term_end - auth.term_start).days / 365.25, 1)
        rows.append(
            {
                "code": auth.code,
                "agency": auth.agency.name,
                "operator": auth.operator.name,
                "model": auth.model.value,
                "sector": auth.sector,
                "scope": ", ".join(scope[auth.id]),
                "status": auth.status.value,
                "term_start": auth.term_start,
                "term_end": auth.term_end,
                "term_years": years,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _filing_text(filing: CapFiling | None) -> str:
    """How a cap was filed: code, date, basis, provisional or within MAR ("" = the policy's ceiling)."""
    if filing is None:
        return ""
    kind = t("report.filing.provisional" if filing.provisional else "report.filing.within_mar")
    basis = f"; {seeded_text(filing.basis)}" if filing.basis else ""
    return f"{filing.code}, {_naive_utc(filing.filed_at):%Y-%m-%d}, {kind}{basis}"


def _products(session: Session, year: int, policy: Any | None, note_keys: list[str]) -> pd.DataFrame:
    _, end_dt, _, _ = _year_bounds(year)
    columns = [
        "code",
        "name",
        "operator",
        "kind",
        "billing_unit",
        "price_cap",
        "cap_filing",
        "actual_price",
        "status",
        "registration",
        "resources",
    ]
    if not _publish(policy, "product_lists", True):
        note_keys.append("report.note.product_lists_withheld")
        return pd.DataFrame([], columns=columns)
    sources: dict[int, list[str]] = defaultdict(list)
    for prod_id, res_code in session.exec(
        select(ProductResource.product_id, Resource.code)
        .join(Resource, Resource.id == ProductResource.resource_id)
        .order_by(Resource.code)
    ).all():
        sources[prod_id].append(res_code)
    filings: dict[int, CapFiling] = {}
    for filing in session.exec(
        select(CapFiling).where(CapFiling.year == year, CapFiling.status == "in_force").order_by(CapFiling.id)
    ).all():
        filings[filing.product_id] = filing  # the latest in force of the year
    rows = []
    query = select(Product).where(Product.status.in_(_PUBLIC_PRODUCT_STATES)).order_by(Product.code)
    for prod in session.exec(query).all():
        created = _naive_utc(prod.created_at)
        if created is not None and created >= _naive_utc(end_dt):
            continue
        codes = [r.code for r in prod.registrations if r.code and r.status == RegistrationStatus.registered]
        rows.append(
            {
                "code": prod.code,
                "name": prod.name,
                "operator": prod.operator.name,
                "kind": prod.kind.value,
                "billing_unit": prod.billing_unit.value,
                "price_cap": _money(prod.price_cap),
                "cap_filing": _filing_text(filings.get(prod.id)),
                "actual_price": _money(prod.actual_price),
                "status": prod.status.value,
                "registration": ", ".join(codes),
                "resources": ", ".join(sources[prod.id]),
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    if not _publish(policy, "caps", True):
        frame = frame.drop(columns=["price_cap", "cap_filing"])
        note_keys.append("report.note.caps_withheld")
    if not _publish(policy, "prices", True):
        frame = frame.drop(columns=["actual_price"])
        note_keys.append("report.note.prices_withheld")
    return frame


def _requests(session: Session, year: int) -> pd.DataFrame:
    start_dt, end_dt, _, _ = _year_bounds(year)
    columns = [
        "channel",
        "requester_kind",
        "filed",
        "approved",
        "rejected",
        "withdrawn",
        "pending",
        "median_days",
        "p90_days",
        "deadline_breaches",
    ]
    breaches = dict(
        session.exec(
            select(Review.request_id, sa.func.count())
            .where(Review.breached.is_(True))
            .group_by(Review.request_id)
        ).all()
    )
    query = (
        select(
            AccessRequest.id,
            AccessRequest.channel,
            Organization.kind,
            AccessRequest.status,
            AccessRequest.submitted_at,
            AccessRequest.decided_at,
        )
        .join(Organization, Organization.id == AccessRequest.requester_org_id)
        .where(AccessRequest.submitted_at >= start_dt, AccessRequest.submitted_at < end_dt)
    )
    raw = session.exec(query).all()
    if not raw:
        return pd.DataFrame([], columns=columns)
    df = pd.DataFrame(
        raw, columns=["id", "channel", "requester_kind", "status", "submitted_at", "decided_at"]
    )
    for col in ("channel", "requester_kind", "status"):
        df[col] = df[col].map(lambda v: getattr(v, "value", v))
    for col in ("submitted_at", "decided_at"):
        df[col] = pd.to_datetime(df[col].map(_naive_utc))
    df["approved"] = df["status"].isin([s.value for s in APPROVED_STATES])
    df["rejected"] = df["status"] == RequestStatus.rejected.value
    df["withdrawn"] = df["status"] == RequestStatus.withdrawn.value
    df["pending"] = ~(df["approved"] | df["rejected"] | df["withdrawn"])
    decided = df["approved"] | df["rejected"]
    df["days"] = ((df["decided_at"] - df["submitted_at"]).dt.total_seconds() / 86400).where(decided)
    df["breaches"] = df["id"].map(breaches).fillna(0).astype(int)

    def _stats(frame: pd.DataFrame) -> pd.DataFrame:
        grouped = frame.groupby(["channel", "requester_kind"], sort=True)
        return grouped.agg(
            filed=("id", "size"),
            approved=("approved", "sum"),
            rejected=("rejected", "sum"),
            withdrawn=("withdrawn", "sum"),
            pending=("pending", "sum"),
            median_days=("days", "median"),
            p90_days=("days", lambda s: s.quantile(0.9)),
            deadline_breaches=("breaches", "sum"),
        ).reset_index()

    per_kind = _stats(df)
    per_channel = _stats(df.assign(requester_kind="all"))
    out = pd.concat([per_kind, per_channel], ignore_index=True)
    out["_order"] = (out["requester_kind"] == "all").astype(int)
    out = (
        out.sort_values(["channel", "_order", "requester_kind"]).drop(columns="_order").reset_index(drop=True)
    )
    for col in ("filed", "approved", "rejected", "withdrawn", "pending", "deadline_breaches"):
        out[col] = out[col].astype(int)
    for col in ("median_days", "p90_days"):
        out[col] = out[col].astype(float).round(1)
    return out[columns]


def _revenue(session: Session, year: int, policy: Any | None, note_keys: list[str]) -> pd.DataFrame:
    columns = ["operator", "revenue", "mar", "deduction", "headroom", "share_of_mar", "compliant", "basis"]
    if not _publish(policy, "mar_compliance", True):
        note_keys.append("report.note.mar_withheld")
        return pd.DataFrame([], columns=columns)
    if policy is None:
        note_keys.append("report.note.mar_needs_policy")
        return pd.DataFrame([], columns=columns)
    from marketplace.workflows.price_formation import mar_positions

    rows = []
    for op in mar_positions(session, year, policy):
        pos = op.position
        rows.append(
            {
                "operator": op.operator,
                "revenue": float(pos.revenue),
                "mar": float(pos.mar),
                "deduction": float(pos.deduction),
                "headroom": float(pos.headroom),
                "share_of_mar": pos.share_of_mar,
                "compliant": pos.compliant,
                "basis": f"MAR set from {op.cost_filing or 'a cost filing'}"
                + ("; period closed" if op.closed else "; period open"),
            }
        )
    start_dt, end_dt, _, _ = _year_bounds(year)
    determined = select(RevenuePeriod.operator_id).where(
        RevenuePeriod.year == year, RevenuePeriod.determined_at.is_not(None)
    )
    unset = session.exec(
        select(sa.func.count(sa.distinct(Payment.operator_id))).where(
            Payment.paid_at >= start_dt,
            Payment.paid_at < end_dt,
            Payment.operator_id.is_not(None),
            Payment.operator_id.not_in(determined),
        )
    ).one()
    if unset:
        note_keys.append("report.note.mar_unset")
    return pd.DataFrame(rows, columns=columns)


def _use_statements(session: Session, year: int, public: bool, own_org_id: int | None) -> pd.DataFrame | None:
    if not public and own_org_id is None:
        return None
    start_dt, end_dt, _, _ = _year_bounds(year)
    query = (
        select(AccessRequest, Organization.name)
        .join(Organization, Organization.id == AccessRequest.requester_org_id)
        .where(AccessRequest.submitted_at >= start_dt, AccessRequest.submitted_at < end_dt)
        .order_by(AccessRequest.code)
    )
    if not public:
        query = query.where(AccessRequest.requester_org_id == own_org_id)
    rows = []
    for req, org_name in session.exec(query).all():
        target = req.resource.code if req.resource is not None else (req.product.code if req.product else "")
        rows.append(
            {
                "request": req.code,
                "requester": org_name,
                "channel": req.channel.value,
                "target": target,
                "purpose": req.purpose.value,
                "status": req.status.value,
                "use_statement": req.use_statement,
            }
        )
    return pd.DataFrame(
        rows, columns=["request", "requester", "channel", "target", "purpose", "status", "use_statement"]
    )


def party_publications(session: Session, year: int, policy: Any | None = None) -> pd.DataFrame:
    """What each implementing institution and operator published for `year`, with its timeliness.

    One row per party with a duty for the year (an authorization in force during it) or a publication
    recorded for it: published or not, the publication date, the deadline, and on time / late / missing /
    not yet due with the working days past the deadline (`policy.publication_timeliness`, counted on the
    sandbox clock's date for a missing one).
    """
    from marketplace.policy import disclosure_due, publication_timeliness
    from marketplace.workflows.disclosures import duty_holders

    policy = policy if policy is not None else current_policy(session)
    if policy is None:
        return pd.DataFrame([], columns=PUBLICATION_COLUMNS)
    now = sandbox_now(session)
    today = now.date() if now is not None else date.today()
    pubs = {p.party_id: p for p in session.exec(select(Publication).where(Publication.year == year)).all()}
    parties: dict[int, tuple[Organization, str]] = {
        o.id: (o, role) for o, role in duty_holders(session, year)
    }
    for party_id, pub in pubs.items():
        if party_id not in parties:
            parties[party_id] = (session.get(Organization, party_id), pub.role)
    rows = []
    for org, role in sorted(parties.values(), key=lambda x: (x[1] != "institution", x[0].code)):
        pub = pubs.get(org.id)
        due = pub.due if pub is not None else disclosure_due(policy, year)
        published_on = _to_date(pub.published_at) if pub is not None else None
        timely = publication_timeliness(policy, due=due, published_on=published_on, today=today)
        rows.append(
            {
                "party": org.name,
                "party_code": org.code,
                "role": role,
                "published": published_on is not None,
                "published_on": published_on,
                "due": due,
                "timeliness": timely.status,
                "working_days_late": timely.working_days_late,
            }
        )
    return pd.DataFrame(rows, columns=PUBLICATION_COLUMNS)


def build_report(
    session: Session, year: int | None = None, *, own_org_id: int | None = None, policy: Any | None = None
) -> DisclosureReport:
    """Read everything published for `year` (default: `default_year`) into a `DisclosureReport`.

    `own_org_id`: the viewing organization, whose own use statements may be shown even when the policy keeps
    use statements confidential. `policy`: the policy to apply (default: the one in force).
    """
    year = default_year(session) if year is None else int(year)
    if policy is None:
        policy = current_policy(session)
    note_keys: list[str] = []
    if policy is None:
        note_keys.append("report.note.no_policy")
    public_use = _publish(policy, "use_statements", False)
    report = DisclosureReport(
        year=year,
        generated_at=sandbox_now(session) or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        policy_name=getattr(policy, "name", "") or "",
        registrations=_registrations(session, year),
        authorizations=_authorizations(session, year),
        products=_products(session, year, policy, note_keys),
        requests=_requests(session, year),
        revenue=_revenue(session, year, policy, note_keys),
        use_statements=_use_statements(session, year, public_use, own_org_id),
        publications=party_publications(session, year, policy),
        note_keys=note_keys,
    )
    if not public_use:
        own = own_org_id is not None
        note_keys.append("report.note.use_statements_own" if own else "report.note.use_statements_withheld")
    return report
