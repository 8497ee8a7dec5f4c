"""Background traffic for a live workshop: a few simulated agents acting through the real workflows.

The agents are ordinary workshop seats in the `background` group (created by a trainer operation the first
time, their join codes re-issued in memory afterwards), so everything they do is role-checked and audited
exactly like a participant's action. `step()` runs one round synchronously (deterministic for a seed when
nothing else runs); `start()` runs rounds in a daemon thread until `stop()`.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

from sqlmodel import select

from marketplace.models import Participant
from marketplace.workshop import roster
from marketplace.workshop.agents import Agent, Outcome
from marketplace.workshop.session import join, run_retrying

if TYPE_CHECKING:
    from marketplace.workshop.facilitator import Facilitator

BACKGROUND_MIX = {"department": 2, "enterprise": 2, "registrar": 1, "steward": 2, "security_reviewer": 1}


class BackgroundTraffic:
    """Seeded simulated agents; `counts` tallies what they did (action or error class)."""

    def __init__(self, agents: list[Agent]) -> None:
        self.agents = agents
        self.counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.interval_s = 2.0

    @classmethod
    def start_for(cls, fac: Facilitator, *, agents: int = 6, seed: int = 0) -> BackgroundTraffic:
        """Agents for the trainer `fac` (seats created or their codes re-issued: both trainer operations)."""
        seats = run_retrying(
            fac.engine,
            lambda s: list(
                s.exec(
                    select(Participant.seat)
                    .where(Participant.group == roster.BACKGROUND_GROUP)
                    .order_by(Participant.seat)
                ).all()
            ),
        )
        codes: list[str] = []
        if len(seats) < agents:
            mix = _scaled_mix(agents - len(seats))
            entries = fac.create_participants(mix, seed=seed, group=roster.BACKGROUND_GROUP)
            codes += [e.join_code for e in entries]
        codes += [fac.reissue_code(seat) for seat in seats[: max(0, agents - len(codes))]]
        return cls(
            [Agent(join(code, fac.engine), seed=seed * 1000 + i) for i, code in enumerate(codes[:agents])]
        )

    def step(self) -> list[Outcome]:
        """One round: every agent takes one step."""
        outs: list[Outcome] = []
        for agent in self.agents:
            for out in agent.step():
                self.counts[out.action if out.ok else f"{out.action}:{out.error}"] += 1
                outs.append(out)
        return outs

    def start(self, interval_s: float = 2.0) -> None:
        if self.running:
            return
        self.interval_s = interval_s
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="workshop-background-traffic", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.step()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _scaled_mix(n: int) -> dict[str, int]:
    groups = list(BACKGROUND_MIX)
    mix = {g: 0 for g in groups}
    order = [g for g, k in BACKGROUND_MIX.items() for _ in range(k)]
    for i in range(n):
        mix[order[i % len(order)]] += 1
    return {g: k for g, k in mix.items() if k}
