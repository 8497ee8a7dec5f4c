"""Simulated participants: seeded agents that act through a `ParticipantSession`, hence through the workflows.

Used for the trainer's background traffic and for the load test. Each `step()` is one action a person could do
in the participant notebook: file a request, accept a quote, decide a review stage, or read a queue. Draws
come from the agent's own `random.Random(seed)`; domain refusals (policy refusal, conflict, transition,
permission) are expected outcomes and are reported, never raised.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marketplace.errors import ConflictError, MarketplaceError
from marketplace.vocabulary import OrganizationKind, Role
from marketplace.workshop.session import ParticipantSession, Receipt

REVIEWER_ROLES = frozenset({Role.steward, Role.security_reviewer, Role.registrar})
DECISIONS = [("approve", 0.75), ("return_for_revision", 0.1), ("reject", 0.15)]


@dataclass
class Outcome:
    """What one step did: action name, whether it changed state (`receipt`), the error class if refused."""

    action: str
    latency_s: float
    receipt: Receipt | None = None
    error: str = ""
    message: str = ""
    key: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def conflict(self) -> bool:
        return self.error == ConflictError.__name__


@dataclass
class Agent:
    """One simulated participant, bound to its session."""

    session: ParticipantSession
    seed: int
    on_start: Callable[[str, str], None] | None = None  # called with (action, key) before a write
    rng: random.Random = field(init=False)
    roles: frozenset[Role] = field(init=False)
    org_kind: str = field(init=False)
    org_id: int = field(init=False)
    _catalog: list[dict[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        me = self.session.whoami()
        self.roles, self.org_kind, self.org_id = me.roles, me.organization_kind, me.organization_id

    # ------------------------------------------------------------ one step

    def step(self) -> list[Outcome]:
        """One unit of behaviour (a read, possibly followed by the write it leads to)."""
        if Role.requester in self.roles:
            return self._requester_step()
        if self.roles & REVIEWER_ROLES:
            return self._reviewer_step()
        return [self._timed("read_products", lambda: self.session.my_products())]

    def _timed(self, action: str, fn: Callable[[], Any], key: str = "") -> Outcome:
        if key and self.on_start is not None:
            self.on_start(action, key)
        t0 = time.perf_counter()
        try:
            result = fn()
        except MarketplaceError as exc:
            # Through the workshop server the refusal's kind travels as `error` (ServerRefused).
            kind = getattr(exc, "error", None) or type(exc).__name__
            return Outcome(action, time.perf_counter() - t0, error=kind, message=str(exc), key=key)
        out = Outcome(action, time.perf_counter() - t0, key=key)
        if isinstance(result, Receipt):
            out.receipt = result
        return out

    def _requester_step(self) -> list[Outcome]:
        r = self.rng.random()
        if r < 0.35:
            return [self._file()]
        if r < 0.6:
            mine: list[dict[str, Any]] = []
            outs = [self._timed("read_requests", lambda: mine.extend(self.session.my_requests()))]
            if outs[0].ok:
                due = [q for q in mine if q["fee_due"]]
                if due:
                    target = self.rng.choice(due)
                    key = uuid.uuid4().hex
                    outs.append(
                        self._timed(
                            "accept_quote", lambda: self.session.accept_quote(target["id"], key=key), key
                        )
                    )
            return outs
        return [self._timed("read_catalog", self._refresh_catalog)]

    def _refresh_catalog(self) -> list[dict[str, Any]]:
        self._catalog = self.session.catalog()
        return self._catalog

    def warm_up(self) -> None:
        """Load what opening the participant panel loads (the catalogue), outside any measurement."""
        if Role.requester in self.roles:
            self._refresh_catalog()

    def file_once(self) -> list[Outcome]:
        """File one request now (fault tests need a write at a known moment)."""
        return [self._file()]

    def _file(self) -> Outcome:
        if not self._catalog:
            self._catalog = self.session.catalog()
        dept = self.org_kind == OrganizationKind.department.value
        options = []
        for item in self._catalog:
            if item["kind"] == "resource":
                if dept and "sharing" in item["channels"] and item["holder_id"] != self.org_id:
                    options.append((item, "sharing", "public_governance"))
                elif not dept and "opening" in item["channels"]:
                    options.append((item, "opening", self.rng.choice(["research", "industry_development"])))
            else:
                options.append(
                    (
                        item,
                        "authorized_operation",
                        self.rng.choice(["industry_development", "sector_development", "public_welfare"]),
                    )
                )
        if not options:
            return Outcome("file_request", 0.0, error="NothingToRequest", message="empty catalogue")
        item, channel, purpose = self.rng.choice(options)
        key = uuid.uuid4().hex
        volume = self.rng.choice([1, 10, 100, 1000]) if item["kind"] == "product" else 1
        target = (
            {"product": item["code"]}
            if item["kind"] == "product"
            else {"resource": item["code"], "channel": channel}
        )

        def fn() -> Receipt:
            return self.session.file_request(
                purpose=purpose, volume=volume, use_statement="simulated participant", key=key, **target
            )

        return self._timed("file_request", fn, key)

    def _reviewer_step(self) -> list[Outcome]:
        queue: list[dict[str, Any]] = []

        def read() -> list[dict[str, Any]]:
            queue.extend(self.session.review_queue(limit=20))  # the first page, as the panel shows it
            return queue

        outs = [self._timed("read_queue", read)]
        if queue and self.rng.random() < 0.8:
            item = self.rng.choice(queue[:5])
            r, decision = self.rng.random(), "approve"
            acc = 0.0
            for d, p in DECISIONS:
                acc += p
                if r < acc:
                    decision = d
                    break
            reason = "" if decision == "approve" else "simulated reviewer: please clarify the purpose"
            key = uuid.uuid4().hex
            outs.append(
                self._timed(
                    "decide",
                    lambda: self.session.decide(item["review_id"], decision, reason=reason, key=key),
                    key,
                )
            )
        return outs
