"""Throughput of `route` and `quote` on one core, against a trivial-call baseline measured in the same run.

The simulator calls both hundreds of thousands of times per run; the target is >= 100,000 of each per
second. Inputs are a fixed, seeded mix of channels, grades, purposes, requesters and volumes, so the figures
include the refusal paths and tier arithmetic, not one cached case.

    .venv/bin/python benchmarks/bench_policy.py [--n 200000] [--policy national-2025]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from marketplace.policy import Requester, RequestFacts, Target, load_policy, quote, route
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    EnterpriseSize,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    Purpose,
    SharingAttribute,
)


def make_inputs(seed: int, size: int = 2000):
    rng = random.Random(seed)
    routes, quotes = [], []
    for i in range(size):
        channel = rng.choice(list(Channel))
        target = Target(
            channel=channel,
            grade=rng.choices(list(Grade), weights=[80, 18, 2])[0],
            sharing_attribute=rng.choice(list(SharingAttribute)),
            opening_attribute=rng.choice(list(OpeningAttribute)),
            holder_id=rng.randrange(50),
            contains_personal_info=rng.random() < 0.4,
            published=rng.random() < 0.5,
            is_product=channel is Channel.authorized_operation,
            deidentified=rng.random() < 0.7,
            aggregated=rng.random() < 0.3,
            billing_unit=rng.choice(list(BillingUnit)),
            price_cap=Decimal(rng.randrange(10, 5000)) / 100,
            actual_price=Decimal(rng.randrange(5, 4000)) / 100,
            field_names=("a", "b", "c", "d"),
        )
        kind = rng.choice(list(OrganizationKind))
        requester = Requester(
            i, kind, rng.choice(list(EnterpriseSize)) if kind is OrganizationKind.enterprise else None
        )
        purpose = rng.choice(list(Purpose))
        facts = RequestFacts(
            purpose,
            volume=rng.choice([1, 10, 500, 12_000, 150_000]),
            fields=rng.choice([(), ("a", "b")]),
            duration_days=rng.choice([90, 365, 2000]),
        )
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        routes.append((facts, target, requester, start))
        product = Target(
            channel=Channel.authorized_operation,
            grade=Grade.general,
            sharing_attribute=SharingAttribute.conditional,
            opening_attribute=OpeningAttribute.conditional,
            holder_id=1,
            contains_personal_info=True,
            is_product=True,
            deidentified=True,
            billing_unit=target.billing_unit,
            price_cap=target.price_cap,
            actual_price=target.actual_price,
        )
        quotes.append((product, facts, requester))
    return routes, quotes


def rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--policy", default="national-2025")
    args = ap.parse_args()
    policy = load_policy(args.policy)
    routes, quotes = make_inputs(seed=20250101)
    m = len(routes)
    table = {i: i for i in range(m)}

    def trivial(i: int) -> int:
        return table.get(i % m, 0)

    def run_baseline(n: int) -> None:
        for i in range(n):
            trivial(i)

    def run_routes(n: int) -> None:
        for i in range(n):
            facts, target, requester, start = routes[i % m]
            route(policy, facts, target, requester, start=start)

    def run_quotes(n: int) -> None:
        for i in range(n):
            product, facts, requester = quotes[i % m]
            quote(policy, product, facts, requester)

    paid = [x for x in quotes if x[1].purpose in policy.purposes.paid]

    def run_paid_quotes(n: int) -> None:
        k = len(paid)
        for i in range(n):
            product, facts, requester = paid[i % k]
            quote(policy, product, facts, requester)

    run_routes(m)  # warm the per-policy tables and caches
    run_quotes(m)
    base = rate(run_baseline, args.n)
    r = rate(run_routes, args.n)
    q = rate(run_quotes, args.n)
    qp = rate(run_paid_quotes, args.n)
    print(f"policy {policy.name}, {args.n:,} calls each, one core")
    print(f"{'baseline (dict lookup in a function)':<38}{base:>12,.0f} calls/s")
    for label, x in (("route", r), ("quote (mixed purposes)", q), ("quote (paid purposes only)", qp)):
        verdict = "met" if x >= 100_000 else "NOT met"
        print(f"{label:<38}{x:>12,.0f} calls/s  ({base / x:5.1f}x baseline cost)  target 100,000: {verdict}")


if __name__ == "__main__":
    main()
