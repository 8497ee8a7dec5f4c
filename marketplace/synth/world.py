"""The synthetic world: parties, accounts, the catalog, authorized operation and registrations, from a seed
alone.

`build_world` works in memory (no database) and returns plain rows keyed by table name, with explicit ids and
timestamps derived from the sandbox epoch, so the same seed gives the same rows and `persist_world` can write
them with one bulk insert per table. The counts, names, regions and templates come from seed/world and
seed/templates.

Grades, sharing and opening attributes come from the templates and follow the national-2025 grade -> channel
rule (docs/policy-sources.md#grades-and-channels): core data has no channel (not shared, not open, never in an
authorization scope); important data is shared or operated (de-identified/aggregated products only) but never
opened; general data is open, conditionally when it contains personal information. `check_world` verifies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from faker import Faker

from marketplace.codes import make_code
from marketplace.synth.spec import (
    FieldSpec,
    Template,
    check_locale,
    check_seed,
    check_size,
    domain_labels,
    epoch,
    regions,
    templates,
    world_spec,
)
from marketplace.synth.tables import fake_company
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    BillingUnit,
    Channel,
    EnterpriseSize,
    FieldMarking,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    PlanStatus,
    ProductKind,
    ProductStatus,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    Role,
    SelectionMethod,
    SelectionStatus,
    SharingAttribute,
)

__all__ = ["ResourceSpec", "World", "build_part", "build_world", "check_world"]

CENT = Decimal("0.01")
DEFAULT_POLICY = "national-2025"  # the policy the seeded world is consistent with
TABLE_ORDER = (
    "organization",
    "account",
    "accountrole",
    "resource",
    "resourcefield",
    "designation",
    "implementationplan",
    "planresource",
    "selectionround",
    "selectionresource",
    "selectionapplication",
    "authorization",
    "authorizationresource",
    "product",
    "productresource",
    "registration",
    "costfiling",
    "revenueperiod",
    "capfiling",
    "sharinglist",
    "sharinglistentry",
    "sandboxsetting",
)


@dataclass(frozen=True)
class ResourceSpec:
    """A world resource as `rows()` and callers see it: the resource row as attributes, plus `.fields`."""

    row: dict[str, Any]
    fields: list[FieldSpec]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def contains_personal_info(self) -> bool:
        return any(f.marking is not FieldMarking.other for f in self.fields)


@dataclass
class World:
    """Rows of every seeded table, keyed by table name (explicit ids; FK order = TABLE_ORDER)."""

    seed: int
    size: str
    locale: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {name: len(self.tables.get(name, [])) for name in TABLE_ORDER}
        out.update((name, len(rows)) for name, rows in self.tables.items() if name not in out)
        return out

    @property
    def organizations(self) -> list[dict[str, Any]]:
        return self.tables["organization"]

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.tables["account"]

    @property
    def resources(self) -> list[ResourceSpec]:
        by_res: dict[int, list[FieldSpec]] = {}
        for f in self.tables["resourcefield"]:
            by_res.setdefault(f["resource_id"], []).append(
                FieldSpec(f["name"], f["dtype"], f["marking"], f["generator"], f["params"])
            )
        return [ResourceSpec(r, by_res.get(r["id"], [])) for r in self.tables["resource"]]

    def resource(self, code_or_template: str) -> ResourceSpec:
        for r in self.resources:
            if code_or_template in (r.code, r.template):
                return r
        raise KeyError(code_or_template)

    def roles_of(self, username: str) -> set[Role]:
        acc = next(a for a in self.accounts if a["username"] == username)
        return {r["role"] for r in self.tables["accountrole"] if r["account_id"] == acc["id"]}


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(CENT, rounding=ROUND_HALF_UP)


def _add_years(d: date, years: int) -> date:
    return (
        d.replace(year=d.year + years, day=28)
        if (d.month, d.day) == (2, 29)
        else d.replace(year=d.year + years)
    )


def _allocate(total: int, weights: dict[str, float]) -> list[str]:
    """Largest-remainder split of `total` items over the keys (every key with a weight gets at least one)."""
    keys = list(weights)
    w = np.array([weights[k] for k in keys], float)
    raw = w / w.sum() * total
    n = np.maximum(np.floor(raw).astype(int), 1 if total >= len(keys) else 0)
    while n.sum() < total:
        n[int(np.argmax(raw - n))] += 1
    while n.sum() > total:
        n[int(np.argmax(n))] -= 1
    return [k for k, c in zip(keys, n, strict=True) for _ in range(c)]


class _Builder:
    """Builds one world. The keyword options serve the `national` world (marketplace.synth.national), whose
    regions are built one at a time: `cities`/`sizes` replace the size's, `id_base` offsets every id (the
    region's id block), `user_suffix` ends every username, `stream` is extra entropy for every generator and
    `list_batches` = (batches, interval in days) spreads the sharing lists over publication batches; a
    `sizes["operations_scale"]` scales what its operators' costs and forecasts take from the demand they serve
    (`price_formation`). With the defaults the world is exactly the size's."""

    def __init__(
        self,
        seed: int,
        size: str,
        locale: str,
        *,
        cities: list[dict[str, Any]] | None = None,
        sizes: dict[str, Any] | None = None,
        id_base: int = 0,
        user_suffix: str = "",
        stream: tuple[int, ...] = (),
        list_batches: tuple[int, int] | None = None,
    ) -> None:
        self.seed, self.size, self.locale = seed, size, locale
        self.spec = world_spec()
        self.sizes = sizes if sizes is not None else self.spec["sizes"][size]
        self.cities = cities if cities is not None else regions(locale)["cities"][: self.sizes["regions"]]
        self.multi = len(self.cities) > 1
        self.id_base, self.user_suffix, self.stream = id_base, user_suffix, tuple(stream)
        self.list_batches = list_batches
        # the demand its operators serve, relative to a province-world region's (national regions)
        self.operations_scale = Decimal(str(self.sizes.get("operations_scale", 1)))
        self.rng = np.random.default_rng([seed, 2025, *self.stream])
        self.fake = Faker(locale)
        self.fake.seed_instance(seed if not self.stream else "/".join(map(str, (seed, *self.stream))))
        self.epoch = epoch().astimezone(UTC)
        self.t: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_ORDER}
        self.dept: dict[tuple[str, int], dict[str, Any]] = {}  # (key, region index) -> organization row
        self.stewards: dict[int, int] = {}  # org id -> steward account id
        self.registrar: dict[int, int] = {}  # region index -> registrar account id
        self.operator_account: dict[int, int] = {}  # operator org id -> account id
        self.zh = locale == "zh_CN"

    # ------------------------------------------------------------ helpers
    def next_id(self, table: str) -> int:
        """The id the next row of `table` gets (inside the world's id block)."""
        return self.id_base + len(self.t[table]) + 1

    def days_before(self, lo: int, hi: int) -> datetime:
        return self.epoch - timedelta(days=int(self.rng.integers(lo, hi)))

    def name_for(self, city: dict[str, Any], name: str) -> str:
        return f"{city['name']}{name}" if self.zh else f"{city['name']} {name}"

    def user(self, base: str, region: int | None) -> str:
        return f"{base}.{self.cities[region]['slug']}" if self.multi and region is not None else base

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        rows = self.t[table]
        if "id" not in row and table not in (
            "authorizationresource", "productresource", "planresource", "selectionresource", "sandboxsetting"
        ):
            row = {"id": self.next_id(table), **row}
        rows.append(row)
        return row

    def org(
        self,
        kind: OrganizationKind,
        name: str,
        region: int,
        *,
        sector: str = "",
        size: EnterpriseSize | None = None,
    ) -> dict[str, Any]:
        oid = self.next_id("organization")
        return self.add(
            "organization",
            {
                "id": oid,
                "code": make_code("organization", oid),
                "name": name,
                "kind": kind,
                "size": size,
                "region": self.cities[region]["name"],
                "sector": sector,
                "version": 1,
                "created_at": self.days_before(400, 4000),
            },
        )

    def account(self, username: str, org: dict[str, Any], roles: list[Role]) -> dict[str, Any]:
        username += self.user_suffix
        acc = self.add(
            "account",
            {
                "username": username,
                "display_name": self.fake.name(),
                "email": f"{username}@{org['code'].lower()}.example.org",
                "organization_id": org["id"],
                "active": True,
                "version": 1,
                "created_at": self.days_before(30, 400),
            },
        )
        for role in roles:
            self.add("accountrole", {"account_id": acc["id"], "role": role})
        return acc

    # ------------------------------------------------------------ parties
    def parties(self) -> None:
        domain_label = domain_labels()
        for r, city in enumerate(self.cities):
            for d in self.spec["departments"]:
                label = domain_label.get(d["domain"], {}).get(self.locale, "")
                o = self.org(
                    OrganizationKind.department, self.name_for(city, d[self.locale]), r, sector=label
                )
                self.dept[(d["key"], r)] = o
                self.account(self.user(f"req.{d['key']}", r), o, [Role.requester])
                if d["domain"]:
                    self.stewards[o["id"]] = self.account(
                        self.user(f"steward.{d['key']}", r), o, [Role.steward]
                    )["id"]
                if d.get("registrar"):
                    self.registrar[r] = self.account(
                        self.user(f"registrar.{d['key']}", r), o, [Role.registrar]
                    )["id"]
                    self.account(self.user(f"security.{d['key']}", r), o, [Role.security_reviewer])
                    self.account(self.user("trainer", r), o, [Role.trainer])
            for inst in self.spec["institutions"][: self.sizes["institutions_per_region"]]:
                label = domain_label.get(inst["domain"], {}).get(self.locale, "")
                o = self.org(
                    OrganizationKind.institution, self.name_for(city, inst[self.locale]), r, sector=label
                )
                self.dept[(inst["key"], r)] = o
                self.account(self.user(f"req.{inst['key']}", r), o, [Role.requester])
                self.stewards[o["id"]] = self.account(
                    self.user(f"steward.{inst['key']}", r), o, [Role.steward]
                )["id"]
        self.enterprises()
        self.others()

    def region_draw(self, n: int) -> np.ndarray:
        w = np.array([c["weight"] for c in self.cities], float)
        return self.rng.choice(len(self.cities), size=n, p=w / w.sum())

    def enterprises(self) -> None:
        n = self.sizes["enterprises"]
        sizes = _allocate(n, self.spec["enterprise_sizes"])
        self.rng.shuffle(sizes)
        seen: set[str] = set()
        where = self.region_draw(n)
        sectors = self.spec["sectors"]
        for i in range(n):
            name = fake_company(self.fake, self.locale)
            tries = 0
            while name in seen:
                tries += 1
                name = fake_company(self.fake, self.locale) if tries < 20 else f"{name} {tries}"
            seen.add(name)
            o = self.org(
                OrganizationKind.enterprise,
                name,
                int(where[i]),
                sector=sectors[int(self.rng.integers(len(sectors)))],
                size=EnterpriseSize(sizes[i]),
            )
            self.account(f"req-ent-{i + 1:03d}", o, [Role.requester])

    def others(self) -> None:
        names = self.spec["names"]
        plan = [
            (OrganizationKind.research, "research", "req-res"),
            (OrganizationKind.nonprofit, "nonprofit", "req-npo"),
        ]
        for kind, key, prefix in plan:
            n = self.sizes["research" if key == "research" else "nonprofits"]
            pool = names[key][self.locale]
            for i in range(n):
                r = i % len(self.cities)
                o = self.org(
                    kind,
                    self.name_for(self.cities[r], pool[(i // len(self.cities)) % len(pool)]),
                    r,
                    sector=key,
                )
                if (i // len(self.cities)) >= len(pool):  # more organizations than names: number them
                    o["name"] += f" {i // (len(self.cities) * len(pool)) + 1}"
                self.account(f"{prefix}-{i + 1:03d}", o, [Role.requester])
        n_op = self.sizes["operators"]
        for i in range(n_op):
            r = i % len(self.cities)
            pool = names["operator"][self.locale]
            o = self.org(
                OrganizationKind.operator,
                self.name_for(self.cities[r], pool[i // len(self.cities) % len(pool)]),
                r,
            )
            acc = self.account(f"operator-{i + 1:02d}", o, [Role.operator])
            self.operator_account[o["id"]] = acc["id"]
        n_reg = self.sizes["regulators"]
        for i in range(n_reg):
            r = i % len(self.cities)
            o = self.org(
                OrganizationKind.regulator, self.name_for(self.cities[r], names["regulator"][self.locale]), r
            )
            self.account("regulator" if n_reg == 1 else f"regulator-{i + 1:02d}", o, [Role.regulator])

    # ------------------------------------------------------------ catalog
    def catalog(self) -> None:
        weights = np.array([c["weight"] for c in self.cities], float)
        weights = weights / weights.max()
        public = {e["key"] for e in self.spec.get("public_enterprises", [])}
        for r, city in enumerate(self.cities):
            for _copy in range(self.sizes["resource_copies"]):
                for tpl in templates():
                    if tpl.holder not in public:  # built last, by `public_services`
                        self.resource(tpl, r, city, float(weights[r]))

    def resource(self, tpl: Template, r: int, city: dict[str, Any], weight: float) -> None:
        holder = self.dept[(tpl.holder, r)]
        rid = self.next_id("resource")
        row_count = max(100, int(tpl.rows * (0.3 + 0.7 * weight) * self.rng.lognormal(0, 0.25)))
        cost = _dec(row_count * tpl.cost_per_record * self.rng.uniform(0.8, 1.2) + 5000)
        title = tpl.title[self.locale]
        title = f"{city['name']}{title}" if self.zh else f"{title}, {city['name']}"
        freq = tpl.update_frequency
        desc = (
            f"{title}：由{holder['name']}持有，更新频率 {freq}。"
            if self.zh
            else f"{title}: held by {holder['name']}, updated {freq}."
        )
        shared = tpl.sharing is not SharingAttribute.not_shared
        self.add(
            "resource",
            {
                "id": rid,
                "code": make_code("resource", rid),
                "title": title,
                "domain": tpl.domain,
                "description": desc,
                "holder_id": holder["id"],
                "grade": tpl.grade,
                "sharing_attribute": tpl.sharing,
                "opening_attribute": tpl.opening,
                "update_frequency": freq,
                "row_count": row_count,
                "cost_basis": cost,
                "template": tpl.name,
                "keywords": [*tpl.keywords, tpl.domain],
                "published": bool(shared and self.rng.random() < 0.7),
                "epsilon_budget": None,
                "source": "seed",
                "version": 1,
                "created_at": self.days_before(60, 1500),
            },
        )
        for pos, f in enumerate(tpl.fields):
            self.add(
                "resourcefield",
                {
                    "resource_id": rid,
                    "position": pos,
                    "name": f.name,
                    "dtype": f.dtype,
                    "marking": f.marking,
                    "description": "",
                    "generator": f.generator,
                    "params": dict(f.params),
                },
            )

    # ------------------------------------------------------------ authorized operation
    def registration(
        self,
        subject: RegistrationSubject,
        target_id: int,
        applicant: int | None,
        registrar: int | None,
        submitted: datetime,
    ) -> dict[str, Any]:
        notice_until = (submitted + timedelta(days=14)).date()
        registered = datetime.combine(notice_until + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
            hours=9
        )
        reg_id = self.next_id("registration")
        tag = "R" if subject is RegistrationSubject.resource else "P"
        return self.add(
            "registration",
            {
                "id": reg_id,
                "code": make_code("registration", reg_id, year=registered.year, tag=tag),
                "subject": subject,
                "resource_id": target_id if subject is RegistrationSubject.resource else None,
                "product_id": target_id if subject is RegistrationSubject.product else None,
                "type": RegistrationType.initial,
                "status": RegistrationStatus.registered,
                "applicant_id": applicant,
                "registrar_id": registrar,
                "previous_id": None,
                "submitted_at": submitted,
                "notice_until": notice_until,
                "registered_at": registered,
                "valid_until": _add_years(registered.date(), 3),
                "reason": "",
                "details": {},
                "version": 1,
            },
        )

    def operation(self) -> None:
        resources = self.t["resource"]
        fields_by_res: dict[int, bool] = {}
        for f in self.t["resourcefield"]:
            fields_by_res[f["resource_id"]] = (
                fields_by_res.get(f["resource_id"], False) or f["marking"] is not FieldMarking.other
            )
        region_of = {o["id"]: o["region"] for o in self.t["organization"]}
        free: dict[str, list[dict[str, Any]]] = {}
        for res in resources:  # candidates: important or general (core never has a channel)
            if res["grade"] is not Grade.core:
                free.setdefault(region_of[res["holder_id"]], []).append(res)
        registered: set[int] = set()
        pspec = self.spec["products"]
        operators = [o for o in self.t["organization"] if o["kind"] is OrganizationKind.operator]
        for i, op in enumerate(operators):
            r = next(k for k, c in enumerate(self.cities) if c["name"] == op["region"])
            pool = free[op["region"]]
            model = AuthorizationModel.overall if i % 2 == 0 else AuthorizationModel.by_sector
            sector = ""
            if model is AuthorizationModel.by_sector:
                by_domain: dict[str, int] = {}
                for res in pool:
                    by_domain[res["domain"]] = by_domain.get(res["domain"], 0) + 1
                rich = sorted(d for d, c in by_domain.items() if c >= 2)
                if rich:
                    sector = rich[int(self.rng.integers(len(rich)))]
                    scope = [res for res in pool if res["domain"] == sector]
                else:
                    model = AuthorizationModel.overall
            if model is AuthorizationModel.overall:
                k = min(len(pool), int(self.rng.integers(4, 8)))
                picked = sorted(self.rng.choice(len(pool), size=k, replace=False).tolist()) if k else []
                scope = [pool[j] for j in picked]
            if not scope:
                continue
            chosen = {res["id"] for res in scope}
            free[op["region"]] = [res for res in pool if res["id"] not in chosen]
            start = date(2024, int(self.rng.integers(1, 13)), 1)
            years = int(self.rng.integers(3, 6))
            end = date(start.year + years, start.month, 1) - timedelta(days=1)
            created = datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=30)
            agency = self.dept[("data-bureau", r)]
            aid = self.next_id("authorization")
            self.add(
                "authorization",
                {
                    "id": aid,
                    "code": make_code("authorization", aid, year=start.year),
                    "agency_id": agency["id"],
                    "operator_id": op["id"],
                    "model": model,
                    "sector": sector,
                    "status": AuthorizationStatus.active,
                    "term_start": start,
                    "term_end": end,
                    "version": 1,
                    "created_at": created,
                },
            )
            for res in scope:
                self.add("authorizationresource", {"authorization_id": aid, "resource_id": res["id"]})
                if res["id"] not in registered:
                    registered.add(res["id"])
                    self.registration(
                        RegistrationSubject.resource,
                        res["id"],
                        self.stewards.get(res["holder_id"]),
                        self.registrar.get(r),
                        created - timedelta(days=int(self.rng.integers(20, 90))),
                    )
            for _ in range(int(self.rng.integers(2, 5))):
                self.product(
                    op, aid, scope, pspec, datetime.combine(start, datetime.min.time(), UTC), r, fields_by_res
                )

    def product(
        self,
        op: dict[str, Any],
        aid: int,
        scope: list[dict[str, Any]],
        pspec: dict[str, Any],
        start: datetime,
        r: int,
        personal: dict[int, bool],
    ) -> None:
        kind = ProductKind([k.value for k in ProductKind][int(self.rng.integers(3))])
        units = pspec[kind.value]["billing_units"]
        unit = BillingUnit(units[int(self.rng.integers(len(units)))])
        n_src = min(len(scope), int(self.rng.integers(1, 3)))
        sources = [scope[j] for j in sorted(self.rng.choice(len(scope), size=n_src, replace=False).tolist())]
        important = any(s["grade"] is Grade.important for s in sources)
        if kind is ProductKind.report:
            transformation = "aggregated"
        else:
            options = ["deidentified", "aggregated"] if important else ["deidentified", "aggregated", "model"]
            if not any(personal.get(s["id"]) for s in sources) and not important:
                options = ["aggregated", "model", "deidentified"]
            transformation = options[int(self.rng.integers(len(options)))]
        report = kind is ProductKind.report
        lo, hi = pspec["max_cap"]["report_cost"] if report else pspec["cost"][unit.value]
        max_cap = Decimal(pspec["max_cap"]["report_per_product" if report else unit.value])
        lo_d, hi_d = Decimal(lo), Decimal(hi)
        unit_cost = (lo_d + (hi_d - lo_d) * Decimal(repr(round(float(self.rng.random()), 4)))).quantize(CENT)
        markup = Decimal(repr(round(float(self.rng.uniform(1.2, 2.5)), 3)))
        cap = min((unit_cost * markup).quantize(CENT, rounding=ROUND_DOWN), max_cap)
        share = Decimal(repr(round(float(self.rng.uniform(0.7, 1.0)), 3)))
        actual = max((cap * share).quantize(CENT, rounding=ROUND_DOWN), unit_cost)
        actual = min(actual, cap)
        pid = self.next_id("product")
        label = {
            ProductKind.dataset: ("dataset", "数据集"),
            ProductKind.api: ("API", "数据接口"),
            ProductKind.report: ("report", "分析报告"),
        }[kind]
        tr = {
            "deidentified": ("de-identified", "脱敏"),
            "aggregated": ("aggregated", "汇总"),
            "model": ("model-based", "模型"),
        }[transformation]
        base = sources[0]["title"]
        name = f"{base}{tr[1]}{label[1]}" if self.zh else f"{base} — {tr[0]} {label[0]}"
        created = start + timedelta(days=int(self.rng.integers(10, 120)))
        self.add(
            "product",
            {
                "id": pid,
                "code": make_code("product", pid, year=created.year),
                "name": name,
                "operator_id": op["id"],
                "authorization_id": aid,
                "kind": kind,
                "transformation": transformation,
                "billing_unit": unit,
                "unit_cost": unit_cost,
                "price_cap": cap,
                "actual_price": actual,
                "status": ProductStatus.listed,
                "description": name,
                "version": 1,
                "created_at": created,
            },
        )
        for s in sources:
            self.add("productresource", {"product_id": pid, "resource_id": s["id"]})
        self.registration(
            RegistrationSubject.product,
            pid,
            self.operator_account.get(op["id"]),
            self.registrar.get(r),
            created + timedelta(days=3),
        )

    def price_formation(self) -> None:
        """Each operator's cost filing and MAR for the epoch year, as the regulator set them in advance.

        Costs by category (assumption, sandbox figures of a provincial operator): platform 1,200,000; data
        processing 250,000 per resource in scope plus the resources' cost basis; staff 300,000 per product on
        the shelf; security 150,000. Data processing and staff grow with the demand served: a national
        region's are these times its `operations_scale` (platform and security are fixed). Forecast taxes =
        the policy's tax rate on cost plus permitted profit. MAR
        comes from `policy.mar_position`, the rule the workflows use. Then the authorizing body's cap filing
        for each product on the shelf (`cap_filings`), within that MAR.
        """
        from marketplace.policy import load_policy, mar_position

        policy = load_policy(DEFAULT_POLICY)
        year = self.epoch.year
        cost_of = {r["id"]: Decimal(r["cost_basis"] or 0) for r in self.t["resource"]}
        op_of = {a["id"]: a["operator_id"] for a in self.t["authorization"]}
        scope: dict[int, list[int]] = {}
        for ar in self.t["authorizationresource"]:
            scope.setdefault(op_of[ar["authorization_id"]], []).append(ar["resource_id"])
        shelf: dict[int, int] = {}
        for p in self.t["product"]:
            if p["status"] in (ProductStatus.listed, ProductStatus.priced):
                shelf[p["operator_id"]] = shelf.get(p["operator_id"], 0) + 1
        rate = policy.allowed_profit_rate
        scale = self.operations_scale
        for op, res in sorted(scope.items()):
            processing = Decimal(250000) * len(res) + sum(cost_of[r] for r in res)
            costs = {
                "platform": Decimal("1200000.00"),
                "data_processing": (processing * scale).quantize(CENT),
                "staff": (Decimal(300000 * shelf.get(op, 0)) * scale).quantize(CENT),
                "security": Decimal("150000.00"),
            }
            total = sum(costs.values(), Decimal(0)).quantize(CENT)
            costs = {k: str(v) for k, v in costs.items()}
            taxes = (total * (1 + rate) * policy.pricing.tax.rate).quantize(CENT)
            fid = self.next_id("costfiling")
            self.add(
                "costfiling",
                {
                    "id": fid,
                    "code": make_code("costfiling", fid, year=year),
                    "operator_id": op,
                    "year": year,
                    "costs": costs,
                    "subsidy": Decimal("0.00"),
                    "operating_cost": total,
                    "taxes": taxes,
                    "basis": "seeded: cost basis of the resources in the operator's scope",
                    "filed_by": None,
                    "filed_at": self.epoch,
                },
            )
            pos = mar_position(policy, period=str(year), operating_cost=total, taxes=taxes)
            self.add(
                "revenueperiod",
                {
                    "operator_id": op,
                    "year": year,
                    "operating_cost": pos.operating_cost,
                    "profit_rate": pos.profit_rate,
                    "taxes": pos.taxes,
                    "mar": pos.mar,
                    "deduction": pos.deduction,
                    "revenue": Decimal("0.00"),
                    "base_mar": pos.base_mar,
                    "cost_filing_id": fid,
                    "determined_by": None,
                    "determined_at": self.epoch,
                    "closed_at": None,
                    "excess": Decimal("0.00"),
                    "version": 1,
                },
            )
            self.cap_filings(policy, op, year, pos.mar)

    def cap_filings(self, policy: Any, op: int, year: int, mar: Decimal) -> None:
        """The authorizing body files the cap of each of `op`'s products on the shelf for `year`, within MAR.

        Forecast volumes per billing unit are drawn from `products.forecast_volume` (assumption: sandbox
        demand of a provincial operator), times the region's `operations_scale`. When the caps at those
        volumes would bring more than MAR, the
        agency files lower forecast volumes in proportion (the caps, set from the products' costs, stay): the
        filings then pass `policy.check_cap_filing`, the rule `workflows.price_formation.file_cap` applies.
        """
        from marketplace.policy import check_cap_filing

        spans = self.spec["products"]["forecast_volume"]
        auth_agency = {a["id"]: a["agency_id"] for a in self.t["authorization"]}
        shelf = [
            p for p in self.t["product"]
            if p["operator_id"] == op and p["status"] in (ProductStatus.listed, ProductStatus.priced)
        ]
        volumes = []
        for p in shelf:
            lo, hi = spans[p["billing_unit"].value]
            drawn = int(self.rng.integers(int(lo), int(hi) + 1))
            volumes.append(max(1, round(drawn * self.operations_scale)))
        total = sum((p["price_cap"] * v for p, v in zip(shelf, volumes, strict=True)), Decimal(0))
        if total > mar:
            volumes = [max(1, int(v * mar / total)) for v in volumes]
        committed = Decimal(0)
        for p, volume in zip(shelf, volumes, strict=True):
            check_cap_filing(
                policy, cap=p["price_cap"], forecast_volume=volume, mar=mar, committed=committed,
                product_code=p["code"],
            )
            forecast = (p["price_cap"] * volume).quantize(CENT)
            committed += forecast
            fid = self.next_id("capfiling")
            self.add(
                "capfiling",
                {
                    "id": fid,
                    "code": make_code("capfiling", fid, year=year),
                    "product_id": p["id"],
                    "operator_id": op,
                    "agency_id": auth_agency[p["authorization_id"]],
                    "year": year,
                    "cap": p["price_cap"],
                    "forecast_volume": volume,
                    "forecast_revenue": forecast,
                    "provisional": False,
                    "basis": "seeded: cap x forecast volume within the operator's MAR",
                    "status": "in_force",
                    "filed_by": None,
                    "filed_at": self.epoch,
                },
            )

    def public_services(self) -> None:
        """Enterprises providing public services (water, power, public transport), one of each per region,
        holding the utilities templates. Built after the rest of the world so every other row keeps its id."""
        enterprises = self.spec.get("public_enterprises", [])
        if not enterprises:
            return
        label = domain_labels()
        weights = np.array([c["weight"] for c in self.cities], float)
        weights = weights / weights.max()
        for r, city in enumerate(self.cities):
            for e in enterprises:
                o = self.org(
                    OrganizationKind.enterprise,
                    self.name_for(city, e[self.locale]),
                    r,
                    sector=label.get(e["domain"], {}).get(self.locale, ""),
                    size=EnterpriseSize.large,
                )
                self.dept[(e["key"], r)] = o
                self.account(self.user(f"req.{e['key']}", r), o, [Role.requester])
                steward = self.account(self.user(f"steward.{e['key']}", r), o, [Role.steward])
                self.stewards[o["id"]] = steward["id"]
            for tpl in templates():
                if any(tpl.holder == e["key"] for e in enterprises):
                    self.resource(tpl, r, city, float(weights[r]))

    def jurisdiction(self) -> None:
        """Per region: the government that authorizes, its designation of the implementing institution (the
        department marked `agency`), and its approved implementation plan listing every resource of the region
        that the default policy lets into authorized operation; the seeded authorizations rest on it.

        Built after everything else, with fixed dates, so the rest of the world is the same as without it.
        """
        from marketplace.policy import load_policy

        grade_channels = load_policy(DEFAULT_POLICY).routing.grade_channels
        agency_key = next(d["key"] for d in self.spec["departments"] if d.get("agency"))
        names = self.spec["names"]
        text = names["plan"][self.locale]
        designated = self.epoch - timedelta(days=900)
        drafted = datetime(2023, 9, 1, 9, tzinfo=UTC)
        approved = datetime(2023, 10, 9, 9, tzinfo=UTC)
        holder_region = {o["id"]: o["region"] for o in self.t["organization"]}
        plan_of: dict[str, int] = {}
        for r, city in enumerate(self.cities):
            oid = self.next_id("organization")
            gov = self.add(
                "organization",
                {
                    "id": oid,
                    "code": make_code("organization", oid),
                    "name": self.name_for(city, names["government"][self.locale]),
                    "kind": OrganizationKind.government,
                    "size": None,
                    "region": city["name"],
                    "sector": "",
                    "version": 1,
                    "created_at": self.epoch - timedelta(days=4000),
                },
            )
            official = self.account(self.user("authorizer.government", r), gov, [Role.authorizer])
            institution = self.dept[(agency_key, r)]
            self.add(
                "designation",
                {
                    "government_id": gov["id"],
                    "institution_id": institution["id"],
                    "region": city["name"],
                    "domain": "",
                    "designated_at": designated,
                },
            )
            pid = self.next_id("implementationplan")
            self.add(
                "implementationplan",
                {
                    "id": pid,
                    "code": make_code("plan", pid, year=drafted.year),
                    "institution_id": institution["id"],
                    "government_id": gov["id"],
                    "scope": text["scope"],
                    "scenarios": list(text["scenarios"]),
                    "security_measures": list(text["security_measures"]),
                    "expected_products": list(text["expected_products"]),
                    "status": PlanStatus.approved,
                    "drafted_at": drafted,
                    "decided_at": approved,
                    "decided_by": official["id"],
                    "decision_note": "",
                    "version": 1,
                },
            )
            plan_of[city["name"]] = pid
            for res in self.t["resource"]:
                if (
                    holder_region[res["holder_id"]] == city["name"]
                    and Channel.authorized_operation in getattr(grade_channels, res["grade"].value)
                ):
                    self.add("planresource", {"plan_id": pid, "resource_id": res["id"]})
        for a in self.t["authorization"]:
            a["plan_id"] = plan_of[holder_region[a["agency_id"]]]
        self.selection()

    def selection(self) -> None:
        """Each seeded authorization rests on a competitive round of its institution under the region's plan:
        every operator of the region applied (declaring security protection level 3 and its registered
        capital), the panel scored them, and the authorization's operator won on the policy's weights
        (fixed sandbox scores: winner 85/80/75/70, the others 75/70/70/65). Fixed dates between the plan's
        approval and the earliest authorization, so the rest of the world is unchanged."""
        from marketplace.policy import (
            agreement_obligations,
            load_policy,
            rank_applicants,
            total_score,
            working_day_after,
        )

        policy = load_policy(DEFAULT_POLICY)
        opened = datetime(2023, 10, 16, 9, tzinfo=UTC)
        filed = datetime(2023, 10, 20, 9, tzinfo=UTC)
        decided = datetime(2023, 11, 10, 9, tzinfo=UTC)
        region_of = {o["id"]: o["region"] for o in self.t["organization"]}
        code_of = {o["id"]: o["code"] for o in self.t["organization"]}
        operators = [o for o in self.t["organization"] if o["kind"] is OrganizationKind.operator]
        scope: dict[int, list[int]] = {}
        for ar in self.t["authorizationresource"]:
            scope.setdefault(ar["authorization_id"], []).append(ar["resource_id"])
        win = {"technical": 85, "security": 80, "service_plan": 75, "fee_proposal": 70}
        lose = {"technical": 75, "security": 70, "service_plan": 70, "fee_proposal": 65}
        measures = {p["id"]: p["security_measures"] for p in self.t["implementationplan"]}
        for a in self.t["authorization"]:
            region = region_of[a["agency_id"]]
            applicants = [o for o in operators if o["region"] == region]
            scores = {o["id"]: win if o["id"] == a["operator_id"] else lose for o in applicants}
            ranked = rank_applicants(policy, [(code_of[o["id"]], scores[o["id"]]) for o in applicants])
            sid = self.next_id("selectionround")
            r = next(k for k, c in enumerate(self.cities) if c["name"] == region)
            registrar = self.registrar.get(r)
            self.add(
                "selectionround",
                {
                    "id": sid,
                    "code": make_code("selection", sid, year=opened.year),
                    "institution_id": a["agency_id"],
                    "plan_id": a["plan_id"],
                    "method": SelectionMethod.competitive,
                    "status": SelectionStatus.decided if ranked.winner else SelectionStatus.failed,
                    "title": f"{a['code']}",
                    "opened_at": opened,
                    "opened_by": registrar,
                    "weights": policy.selection.weights.model_dump(),
                    "decided_at": decided,
                    "decided_by": registrar,
                    "winner_id": a["operator_id"] if ranked.winner else None,
                    "grounds": "",
                    "justification": "",
                    "decision": {
                        "ranking": [{"operator": op, "total": str(t)} for op, t in ranked.ranking],
                        "disqualified": [],
                        "winner": ranked.winner,
                        "reason": ranked.reason,
                        "note": "",
                    },
                    "notice_until": working_day_after(
                        policy, decided.date(), policy.selection.notice_working_days
                    ),
                    "version": 1,
                },
            )
            for rid in scope.get(a["id"], []):
                self.add("selectionresource", {"selection_id": sid, "resource_id": rid})
            for o in applicants:
                self.add(
                    "selectionapplication",
                    {
                        "id": self.next_id("selectionapplication"),
                        "selection_id": sid,
                        "operator_id": o["id"],
                        "filed_by": self.operator_account.get(o["id"]),
                        "filed_at": filed,
                        "security_level": 3,
                        "registered_capital": Decimal("50000000.00")
                        if o["id"] == a["operator_id"] else Decimal("30000000.00"),
                        "statement": "",
                        "qualified": True,
                        "refusal_rule": "",
                        "refusal_reason": "",
                        "scores": dict(scores[o["id"]]),
                        "total": total_score(policy, scores[o["id"]]),
                    },
                )
            a["selection_id"] = sid
            a["obligations"] = [o.as_dict() for o in agreement_obligations(policy, measures[a["plan_id"]])]

    def sharing_lists(self) -> None:
        """Some departments' sharing responsibility lists, published by their region's data authority (the
        registrar): each department holding shareable data gets a list with probability 1/2, listing one or
        two of its shareable resources, each for one to two named departments of the region or for any
        department with the duty. Drawn from a generator of their own, after everything else, so the rest of
        the world is the same as without them."""
        from marketplace.policy import load_policy

        rng = np.random.default_rng([self.seed, 2025, 16, *self.stream])
        grade_channels = load_policy(DEFAULT_POLICY).routing.grade_channels
        base_published = self.epoch - timedelta(days=200)
        for r, city in enumerate(self.cities):
            departments = [
                o for (key, region), o in sorted(self.dept.items(), key=lambda kv: kv[1]["id"])
                if region == r and o["kind"] is OrganizationKind.department
            ]
            for dept in departments:
                shareable = [
                    res for res in self.t["resource"]
                    if res["holder_id"] == dept["id"]
                    and res["sharing_attribute"] is not SharingAttribute.not_shared
                    and Channel.sharing in getattr(grade_channels, res["grade"].value)
                ]
                if not shareable or rng.random() >= 0.5:
                    continue
                lid = self.next_id("sharinglist")
                basis = (
                    f"{city['name']}数据主管部门发布" if self.zh
                    else f"Issued by the data authority of {city['name']}"
                )
                published = self.list_published(len(self.t["sharinglist"]), base_published)
                if self.list_batches:
                    batch = self.list_batch(len(self.t["sharinglist"]))
                    basis += f"（第{batch}批）" if self.zh else f" (batch {batch})"
                self.add(
                    "sharinglist",
                    {
                        "id": lid,
                        "code": make_code("sharinglist", lid, year=published.year),
                        "holder_id": dept["id"],
                        "basis": basis,
                        "published_at": published,
                        "published_by": self.registrar.get(r),
                        "updated_at": published,
                        "version": 1,
                    },
                )
                others = [o["id"] for o in departments if o["id"] != dept["id"]]
                picks = rng.permutation(len(shareable))[: int(rng.integers(1, 3))]
                for i in sorted(picks.tolist()):
                    eid = self.next_id("sharinglistentry")
                    named = int(rng.integers(0, 3))  # 0: any department with the duty
                    recipients = sorted(int(x) for x in rng.choice(others, size=min(named, len(others)),
                                                                   replace=False)) if named else []
                    self.add(
                        "sharinglistentry",
                        {
                            "id": eid,
                            "code": make_code("listentry", eid, year=published.year),
                            "list_id": lid,
                            "resource_id": shareable[i]["id"],
                            "recipients": recipients,
                            "purposes": ["public_governance"],
                            "duty": "接收部门依法履职所需" if self.zh else "the recipients' statutory duties",
                            "status": "in_force",
                            "added_at": published,
                            "withdrawn_at": None,
                            "version": 1,
                        },
                    )

    def list_batch(self, j: int) -> int:
        """The publication batch (1-based) of the world's j-th sharing list (0-based): round robin."""
        assert self.list_batches is not None
        return j % self.list_batches[0] + 1

    def list_published(self, j: int, base: datetime) -> datetime:
        """When the j-th list was published: `base`, or with batches, batch b `interval x (batches - b)` days
        earlier (the last batch on `base`)."""
        if not self.list_batches:
            return base
        batches, interval = self.list_batches
        return base - timedelta(days=interval * (batches - self.list_batch(j)))

    def settings(self) -> None:
        for key, value in (
            ("policy", self.spec["policy"]),
            ("world", {"seed": self.seed, "size": self.size, "locale": self.locale}),
        ):
            self.add("sandboxsetting", {"key": key, "value": value, "version": 1, "updated_at": self.epoch})

    def build(self) -> World:
        self.parties()
        self.catalog()
        self.operation()
        self.price_formation()
        self.public_services()
        self.jurisdiction()
        self.sharing_lists()
        self.settings()
        return World(self.seed, self.size, self.locale, self.t)


def build_world(seed: int, size: str = "small", locale: str = "en_US") -> World:
    """The synthetic world of `seed`, in memory; same arguments => the same rows.

    The `national` world is built region by region (marketplace.synth.national) and joined here; to write it
    into a database without holding it all, `seed_sandbox` streams the regions instead.
    """
    if check_size(size) == "national":
        from marketplace.synth.national import build_national

        return build_national(check_seed(seed), check_locale(locale))
    world = _Builder(check_seed(seed), size, check_locale(locale)).build()
    check_world(world)
    return world


def build_part(
    seed: int,
    size: str,
    locale: str,
    *,
    cities: list[dict[str, Any]],
    sizes: dict[str, Any],
    id_base: int,
    user_suffix: str,
    stream: tuple[int, ...],
    list_batches: tuple[int, int] | None,
) -> World:
    """One part of a larger world (a region of `national`), built alone: its own cities and counts, ids from
    `id_base + 1`, usernames ending in `user_suffix`, generators seeded by (seed, *stream). No settings rows
    (the whole world writes them once). Checked like a whole world."""
    builder = _Builder(
        check_seed(seed), size, check_locale(locale), cities=cities, sizes=sizes, id_base=id_base,
        user_suffix=user_suffix, stream=stream, list_batches=list_batches,
    )
    builder.parties()
    builder.catalog()
    builder.operation()
    builder.price_formation()
    builder.public_services()
    builder.jurisdiction()
    builder.sharing_lists()
    world = World(seed, size, locale, builder.t)
    check_world(world)
    return world


def channel_problems(
    grade: Grade, sharing: SharingAttribute, opening: OpeningAttribute, personal: bool, in_operation: bool
) -> list[str]:
    """Where a resource's attributes break the default policy's grade -> channel table; [] when consistent.

    The table itself is read from the policy (`routing.grade_channels`), so the world follows the rule instead
    of restating it.
    """
    from marketplace.policy import load_policy

    rules = load_policy(DEFAULT_POLICY).routing
    channels = set(getattr(rules.grade_channels, grade.value))
    out = []
    if Channel.sharing not in channels and sharing is not SharingAttribute.not_shared:
        out.append(f"{grade.value} data is not shared under {DEFAULT_POLICY}")
    if Channel.opening not in channels and opening is not OpeningAttribute.not_open:
        out.append(f"{grade.value} data is never opened under {DEFAULT_POLICY}")
    if Channel.opening in channels and opening is OpeningAttribute.not_open:
        out.append(f"{grade.value} data is opened under {DEFAULT_POLICY}")
    if Channel.authorized_operation not in channels and in_operation:
        out.append(f"{grade.value} data has no authorized operation under {DEFAULT_POLICY}")
    if (personal and rules.personal_info_forces_conditional_open
            and opening is OpeningAttribute.unconditional):
        out.append("data with personal information is opened conditionally")
    return out


def check_world(world: World) -> None:
    """Fail loudly when a built world breaks the grade -> channel rule or the product pricing rule."""
    in_scope = {r["resource_id"] for r in world.tables["authorizationresource"]}
    problems = []
    for res in world.resources:
        for p in channel_problems(
            res.grade,
            res.sharing_attribute,
            res.opening_attribute,
            res.contains_personal_info,
            res.id in in_scope,
        ):
            problems.append(f"{res.code} ({res.template}): {p}")
    for p in world.tables["product"]:
        if not (p["unit_cost"] <= p["actual_price"] <= p["price_cap"]) or p["transformation"] == "raw":
            problems.append(f"{p['code']}: price or transformation out of rule")
    filed: dict[int, Decimal] = {}
    cap_of = {p["id"]: p["price_cap"] for p in world.tables["product"]}
    for f in world.tables["capfiling"]:
        filed[f["operator_id"]] = filed.get(f["operator_id"], Decimal(0)) + f["forecast_revenue"]
        if f["cap"] != cap_of[f["product_id"]]:
            problems.append(f"{f['code']}: filed cap {f['cap']} is not the product's cap")
    for period in world.tables["revenueperiod"]:
        if filed.get(period["operator_id"], Decimal(0)) > period["mar"]:
            problems.append(f"operator {period['operator_id']}: filed caps bring more than its MAR")
    if problems:
        raise AssertionError("synthetic world breaks the policy: " + "; ".join(problems))
